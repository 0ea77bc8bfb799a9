"""Load params.yaml into dataclasses checked by pydantic, so a typo fails at once with the key's
full name: every entry over the defaults of its kind or task, each error naming the key where
the bad value was written (`experiments.<name>.<key>` or `defaults.experiments.<task>.<key>`)."""

from __future__ import annotations

import dataclasses
import itertools
import json
import os
import re
import typing
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import ConfigDict, StrictBool, StrictFloat, StrictInt, StrictStr, TypeAdapter, ValidationError
from pydantic.dataclasses import dataclass

from stages.io import PipelineError, write_json

CHECKED = ConfigDict(extra="forbid")  # a key the class does not know is an error, not ignored

PARAMS_FILE = Path("params.yaml")
TRAINED_SETTINGS = "settings.json"  # in models/<experiment>/: the resolved entries it was trained with

# Upper bounds, far above any write-up's setting, that stop a typo (an extra zero or three) at the
# params check instead of hours into training or inside TensorFlow's allocator.
MAX_EPOCHS = 10_000
MAX_UNITS = 4_096  # per layer: LSTM units, embedding_dim, dense_units
MAX_LENGTH = 100_000  # words a text is cut or padded to
MAX_VOCABULARY = 1_000_000
MAX_WINDOW = 10_000  # window (generate) and look_back (forecast)
# A model whose estimated training memory (float32 weights, gradients and two Adam moments, plus
# one batch's activations) passes this share of the machine's memory is refused before TensorFlow starts.
MEMORY_SHARE = 0.5


@dataclass(frozen=True, config=CHECKED)
class Alternative:
    """Another file accepted in place of a source (a mirror's repack), with its own checksum."""

    name: StrictStr
    sha256: StrictStr

    def __post_init__(self) -> None:
        _check_file(self.name, self.sha256)


def _check_file(name: str, sha256: str) -> None:
    if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
        raise ValueError("sha256: must be 64 lowercase hex digits")
    if Path(name).is_absolute() or ".." in Path(name).parts:
        raise ValueError("name: must be a relative path inside the dataset folder")


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

    name: StrictStr
    url: StrictStr
    sha256: StrictStr
    mirror: StrictStr | None = None  # path under DATA_MIRROR; default <dataset>/<name>
    alternatives: list[Alternative] = dataclasses.field(default_factory=list)
    fallbacks: list[Fallback] = dataclasses.field(default_factory=list)

    def __post_init__(self) -> None:
        _check_file(self.name, self.sha256)


@dataclass(frozen=True, config=CHECKED)
class SeriesDataset:
    """A univariate series in a CSV file, split in time order into train and test parts."""

    kind: Literal["series"]
    files: list[SourceFile]
    value_column: StrictStr
    time_column: StrictStr | None
    sort: StrictBool
    delimiter: StrictStr
    header: StrictBool
    train_fraction: StrictFloat
    seasonal_period: StrictInt
    fill: Literal["error", "drop", "previous", "interpolate"]
    log: StrictBool
    difference: StrictInt

    def __post_init__(self) -> None:
        if len(self.files) != 1:
            raise ValueError("files: a series dataset has exactly one CSV file")
        _check_fraction("train_fraction", self.train_fraction)
        if self.seasonal_period < 1:
            raise ValueError("seasonal_period: must be >= 1")
        if self.difference < 0:
            raise ValueError("difference: must be >= 0")


