"""Load params.yaml and check it against the schema (stages/datasets.py, each task's own in
stages/tasks/), so a typo fails at once with the key's full name: every entry over the defaults
of its kind or task, each error naming the key where the bad value was written
(`experiments.<name>.<key>` or `defaults.experiments.<task>.<key>`)."""

from __future__ import annotations

import dataclasses
import json
import typing
from pathlib import Path
from typing import Any

import yaml
from pydantic import TypeAdapter, ValidationError

from stages.datasets import DATASET_KINDS, NAME, Dataset, Resource, SourceFile
from stages.io import PipelineError, restore_command, write_json
from stages.tasks import task

PARAMS_FILE = Path("params.yaml")
TRAINED_SETTINGS = "settings.json"  # in models/<experiment>/: the resolved entries it was trained with
# Fields added to an experiment since the first model folders: what a folder without one was trained with.
EARLIER_DEFAULTS = {"backend": "tensorflow"}


@dataclasses.dataclass(frozen=True)
class Params:
    datasets: dict[str, Dataset]  # dataset_variants included
    experiments: dict[str, Any]  # each its task's Experiment
    resources: dict[str, Resource]
    variant_sources: dict[str, str]  # each dataset variant's source dataset

    def experiment(self, name: str) -> Any:
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


BOUNDS = {
    "greater_than_equal": ("ge", ">="),
    "greater_than": ("gt", ">"),
    "less_than_equal": ("le", "at most"),
    "less_than": ("lt", "below"),
    "too_short": ("min_length", "at least"),
    "too_long": ("max_length", "at most"),
}


def _problem(error: dict, cls: type, path: tuple, defaults_where: str) -> tuple[tuple, str]:
    """(the key's path, what is wrong with its value) for one of pydantic's errors."""
    kind, context = error["type"], error.get("ctx", {})
    if kind == "value_error":  # a check of our own: "<field>: <message>", or just the message for a field's own rule
        text = str(context["error"])
        field, _, rest = text.partition(": ")
        if rest and " " not in field:
            return (*path, *field.split(".")), rest
        return path, text
    if kind in ("extra_forbidden", "unexpected_keyword_argument"):
        return path, f"unknown key (known: {', '.join(_field_names(cls, path[:-1]))})"
    if kind == "missing":
        return path, f"missing (set it here or in {defaults_where})" if defaults_where else "missing"
    if kind == "literal_error":
        allowed = [part.strip(" '") for part in context["expected"].replace(" or ", ", ").split(", ")]
        return path, f"must be one of {', '.join(allowed)}, got {error['input']!r}"
    if kind in ("too_short", "too_long"):
        bound = context[BOUNDS[kind][0]]
        return path, f"needs {BOUNDS[kind][1]} {bound} entr{'y' if bound == 1 else 'ies'}, got {context['actual_length']}"
    if kind in BOUNDS:
        bound, words = context[BOUNDS[kind][0]], BOUNDS[kind][1]
        listed = " (the bounds are listed in stages/schema.py)" if bound >= 10_000 else ""
        shown = f"{int(bound):,}" if float(bound).is_integer() else f"{bound:g}"
        return path, f"must be {words} {shown}{listed}, got {error['input']!r}"
    if kind == "string_pattern_mismatch":
        return path, f"must match {context['pattern']}, got {error['input']!r}"
    if kind.endswith("_type"):
        expected = {"int_type": "int", "float_type": "float", "bool_type": "bool", "string_type": "str", "list_type": "a list"}
        return path, f"expected {expected.get(kind, 'a mapping')}, got {error['input']!r}"
    return path, error["msg"]


def _error_line(error: dict, cls: type, entry: dict, where: str, defaults_where: str) -> str:
    """One line for pydantic's first error: the key's full name (where the value was written) and
    what is wrong with it."""
    path = tuple(part for part in error["loc"] if not (isinstance(part, str) and part.startswith("function-")))
    path, text = _problem(error, cls, path, defaults_where)
    written = where if _holds(entry, path) or error["type"] == "missing" or not defaults_where else defaults_where
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


def _named(entries: dict, section: str) -> dict:
    for name in entries:
        if not isinstance(name, str) or not NAME.fullmatch(name):
            raise PipelineError(f"{section}.{name}: a name is letters, digits and dashes (it names folders and files)")
    return entries


