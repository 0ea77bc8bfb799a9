"""The params schema of datasets (`datasets:`, `dataset_variants:`) and resources: where each file
comes from with its checksum, and how preprocess reads it."""

from __future__ import annotations

import dataclasses
import re
from pathlib import PurePosixPath
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, StrictBool, StrictFloat, StrictInt, StrictStr
from pydantic.dataclasses import dataclass

from stages.schema import CHECKED, Fraction, Positive

NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]*")  # dataset and experiment names: they are folder and file names


def _inside(name: str) -> str:
    if PurePosixPath(name).is_absolute() or ".." in PurePosixPath(name).parts:
        raise ValueError("must be a relative path inside the dataset folder")
    return name


Sha256 = Annotated[StrictStr, Field(pattern=r"^[0-9a-f]{64}$")]
FileName = Annotated[StrictStr, AfterValidator(_inside)]
OpenFraction = Annotated[StrictFloat, Field(gt=0, lt=1)]


@dataclass(frozen=True, config=CHECKED)
class Alternative:
    """Another file accepted in place of a source (a mirror's repack), with its own checksum."""

    name: FileName
    sha256: Sha256


@dataclass(frozen=True, config=CHECKED)
class Fallback:
    """Another place to fetch a source from when its `url` fails: a byte-identical public copy,
    or the `member` of a zip archive at `url` (read without unpacking anything else)."""

    url: StrictStr
    member: StrictStr | None = None


@dataclass(frozen=True, config=CHECKED)
class SourceFile:
    """One file of a dataset. From a mirror, the first of this file and its `alternatives` found
    under DATA_MIRROR; else from `url`, then each of `fallbacks` in order, until one verifies."""

    name: FileName
    url: StrictStr
    sha256: Sha256
    mirror: StrictStr | None = None  # path under DATA_MIRROR; default <dataset>/<name>
    alternatives: list[Alternative] = dataclasses.field(default_factory=list)
    fallbacks: list[Fallback] = dataclasses.field(default_factory=list)


OneFile = Annotated[list[SourceFile], Field(min_length=1, max_length=1)]


@dataclass(frozen=True, config=CHECKED)
class SeriesDataset:
    """A univariate series in one CSV file, split in time order into train and test parts."""

    kind: Literal["series"]
    files: OneFile
    value_column: StrictStr
    time_column: StrictStr | None
    sort: StrictBool
    delimiter: StrictStr
    header: StrictBool
    train_fraction: OpenFraction
    seasonal_period: Positive
    fill: Literal["error", "drop", "previous", "interpolate"]
    log: StrictBool
    difference: Annotated[StrictInt, Field(ge=0)]


@dataclass(frozen=True, config=CHECKED)
class TextDataset:
    """Labelled texts in one CSV/TSV file, split once into train / validation / test.

    `split: stratified` keeps class proportions and puts repeated texts on one side;
    `split: ordered` takes the parts in file order, as the BBC write-up does.
    """

    kind: Literal["text"]
    files: OneFile
    text_column: StrictStr
    label_column: StrictStr
    missing_labels: Literal["refuse", "drop", "keep"]
    delimiter: StrictStr
    header: StrictBool
    quoting: Literal["minimal", "none"]
    rows_span_lines: Literal["error", "warn", "allow"]
    split: Literal["stratified", "ordered"]
    validation_fraction: Fraction
    test_fraction: OpenFraction
    split_seed: StrictInt
    group_column: StrictStr | None
    classes: list[StrictStr] | None
    class_names: list[StrictStr] | None
    positive_class: StrictStr | None
    max_texts: Positive | None

    def __post_init__(self) -> None:
        if self.validation_fraction + self.test_fraction >= 1:
            raise ValueError("test_fraction: validation_fraction + test_fraction must stay below 1")
        if self.class_names is not None and (self.classes is None or len(self.class_names) != len(self.classes)):
            raise ValueError("class_names: needs `classes`, one name for each")
        if self.class_names is not None and self.positive_class is not None:
            raise ValueError("class_names: not with positive_class (its classes are named by it)")


@dataclass(frozen=True, config=CHECKED)
class TextFoldersDataset:
    """Labelled texts as files <root>/<train|test>/<label>/*.txt (the IMDB layout) in one tar
    archive, read from the archive itself (unpacked, IMDB's 50,000 small files made every `dvc
    status` walk them): the folders give the labels and the train/test split; validation is
    carved from train, stratified."""

    kind: Literal["text_folders"]
    files: OneFile
    root: StrictStr
    labels: Annotated[list[StrictStr], Field(min_length=2)]
    validation_fraction: OpenFraction
    split_seed: StrictInt
    max_texts: Positive | None


@dataclass(frozen=True, config=CHECKED)
class CorpusDataset:
    """A plain-text corpus; the last `validation_fraction` of its documents (or lines) is held out.

    `document_pattern` is a regex matching the line that starts a document (a rhyme's
    CAPITALISED title), so held-out text never shares a document with training text.
    """

    kind: Literal["corpus"]
    files: OneFile
    start_marker: StrictStr | None
    end_marker: StrictStr | None
    document_pattern: StrictStr | None
    headings: Literal["text", "separators"]
    validation_fraction: OpenFraction

    def __post_init__(self) -> None:
        if self.headings == "separators" and self.document_pattern is None:
            raise ValueError("headings: separators needs a document_pattern that matches the headings")
        if self.document_pattern is not None:
            try:
                re.compile(self.document_pattern)
            except re.error as error:
                raise ValueError(f"document_pattern: not a valid regular expression ({error})") from None


@dataclass(frozen=True, config=CHECKED)
class Resource:
    """Files a stage needs that are not a dataset (NLTK's stopword list)."""

    files: list[SourceFile]


DATASET_KINDS: dict[str, type] = {
    "series": SeriesDataset,
    "text": TextDataset,
    "text_folders": TextFoldersDataset,
    "corpus": CorpusDataset,
}
Dataset = SeriesDataset | TextDataset | TextFoldersDataset | CorpusDataset