@dataclass(frozen=True, config=CHECKED)
class ForecastExperiment:
    """One-step-ahead LSTM forecaster; `framing` says whether the window is features or time steps."""

    task: Literal["forecast"]
    dataset: StrictStr
    look_back: StrictInt
    framing: Literal["features", "timesteps"]
    units: list[StrictInt]
    epochs: StrictInt
    batch_size: StrictInt
    seeds: list[StrictInt]
    stateful: StrictBool
    context: Literal["part", "series"]
    learning_rate: StrictFloat
    deterministic: StrictBool
    mixed_precision: StrictBool
    description: StrictStr
    write_up: StrictStr | None  # the published figure and its source, for RESULTS.md
    compare_with: StrictStr | None  # another forecast experiment, drawn beside this one

    def __post_init__(self) -> None:
        if self.look_back < 1:
            raise ValueError("look_back: must be >= 1")
        _check_at_most("look_back", self.look_back, MAX_WINDOW)
        if not self.units or min(self.units) < 1:
            raise ValueError("units: needs at least one layer, each with >= 1 unit")
        _check_at_most("units", max(self.units), MAX_UNITS)
        _check_training(self.epochs, self.batch_size, self.seeds, self.learning_rate)
        steps, features = (self.look_back, 1) if self.framing == "timesteps" else (1, self.look_back)
        layers = [features, *self.units]
        parameters = sum(_rnn_parameters("lstm", inputs, units) for inputs, units in itertools.pairwise(layers)) + self.units[-1] + 1
        _check_size("units", parameters, self.batch_size * steps * sum(self.units) * 8)


def _check_at_most(name: str, value: int, bound: int) -> None:
    if value > bound:
        raise ValueError(f"{name}: must be at most {bound:,} (the bounds are listed in stages/params.py), got {value:,}")


def _rnn_parameters(cell: str, inputs: int, units: int) -> int:
    """Weights of one recurrent layer: per gate, input and recurrent kernels and a bias."""
    gates = {"lstm": 4, "gru": 3, "simple_rnn": 1}[cell]
    return gates * (units * (inputs + units) + units)


def machine_memory() -> int:
    """Physical memory in bytes (what a training run can at most use)."""
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def _check_size(name: str, parameters: int, activations: int) -> None:
    """Refuse a model that cannot fit: 4 float32 copies of every weight (weights, gradients, two
    Adam moments) and one batch's activations, against MEMORY_SHARE of the machine's memory."""
    needed, memory = 4 * (4 * parameters + activations), machine_memory()
    if needed > MEMORY_SHARE * memory:
        raise ValueError(
            f"{name}: {parameters:,} parameters need about {needed / 2**30:,.1f} GiB to train, "
            f"more than {MEMORY_SHARE:.0%} of this machine's {memory / 2**30:,.1f} GiB"
        )


def _check_network(network: RecurrentNetwork, encoding: TextEncoding, steps: int, batch_size: int, outputs: int) -> None:
    """The size check of an Embedding -> (Bi)RNN -> [Dense] -> output model. Without a vocab_size
    the vocabulary is not known before training, so the embedding is left out of the estimate."""
    vocabulary = encoding.vocab_size or 0
    directions = 2 if network.bidirectional else 1
    width = network.units * directions
    dense = network.dense_units * (width + 1)
    top = network.dense_units or width
    parameters = (
        vocabulary * network.embedding_dim
        + directions * _rnn_parameters(network.cell, network.embedding_dim, network.units)
        + dense
        + (top + 1) * outputs
    )
    activations = batch_size * (steps * (network.embedding_dim + 8 * width) + outputs)
    _check_size("network", parameters, activations)


def _check_fraction(name: str, value: float, low_inclusive: bool = False) -> None:
    if not (0 <= value < 1 if low_inclusive else 0 < value < 1):
        raise ValueError(f"{name}: must be inside {'[0' if low_inclusive else '(0'}, 1)")


@dataclass(frozen=True, config=CHECKED)
class TextDataset:
    """Labelled texts in a CSV/TSV file, split once into train / validation / test.

    `split: stratified` keeps class proportions and puts repeated texts on one side;
    `split: ordered` takes the parts in file order, as the BBC write-up does.
    """

    kind: Literal["text"]
    files: list[SourceFile]
    text_column: StrictStr
    label_column: StrictStr
    missing_labels: Literal["refuse", "drop", "keep"]
    delimiter: StrictStr
    header: StrictBool
    quoting: Literal["minimal", "none"]
    rows_span_lines: Literal["error", "warn", "allow"]
    split: Literal["stratified", "ordered"]
    validation_fraction: StrictFloat
    test_fraction: StrictFloat
    split_seed: StrictInt
    group_column: StrictStr | None
    classes: list[StrictStr] | None
    class_names: list[StrictStr] | None
    positive_class: StrictStr | None
    max_texts: StrictInt | None

    def __post_init__(self) -> None:
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


