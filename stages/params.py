"""Load params.yaml into checked dataclasses, so a typo fails at once with the key's full name."""

from __future__ import annotations

import dataclasses
import re
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml

from stages.io import PipelineError

PARAMS_FILE = Path("params.yaml")


@dataclass(frozen=True)
class Alternative:
    """Another file accepted in place of a source (a mirror's repack), with its own checksum."""

    name: str
    sha256: str

    def check(self) -> None:
        _check_file(self.name, self.sha256)


def _check_file(name: str, sha256: str) -> None:
    if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
        raise ValueError("sha256: must be 64 lowercase hex digits")
    if Path(name).is_absolute() or ".." in Path(name).parts:
        raise ValueError("name: must be a relative path inside the dataset folder")


@dataclass(frozen=True)
class Fallback:
    """Another place to fetch a source from when its `url` fails: a byte-identical public copy,
    or the `member` of a zip archive at `url` (read without unpacking anything else)."""

    url: str
    member: str | None = None


@dataclass(frozen=True)
class SourceFile:
    """One file of a dataset. From a mirror, the first of this file and its `alternatives` found
    under DATA_MIRROR; else from `url`, then each of `fallbacks` in order, until one verifies."""

    name: str
    url: str
    sha256: str
    mirror: str | None = None  # path under DATA_MIRROR; default <dataset>/<name>
    alternatives: list[Alternative] = field(default_factory=list)
    fallbacks: list[Fallback] = field(default_factory=list)

    def check(self) -> None:
        _check_file(self.name, self.sha256)


@dataclass(frozen=True)
class SeriesDataset:
    """A univariate series in a CSV file, split in time order into train and test parts."""

    kind: Literal["series"]
    files: list[SourceFile]
    value_column: str
    time_column: str | None
    delimiter: str
    header: bool
    train_fraction: float
    seasonal_period: int
    fill: Literal["error", "drop", "previous", "interpolate"]
    log: bool
    difference: int

    def check(self) -> None:
        if len(self.files) != 1:
            raise ValueError("files: a series dataset has exactly one CSV file")
        _check_fraction("train_fraction", self.train_fraction)
        if self.seasonal_period < 1:
            raise ValueError("seasonal_period: must be >= 1")
        if self.difference < 0:
            raise ValueError("difference: must be >= 0")


@dataclass(frozen=True)
class ForecastExperiment:
    """One-step-ahead LSTM forecaster; `framing` says whether the window is features or time steps."""

    task: Literal["forecast"]
    dataset: str
    look_back: int
    framing: Literal["features", "timesteps"]
    units: list[int]
    epochs: int
    batch_size: int
    seeds: list[int]
    stateful: bool
    context: Literal["part", "series"]
    learning_rate: float
    description: str

    def check(self) -> None:
        if self.look_back < 1:
            raise ValueError("look_back: must be >= 1")
        if not self.units or min(self.units) < 1:
            raise ValueError("units: needs at least one layer, each with >= 1 unit")
        _check_training(self.epochs, self.batch_size, self.seeds, self.learning_rate)


def _check_fraction(name: str, value: float, low_inclusive: bool = False) -> None:
    if not (0 <= value < 1 if low_inclusive else 0 < value < 1):
        raise ValueError(f"{name}: must be inside {'[0' if low_inclusive else '(0'}, 1)")


@dataclass(frozen=True)
class TextDataset:
    """Labelled texts in a CSV/TSV file, split once into train / validation / test.

    `split: stratified` keeps class proportions and puts repeated texts on one side;
    `split: ordered` takes the parts in file order, as the BBC write-up does.
    """

    kind: Literal["text"]
    files: list[SourceFile]
    text_column: str
    label_column: str
    delimiter: str
    header: bool
    quoting: Literal["minimal", "none"]
    rows_span_lines: Literal["error", "warn", "allow"]
    split: Literal["stratified", "ordered"]
    validation_fraction: float
    test_fraction: float
    split_seed: int
    group_column: str | None
    classes: list[str] | None
    class_names: list[str] | None
    positive_class: str | None
    max_texts: int | None

    def check(self) -> None:
        if self.max_texts is not None and self.max_texts < 1:
            raise ValueError("max_texts: must be >= 1")
        if len(self.files) != 1:
            raise ValueError("files: a text dataset has exactly one CSV/TSV file")
        _check_fraction("validation_fraction", self.validation_fraction, low_inclusive=True)
        _check_fraction("test_fraction", self.test_fraction)
        if self.validation_fraction + self.test_fraction >= 1:
            raise ValueError("test_fraction: validation_fraction + test_fraction must stay below 1")
        if self.class_names is not None and (self.classes is None or len(self.class_names) != len(self.classes)):
            raise ValueError("class_names: needs `classes`, one name for each")
        if self.class_names is not None and self.positive_class is not None:
            raise ValueError("class_names: not with positive_class (its classes are named by it)")