def _datasets(data: dict) -> dict[str, Dataset]:
    registry = {}
    for name, entry in _named(_mapping(data.get("datasets") or {}, "datasets"), "datasets").items():
        kind = entry.get("kind") if isinstance(entry, dict) else None
        if kind not in DATASET_KINDS:
            raise PipelineError(f"datasets.{name}.kind: must be one of {', '.join(DATASET_KINDS)}, got {kind!r}")
        defaults = _defaults(data, "datasets", kind)
        registry[name] = build(DATASET_KINDS[kind], entry, f"datasets.{name}", defaults, f"defaults.datasets.{kind}")
    return registry


def _experiments(data: dict) -> dict[str, Any]:
    registry = {}
    for name, entry in _named(_mapping(data.get("experiments") or {}, "experiments"), "experiments").items():
        where = f"experiments.{name}"
        schema = task(entry.get("task") if isinstance(entry, dict) else None, f"{where}.task").Experiment
        choice = entry["task"]
        registry[name] = build(schema, entry, where, _defaults(data, "experiments", choice), f"defaults.experiments.{choice}")
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
    datasets = _datasets(data)  # first: a variant's source is checked before it
    variants, variant_sources = _variants(data)
    params = Params(
        datasets=datasets | variants,
        experiments=_experiments(data),
        resources={name: build(Resource, entry, f"resources.{name}") for name, entry in resources.items()},
        variant_sources=variant_sources,
    )
    for name, experiment in params.experiments.items():
        where = f"experiments.{name}.dataset"
        if experiment.dataset not in params.datasets:
            known = ", ".join(sorted(params.datasets) if not partial else []) or "see datasets and dataset_variants"
            raise PipelineError(f"{where}: no dataset or dataset variant named {experiment.dataset!r} ({known})")
        kind, kinds = params.datasets[experiment.dataset].kind, task(experiment.task).DATASET_KINDS
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


def save_trained(folder: Path, experiment: Any, dataset: Dataset) -> None:
    """The experiment's entry and its dataset's, merged over their defaults, beside the models."""
    write_json(folder / TRAINED_SETTINGS, {"experiment": dataclasses.asdict(experiment), "dataset": dataclasses.asdict(dataset)})


def _as_today(experiment: dict) -> dict:
    """A folder's experiment in today's shape: a forecast's `units` (before the `network:` block)
    and a one-layer network's int `units` become today's network, and fields added since get
    the value the folder was trained with (EARLIER_DEFAULTS)."""
    experiment = EARLIER_DEFAULTS | experiment  # a new dict: the saved one is left as it was
    if "units" in experiment:
        blank = {"cell": "lstm", "bidirectional": False, "embedding_dim": None, "dense_units": 0}
        dropouts = dict.fromkeys(("embedding_dropout", "rnn_dropout", "recurrent_dropout", "dropout"), 0.0)
        units = experiment.pop("units")
        experiment["network"] = blank | dropouts | {"units": units}
    network = experiment.get("network")
    if isinstance(network, dict) and isinstance(network.get("units"), int):
        experiment["network"] = network | {"units": [network["units"]]}
    return experiment


def load_trained(folder: Path, name: str) -> tuple[Any, Dataset]:
    """The settings `name` was trained with: predict and evaluate shape their inputs by these, so
    an entry edited in params.yaml after training cannot mis-encode a trained model's inputs."""
    path = folder / TRAINED_SETTINGS
    remedy = restore_command(path)
    try:
        saved = json.loads(path.read_text(encoding="utf-8"))
        experiment, dataset = _as_today(saved["experiment"]), saved["dataset"]
        kinds = task(experiment["task"]).Experiment, DATASET_KINDS[dataset["kind"]]
    except FileNotFoundError:
        raise PipelineError(f"{name} is not trained yet (run: dvc repro train@{name})") from None
    except (OSError, ValueError, KeyError, TypeError, PipelineError) as error:
        reason = error.strerror if isinstance(error, OSError) else f"{type(error).__name__}: {error}"
        raise PipelineError(f"{path}: unreadable ({reason}); {remedy}") from None
    return build(kinds[0], experiment, f"{path}: experiment"), build(kinds[1], dataset, f"{path}: dataset")