@dataclass(frozen=True, config=CHECKED)
class TextFoldersDataset:
    """Labelled texts as files <root>/<train|test>/<label>/*.txt (the IMDB layout) in one tar
    archive, read from the archive itself (unpacked, IMDB's 50,000 small files made every `dvc
    status` walk them): the folders give the labels and the train/test split; validation is
    carved from train, stratified."""

    kind: Literal["text_folders"]
    files: list[SourceFile]
    root: StrictStr
    labels: list[StrictStr]
    validation_fraction: StrictFloat
    split_seed: StrictInt
    max_texts: StrictInt | None

    def __post_init__(self) -> None:
        if len(self.files) != 1:
            raise ValueError("files: a text_folders dataset has exactly one tar archive")
        if self.max_texts is not None and self.max_texts < 1:
            raise ValueError("max_texts: must be >= 1")
        if len(self.labels) < 2:
            raise ValueError("labels: need at least two label folders")
        _check_fraction("validation_fraction", self.validation_fraction)


@dataclass(frozen=True, config=CHECKED)
class CorpusDataset:
    """A plain-text corpus; the last `validation_fraction` of its documents (or lines) is held out.

    `document_pattern` is a regex matching the line that starts a document (a rhyme's
    CAPITALISED title), so held-out text never shares a document with training text.
    """

    kind: Literal["corpus"]
    files: list[SourceFile]
    start_marker: StrictStr | None
    end_marker: StrictStr | None
    document_pattern: StrictStr | None
    headings: Literal["text", "separators"]
    validation_fraction: StrictFloat

    def __post_init__(self) -> None:
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


@dataclass(frozen=True, config=CHECKED)
class TextEncoding:
    """How texts become integer sequences; the same for train, evaluate and predict."""

    lowercase: StrictBool
    strip_punctuation: StrictBool
    remove_stopwords: StrictBool
    vocab_size: StrictInt | None

    def __post_init__(self) -> None:
        if self.vocab_size is not None:
            if self.vocab_size < 3:
                raise ValueError("vocab_size: must be >= 3 (padding, OOV and at least one word)")
            _check_at_most("vocab_size", self.vocab_size, MAX_VOCABULARY)


@dataclass(frozen=True, config=CHECKED)
class RecurrentNetwork:
    """Embedding -> [Dropout] -> (Bi)RNN -> [Dropout] -> [Dense relu] -> output layer."""

    embedding_dim: StrictInt
    units: StrictInt
    cell: Literal["lstm", "gru", "simple_rnn"]
    bidirectional: StrictBool
    embedding_dropout: StrictFloat
    rnn_dropout: StrictFloat
    recurrent_dropout: StrictFloat
    dropout: StrictFloat
    dense_units: StrictInt

    def __post_init__(self) -> None:
        if self.embedding_dim < 1 or self.units < 1 or self.dense_units < 0:
            raise ValueError("units: embedding_dim and units must be >= 1, dense_units >= 0")
        for name in ("embedding_dim", "units", "dense_units"):
            _check_at_most(name, getattr(self, name), MAX_UNITS)
        for name in ("embedding_dropout", "rnn_dropout", "recurrent_dropout", "dropout"):
            _check_fraction(name, getattr(self, name), low_inclusive=True)