@dataclass(frozen=True)
class TextFoldersDataset:
    """Labelled texts as files <root>/<train|test>/<label>/*.txt (the IMDB layout) in one tar
    archive, read from the archive itself (unpacked, IMDB's 50,000 small files made every `dvc
    status` walk them): the folders give the labels and the train/test split; validation is
    carved from train, stratified."""

    kind: Literal["text_folders"]
    files: list[SourceFile]
    root: str
    labels: list[str]
    validation_fraction: float
    split_seed: int
    max_texts: int | None

    def check(self) -> None:
        if len(self.files) != 1:
            raise ValueError("files: a text_folders dataset has exactly one tar archive")
        if self.max_texts is not None and self.max_texts < 1:
            raise ValueError("max_texts: must be >= 1")
        if len(self.labels) < 2:
            raise ValueError("labels: need at least two label folders")
        _check_fraction("validation_fraction", self.validation_fraction)


@dataclass(frozen=True)
class CorpusDataset:
    """A plain-text corpus; the last `validation_fraction` of its documents (or lines) is held out.

    `document_pattern` is a regex matching the line that starts a document (a rhyme's
    CAPITALISED title), so held-out text never shares a document with training text.
    """

    kind: Literal["corpus"]
    files: list[SourceFile]
    start_marker: str | None
    end_marker: str | None
    document_pattern: str | None
    headings: Literal["text", "separators"]
    validation_fraction: float

    def check(self) -> None:
        if len(self.files) != 1:
            raise ValueError("files: a corpus dataset has exactly one text file")
        _check_fraction("validation_fraction", self.validation_fraction)
        if self.headings == "separators" and self.document_pattern is None:
            raise ValueError("headings: separators needs a document_pattern that matches the headings")
        if self.document_pattern is not None:
            try:
                re.compile(self.document_pattern)
            except re.error as error:
                raise ValueError(f"document_pattern: not a valid regular expression ({error})") from None


@dataclass(frozen=True)
class TextEncoding:
    """How texts become integer sequences; the same for train, evaluate and predict."""

    lowercase: bool
    strip_punctuation: bool
    remove_stopwords: bool
    vocab_size: int | None

    def check(self) -> None:
        if self.vocab_size is not None and self.vocab_size < 3:
            raise ValueError("vocab_size: must be >= 3 (padding, OOV and at least one word)")


@dataclass(frozen=True)
class RecurrentNetwork:
    """Embedding -> [Dropout] -> (Bi)RNN -> [Dropout] -> [Dense relu] -> output layer."""

    embedding_dim: int
    units: int
    cell: Literal["lstm", "gru", "simple_rnn"]
    bidirectional: bool
    embedding_dropout: float
    rnn_dropout: float
    recurrent_dropout: float
    dropout: float
    dense_units: int

    def check(self) -> None:
        if self.embedding_dim < 1 or self.units < 1 or self.dense_units < 0:
            raise ValueError("units: embedding_dim and units must be >= 1, dense_units >= 0")
        for name in ("embedding_dropout", "rnn_dropout", "recurrent_dropout", "dropout"):
            _check_fraction(name, getattr(self, name), low_inclusive=True)


def _check_training(epochs: int, batch_size: int, seeds: list[int], learning_rate: float) -> None:
    if epochs < 1:
        raise ValueError("epochs: must be >= 1")
    if batch_size < 1:
        raise ValueError("batch_size: must be >= 1")
    if not seeds or len(set(seeds)) != len(seeds):
        raise ValueError("seeds: needs at least one seed, without repeats")
    if learning_rate <= 0:
        raise ValueError("learning_rate: must be > 0")


@dataclass(frozen=True)
class ClassifyExperiment:
    task: Literal["classify"]
    dataset: str
    encoding: TextEncoding
    network: RecurrentNetwork
    max_length: int
    epochs: int
    batch_size: int
    seeds: list[int]
    padding: Literal["pre", "post"]
    truncating: Literal["pre", "post"]
    batching: Literal["padded", "by_length"]
    output: Literal["softmax", "sigmoid"]
    learning_rate: float
    clipnorm: float
    early_stopping_patience: int
    description: str

    def check(self) -> None:
        if self.max_length < 1:
            raise ValueError("max_length: must be >= 1")
        if self.clipnorm < 0:
            raise ValueError("clipnorm: must be >= 0 (0: no clipping)")
        if self.batching == "by_length" and self.padding != "post":
            raise ValueError("padding: by_length batches are right-padded and masked; set padding: post")
        if self.early_stopping_patience < 0:
            raise ValueError("early_stopping_patience: must be >= 0")
        _check_training(self.epochs, self.batch_size, self.seeds, self.learning_rate)