def _check_training(epochs: int, batch_size: int, seeds: list[int], learning_rate: float) -> None:
    if epochs < 1:
        raise ValueError("epochs: must be >= 1")
    _check_at_most("epochs", epochs, MAX_EPOCHS)
    if batch_size < 1:
        raise ValueError("batch_size: must be >= 1")
    if not seeds or len(set(seeds)) != len(seeds):
        raise ValueError("seeds: needs at least one seed, without repeats")
    if learning_rate <= 0:
        raise ValueError("learning_rate: must be > 0")


@dataclass(frozen=True, config=CHECKED)
class ClassifyExperiment:
    task: Literal["classify"]
    dataset: StrictStr
    encoding: TextEncoding
    network: RecurrentNetwork
    max_length: StrictInt
    epochs: StrictInt
    batch_size: StrictInt
    seeds: list[StrictInt]
    padding: Literal["pre", "post"]
    truncating: Literal["pre", "post"]
    batching: Literal["padded", "by_length"]
    output: Literal["softmax", "sigmoid"]
    learning_rate: StrictFloat
    clipnorm: StrictFloat
    early_stopping_patience: StrictInt
    deterministic: StrictBool
    mixed_precision: StrictBool
    description: StrictStr
    write_up: StrictStr | None

    def __post_init__(self) -> None:
        if self.max_length < 1:
            raise ValueError("max_length: must be >= 1")
        _check_at_most("max_length", self.max_length, MAX_LENGTH)
        if self.clipnorm < 0:
            raise ValueError("clipnorm: must be >= 0 (0: no clipping)")
        if self.batching == "by_length" and self.padding != "post":
            raise ValueError("padding: by_length batches are right-padded and masked; set padding: post")
        if self.early_stopping_patience < 0:
            raise ValueError("early_stopping_patience: must be >= 0")
        _check_training(self.epochs, self.batch_size, self.seeds, self.learning_rate)
        _check_network(self.network, self.encoding, self.max_length, self.batch_size, 1 if self.output == "sigmoid" else 2)


@dataclass(frozen=True, config=CHECKED)
class Sample:
    """Text generated after evaluation, deterministic for a given seed."""

    seed_text: StrictStr
    lines: StrictInt
    words: StrictInt
    temperature: StrictFloat
    seed: StrictInt
    context_words: StrictInt

    def __post_init__(self) -> None:
        for name in ("lines", "words"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name}: must be >= 1")
        if self.temperature < 0:
            raise ValueError("temperature: must be >= 0")
        if self.context_words < 0:
            raise ValueError("context_words: must be >= 0 (0: all the text so far)")


@dataclass(frozen=True, config=CHECKED)
class GenerateExperiment:
    """Next-word model. `sequences: line_prefixes` trains on every prefix of each line (the
    nursery-rhyme report); `windows` on sliding windows of `window` words over the text."""

    task: Literal["generate"]
    dataset: StrictStr
    encoding: TextEncoding
    network: RecurrentNetwork
    sample: Sample
    epochs: StrictInt
    seeds: list[StrictInt]
    sequences: Literal["line_prefixes", "windows"]
    window: StrictInt
    batch_size: StrictInt
    optimizer: Literal["adam", "rmsprop"]
    learning_rate: StrictFloat
    deterministic: StrictBool
    mixed_precision: StrictBool
    early_stopping_patience: StrictInt
    description: StrictStr
    write_up: StrictStr | None

    def __post_init__(self) -> None:
        if self.window < 1:
            raise ValueError("window: must be >= 1")
        _check_at_most("window", self.window, MAX_WINDOW)
        if self.early_stopping_patience < 0:
            raise ValueError("early_stopping_patience: must be >= 0")
        _check_training(self.epochs, self.batch_size, self.seeds, self.learning_rate)
        _check_network(self.network, self.encoding, self.window, self.batch_size, self.encoding.vocab_size or 0)


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
EXPERIMENT_TASKS: dict[str, type] = {"forecast": ForecastExperiment, "classify": ClassifyExperiment, "generate": GenerateExperiment}
TASK_DATASET_KINDS = {"forecast": ["series"], "classify": ["text", "text_folders"], "generate": ["corpus"]}

Dataset = SeriesDataset | TextDataset | TextFoldersDataset | CorpusDataset
Experiment = ForecastExperiment | ClassifyExperiment | GenerateExperiment


@dataclasses.dataclass(frozen=True)
class Params:
    datasets: dict[str, Dataset]  # dataset_variants included
    experiments: dict[str, Experiment]
    resources: dict[str, Resource]
    variant_sources: dict[str, str]  # each dataset variant's source dataset

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

    def download_of(self, name: str) -> str:
        """Whose download a dataset reads: its own, or a variant's source's."""
        return self.variant_sources.get(name, name)

    def files(self, name: str) -> list[SourceFile]:
        """Source files of a dataset or a resource: what download@<name> fetches."""
        if name in self.resources:
            return self.resources[name].files
        return self.dataset(name).files


def _merge(defaults: dict, entry: dict) -> dict:
    """`entry` over `defaults`: mappings merged key by key, anything else (lists too) replaced."""
    merged = dict(defaults)
    for key, value in entry.items():
        both_mappings = isinstance(value, dict) and isinstance(defaults.get(key), dict)
        merged[key] = _merge(defaults[key], value) if both_mappings else value
    return merged


def _holds(data: Any, path: tuple) -> bool:
    """Whether `data` itself sets the value at `path` (else it came from the defaults)."""
    for key in path:
        try:
            data = data[key]
        except (KeyError, IndexError, TypeError):
            return False
    return True


def _field_names(cls: type, path: tuple) -> list[str]:
    """The fields of the dataclass found at `path` inside `cls` (for "unknown key" errors)."""
    for key in (key for key in path if not isinstance(key, int)):
        annotation = typing.get_type_hints(cls)[key]
        while not dataclasses.is_dataclass(annotation):  # list[SourceFile], TextEncoding | None, ...
            annotation = next(arg for arg in typing.get_args(annotation) if arg is not type(None))
        cls = annotation
    return [field.name for field in dataclasses.fields(cls)]


def _error_line(error: dict, cls: type, entry: dict, where: str, defaults_where: str) -> str:
    """One line for pydantic's first error: the key's full name (where the value was written) and
    what is wrong with it."""
    path, kind = tuple(error["loc"]), error["type"]
    if kind == "value_error":  # from a __post_init__ check: "<field>: <message>"
        field, text = str(error["ctx"]["error"]).split(": ", 1)
        path = (*path, field)
    elif kind in ("extra_forbidden", "unexpected_keyword_argument"):
        text = f"unknown key (known: {', '.join(_field_names(cls, path[:-1]))})"
    elif kind == "missing":
        text = f"missing (set it here or in {defaults_where})" if defaults_where else "missing"
    elif kind == "literal_error":
        allowed = re.findall(r"'([^']*)'", error["ctx"]["expected"])
        text = f"must be one of {', '.join(allowed)}, got {error['input']!r}"
    elif kind.endswith("_type"):
        expected = {"int_type": "int", "float_type": "float", "bool_type": "bool", "string_type": "str", "list_type": "a list"}
        text = f"expected {expected.get(kind, 'a mapping')}, got {error['input']!r}"
    else:
        text = error["msg"]
    written = where if _holds(entry, path) or kind == "missing" or not defaults_where else defaults_where
    key = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in path)
    return f"{written}{key}: {text}"


def build(cls: type, entry: Any, where: str, defaults: dict | None = None, defaults_where: str = "") -> Any:
    """Check `entry` over its `defaults` and build `cls`; a bad value stops with one line naming it."""
    if not isinstance(entry, dict):
        raise PipelineError(f"{where}: expected a mapping, got {entry!r}")
    try:
        return TypeAdapter(cls).validate_python(_merge(defaults or {}, entry))
    except ValidationError as error:
        raise PipelineError(_error_line(error.errors()[0], cls, entry, where, defaults_where)) from None