@dataclass(frozen=True)
class Sample:
    """Text generated after evaluation, deterministic for a given seed."""

    seed_text: str
    lines: int
    words: int
    temperature: float
    seed: int
    context_words: int

    def check(self) -> None:
        for name in ("lines", "words"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name}: must be >= 1")
        if self.temperature < 0:
            raise ValueError("temperature: must be >= 0")
        if self.context_words < 0:
            raise ValueError("context_words: must be >= 0 (0: all the text so far)")


@dataclass(frozen=True)
class GenerateExperiment:
    """Next-word model. `sequences: line_prefixes` trains on every prefix of each line (the
    nursery-rhyme report); `windows` on sliding windows of `window` words over the text."""

    task: Literal["generate"]
    dataset: str
    encoding: TextEncoding
    network: RecurrentNetwork
    sample: Sample
    epochs: int
    seeds: list[int]
    sequences: Literal["line_prefixes", "windows"]
    window: int
    batch_size: int
    optimizer: Literal["adam", "rmsprop"]
    learning_rate: float
    description: str

    def check(self) -> None:
        if self.window < 1:
            raise ValueError("window: must be >= 1")
        _check_training(self.epochs, self.batch_size, self.seeds, self.learning_rate)


@dataclass(frozen=True)
class Resource:
    """Files a stage needs that are not a dataset (NLTK's stopword list)."""

    files: list[SourceFile]


DATASET_KINDS: dict[str, type] = {
    "series": SeriesDataset,
    "text": TextDataset,
    "text_folders": TextFoldersDataset,
    "corpus": CorpusDataset,
}
EXPERIMENT_TASKS: dict[str, type] = {"forecast": ForecastExperiment, "classify": ClassifyExperiment, "generate": GenerateExperiment}
TASK_DATASET_KINDS = {"forecast": ["series"], "classify": ["text", "text_folders"], "generate": ["corpus"]}

Dataset = SeriesDataset | TextDataset | TextFoldersDataset | CorpusDataset
Experiment = ForecastExperiment | ClassifyExperiment | GenerateExperiment


@dataclass(frozen=True)
class Params:
    datasets: dict[str, Dataset]
    experiments: dict[str, Experiment]
    resources: dict[str, Resource]

    def experiment(self, name: str) -> Experiment:
        if name not in self.experiments:
            known = ", ".join(sorted(self.experiments)) or "none"
            raise PipelineError(f"unknown experiment {name!r} (known: {known})")
        return self.experiments[name]

    def dataset(self, name: str) -> Dataset:
        if name not in self.datasets:
            known = ", ".join(sorted(self.datasets)) or "none"
            raise PipelineError(f"unknown dataset {name!r} (known: {known})")
        return self.datasets[name]

    def files(self, name: str) -> list[SourceFile]:
        """Source files of a dataset or a resource: what download@<name> fetches."""
        if name in self.resources:
            return self.resources[name].files
        return self.dataset(name).files


def _type_name(expected: Any) -> str:
    return getattr(expected, "__name__", str(expected).replace("typing.", ""))


def _convert(value: Any, expected: Any, where: str) -> Any:
    """Check `value` against the annotation `expected`; build nested dataclasses."""
    origin, args = typing.get_origin(expected), typing.get_args(expected)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        (inner,) = [arg for arg in args if arg is not type(None)]
        return _convert(value, inner, where)
    if origin is Literal:
        if value not in args:
            raise PipelineError(f"{where}: must be one of {', '.join(map(str, args))}, got {value!r}")
        return value
    if origin is list:
        if not isinstance(value, list):
            raise PipelineError(f"{where}: expected a list, got {value!r}")
        return [_convert(item, args[0], f"{where}[{index}]") for index, item in enumerate(value)]
    if dataclasses.is_dataclass(expected):
        return build(expected, value, where)
    if expected is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if (expected is int and isinstance(value, bool)) or not isinstance(value, expected):
        raise PipelineError(f"{where}: expected {_type_name(expected)}, got {value!r}")
    return value


def _mapping(data: Any, where: str) -> dict:
    if not isinstance(data, dict):
        raise PipelineError(f"{where}: expected a mapping, got {data!r}")
    return data