def _defaults(data: dict, section: str, choice: str) -> dict:
    """`defaults.<section>.<choice>`: the settings every entry of that kind or task starts from."""
    section_defaults = _mapping(_mapping(data.get("defaults") or {}, "defaults").get(section) or {}, f"defaults.{section}")
    return _mapping(section_defaults.get(choice) or {}, f"defaults.{section}.{choice}")


def _registry(data: dict, section: str, selector: str, kinds: dict[str, type]) -> dict[str, Any]:
    entries = _mapping(data.get(section) or {}, section)
    registry = {}
    for name, entry in entries.items():
        where = f"{section}.{name}"
        choice = entry.get(selector) if isinstance(entry, dict) else None
        if choice not in kinds:
            raise PipelineError(f"{where}.{selector}: must be one of {', '.join(kinds)}, got {choice!r}")
        registry[name] = build(kinds[choice], entry, where, _defaults(data, section, choice), f"defaults.{section}.{choice}")
    return registry


def _variants(data: dict) -> tuple[dict[str, Any], dict[str, str]]:
    """Datasets read from another dataset's download: each entry over its source's entry (and so
    over the defaults of their kind), with its own `kind` for dvc.yaml; and each one's source."""
    datasets = _mapping(data.get("datasets") or {}, "datasets")
    variants, sources = {}, {}
    for name, entry in _mapping(data.get("dataset_variants") or {}, "dataset_variants").items():
        where = f"dataset_variants.{name}"
        entry = _mapping(entry, where)
        source = entry.get("source")
        if name in datasets:
            raise PipelineError(f"{where}: datasets.{name} exists; a name is either a dataset or a variant")
        if not isinstance(datasets.get(source), dict):
            raise PipelineError(f"{where}.source: no dataset named {source!r} (known: {', '.join(sorted(datasets)) or 'none'})")
        kind = datasets[source].get("kind")
        if entry.get("kind") != kind:
            raise PipelineError(f"{where}.kind: must be {kind!r}, the kind of datasets.{source}")
        if "files" in entry:
            raise PipelineError(f"{where}.files: a variant reads the files of datasets.{source}")
        defaults = _merge(_defaults(data, "datasets", kind), datasets[source])
        own = {key: value for key, value in entry.items() if key != "source"}
        variants[name] = build(DATASET_KINDS[kind], own, where, defaults, f"datasets.{source}")
        sources[name] = source
    return variants, sources


def _mapping(data: Any, where: str) -> dict:
    if not isinstance(data, dict):
        raise PipelineError(f"{where}: expected a mapping, got {data!r}")
    return data


def parse_params(data: Any, partial: bool = False) -> Params:
    """`partial`: `data` holds one stage's entries only, so a reference to another entry (`compare_with`) is not checked."""
    if not isinstance(data, dict):
        raise PipelineError("params: expected a mapping at the top level")
    known = ("defaults", "datasets", "dataset_variants", "experiments", "resources")
    unknown = sorted(set(data) - set(known))
    if unknown:
        raise PipelineError(f"{unknown[0]}: unknown top-level key (known: {', '.join(known)})")
    resources = _mapping(data.get("resources") or {}, "resources")
    datasets = _registry(data, "datasets", "kind", DATASET_KINDS)  # first: a variant's source is checked before it
    variants, variant_sources = _variants(data)
    params = Params(
        datasets=datasets | variants,
        experiments=_registry(data, "experiments", "task", EXPERIMENT_TASKS),
        resources={name: build(Resource, entry, f"resources.{name}") for name, entry in resources.items()},
        variant_sources=variant_sources,
    )
    for name, experiment in params.experiments.items():
        where = f"experiments.{name}.dataset"
        if experiment.dataset not in params.datasets:
            raise PipelineError(f"{where}: no dataset named {experiment.dataset!r}")
        kind, kinds = params.datasets[experiment.dataset].kind, TASK_DATASET_KINDS[experiment.task]
        if kind not in kinds:
            raise PipelineError(f"{where}: a {experiment.task} experiment needs a {' or '.join(kinds)} dataset, not {kind}")
        other = getattr(experiment, "compare_with", None)
        if other is not None and not partial and (other == name or getattr(params.experiments.get(other), "task", None) != experiment.task):
            raise PipelineError(f"experiments.{name}.compare_with: needs another {experiment.task} experiment, got {other!r}")
    return params


def _select(data: Any, name: str) -> Any:
    """The entries stage `name` reads: an experiment and its dataset, a dataset (a variant with its
    source), or a resource."""
    if not isinstance(data, dict):
        return data
    sections = {
        section: entries if isinstance(entries := data.get(section), dict) else {}
        for section in ("datasets", "dataset_variants", "experiments", "resources")
    }
    selected: dict[str, Any] = {"defaults": data.get("defaults")}
    if name in sections["experiments"]:
        experiment = sections["experiments"][name]
        selected["experiments"] = {name: experiment}
        name = experiment.get("dataset") if isinstance(experiment, dict) else None
    elif name in sections["resources"]:
        return {"resources": {name: sections["resources"][name]}}
    elif name not in sections["datasets"] and name not in sections["dataset_variants"]:
        return data  # an unknown name: the whole file, whose registry then names the known entries
    if name in sections["dataset_variants"]:
        variant = sections["dataset_variants"][name]
        selected["dataset_variants"] = {name: variant}
        name = variant.get("source") if isinstance(variant, dict) else None
    selected["datasets"] = {name: sections["datasets"][name]} if name in sections["datasets"] else {}
    return selected


def load_params(path: str | Path = PARAMS_FILE, only: str | None = None) -> Params:
    """Every entry checked; with `only`, just what that stage reads (an experiment and its dataset,
    a dataset or a resource), so a mistake in one entry stops only the stages that use it."""
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except OSError as error:
        raise PipelineError(f"{path}: cannot read ({error.strerror})") from None
    except yaml.YAMLError as error:
        raise PipelineError(f"{path}: not valid YAML{_yaml_place(error)}") from None
    return parse_params(data if only is None else _select(data, only), partial=only is not None)


def _yaml_place(error: yaml.YAMLError) -> str:
    """Where the YAML breaks and why (` at line 3 column 7: ...`), as DVC's own message says it."""
    mark, problem = getattr(error, "problem_mark", None), getattr(error, "problem", None)
    if mark is None:
        return f" ({str(error).splitlines()[0]})"
    return f" at line {mark.line + 1} column {mark.column + 1}: {problem or str(error).splitlines()[0]}"


def save_trained(folder: Path, experiment: Experiment, dataset: Dataset) -> None:
    """The experiment's entry and its dataset's, merged over their defaults, beside the models."""
    write_json(folder / TRAINED_SETTINGS, {"experiment": dataclasses.asdict(experiment), "dataset": dataclasses.asdict(dataset)})


def load_trained(folder: Path, name: str) -> tuple[Experiment, Dataset]:
    """The settings `name` was trained with: predict and evaluate shape their inputs by these, so
    an entry edited in params.yaml after training cannot mis-encode a trained model's inputs."""
    path = folder / TRAINED_SETTINGS
    try:
        saved = json.loads(path.read_text(encoding="utf-8"))
        experiment, dataset = saved["experiment"], saved["dataset"]
        kinds = EXPERIMENT_TASKS[experiment["task"]], DATASET_KINDS[dataset["kind"]]
    except FileNotFoundError:
        raise PipelineError(f"{name} is not trained yet (run: dvc repro train@{name})") from None
    except (OSError, ValueError, KeyError, TypeError) as error:
        reason = error.strerror if isinstance(error, OSError) else f"{type(error).__name__}: {error}"
        raise PipelineError(f"{path}: unreadable ({reason}); run: dvc checkout {folder} or dvc repro train@{name}") from None
    return build(kinds[0], experiment, f"{path}: experiment"), build(kinds[1], dataset, f"{path}: dataset")