def build(cls: type, data: Any, where: str, defaults: Any = None, defaults_where: str = "") -> Any:
    """Build dataclass `cls` from a mapping over its `defaults` (a mapping from the `defaults`
    section, nested mappings merged key by key); every error names the key where the value was
    written: `where.key`, or `defaults_where.key` for a value taken from the defaults."""
    data, defaults = _mapping(data, where), _mapping(defaults or {}, defaults_where)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    for mapping, place in ((data, where), (defaults, defaults_where)):
        unknown = sorted(set(mapping) - set(fields))
        if unknown:
            raise PipelineError(f"{place}.{unknown[0]}: unknown key (known: {', '.join(fields)})")
    hints = typing.get_type_hints(cls)
    values, origin = {}, {}
    for name, spec in fields.items():
        origin[name] = where if name in data else defaults_where
        if dataclasses.is_dataclass(hints[name]) and (name in data or name in defaults):
            values[name] = build(hints[name], data.get(name, {}), f"{where}.{name}", defaults.get(name), f"{defaults_where}.{name}")
        elif name in data or name in defaults:
            value = data[name] if name in data else defaults[name]
            values[name] = _convert(value, hints[name], f"{origin[name]}.{name}")
        elif spec.default is dataclasses.MISSING and spec.default_factory is dataclasses.MISSING:
            raise PipelineError(
                f"{where}.{name}: missing (set it here or in {defaults_where})" if defaults_where else f"{where}.{name}: missing"
            )
    instance = cls(**values)
    try:
        if hasattr(instance, "check"):
            instance.check()
    except ValueError as error:
        key = str(error).split(":")[0]
        raise PipelineError(f"{origin.get(key, where)}.{error}") from None
    return instance


def _registry(data: dict, section: str, selector: str, kinds: dict[str, type]) -> dict[str, Any]:
    entries = _mapping(data.get(section) or {}, section)
    defaults = _mapping(data.get("defaults") or {}, "defaults")
    section_defaults = _mapping(defaults.get(section) or {}, f"defaults.{section}")
    registry = {}
    for name, entry in entries.items():
        where = f"{section}.{name}"
        choice = entry.get(selector) if isinstance(entry, dict) else None
        if choice not in kinds:
            raise PipelineError(f"{where}.{selector}: must be one of {', '.join(kinds)}, got {choice!r}")
        registry[name] = build(kinds[choice], entry, where, section_defaults.get(choice), f"defaults.{section}.{choice}")
    return registry


def parse_params(data: Any) -> Params:
    if not isinstance(data, dict):
        raise PipelineError("params: expected a mapping at the top level")
    known = ("defaults", "datasets", "experiments", "resources")
    unknown = sorted(set(data) - set(known))
    if unknown:
        raise PipelineError(f"{unknown[0]}: unknown top-level key (known: {', '.join(known)})")
    resources = _mapping(data.get("resources") or {}, "resources")
    params = Params(
        datasets=_registry(data, "datasets", "kind", DATASET_KINDS),
        experiments=_registry(data, "experiments", "task", EXPERIMENT_TASKS),
        resources={name: build(Resource, entry, f"resources.{name}") for name, entry in resources.items()},
    )
    for name, experiment in params.experiments.items():
        where = f"experiments.{name}.dataset"
        if experiment.dataset not in params.datasets:
            raise PipelineError(f"{where}: no dataset named {experiment.dataset!r}")
        kind, kinds = params.datasets[experiment.dataset].kind, TASK_DATASET_KINDS[experiment.task]
        if kind not in kinds:
            raise PipelineError(f"{where}: a {experiment.task} experiment needs a {' or '.join(kinds)} dataset, not {kind}")
    return params


def _select(data: Any, name: str) -> Any:
    """The entries stage `name` reads: an experiment and its dataset, a dataset, or a resource."""
    if not isinstance(data, dict):
        return data
    sections = {
        section: entries if isinstance(entries := data.get(section), dict) else {} for section in ("datasets", "experiments", "resources")
    }
    if name in sections["experiments"]:
        experiment = sections["experiments"][name]
        dataset = experiment.get("dataset") if isinstance(experiment, dict) else None
        datasets = {dataset: sections["datasets"][dataset]} if dataset in sections["datasets"] else {}
        return {"defaults": data.get("defaults"), "experiments": {name: experiment}, "datasets": datasets}
    for section in ("datasets", "resources"):
        if name in sections[section]:
            return {"defaults": data.get("defaults"), section: {name: sections[section][name]}}
    return data  # an unknown name: the whole file, whose registry then names the known entries


def load_params(path: str | Path = PARAMS_FILE, only: str | None = None) -> Params:
    """Every entry checked; with `only`, just what that stage reads (an experiment and its dataset,
    a dataset or a resource), so a mistake in one entry stops only the stages that use it."""
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except OSError as error:
        raise PipelineError(f"{path}: cannot read ({error.strerror})") from None
    except yaml.YAMLError as error:
        raise PipelineError(f"{path}: not valid YAML ({str(error).splitlines()[0]})") from None
    return parse_params(data if only is None else _select(data, only))
