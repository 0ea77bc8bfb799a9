import copy

import pytest
import yaml

from stages.io import PipelineError
from stages.params import load_params, parse_params
from stages.tasks.forecast import ForecastExperiment
from tests.conftest import ROOT


@pytest.fixture
def raw_params() -> dict:
    return yaml.safe_load((ROOT / "params.yaml").read_text())


def test_project_params_load():
    params = load_params(ROOT / "params.yaml")
    experiment = params.experiment("airline-stateful")
    assert isinstance(experiment, ForecastExperiment)
    assert experiment.stateful and experiment.look_back == 3 and experiment.seeds == [1, 2, 3, 4, 5]
    assert params.dataset("airline").train_fraction == 0.67


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (("experiments", "airline-window", "lookback"), 3, r"experiments\.airline-window\.lookback: unknown key"),
        (("experiments", "airline-window", "epochs"), "ten", r"experiments\.airline-window\.epochs: expected int, got 'ten'"),
        (("experiments", "airline-window", "epochs"), True, r"experiments\.airline-window\.epochs: expected int"),
        (("experiments", "airline-window", "look_back"), 0, r"experiments\.airline-window\.look_back: must be >= 1"),
        (
            ("experiments", "airline-window", "framing"),
            "steps",
            r"experiments\.airline-window\.framing: must be one of features, timesteps",
        ),
        (("experiments", "airline-window", "seeds"), [1, 1], r"experiments\.airline-window\.seeds: .*without repeats"),
        (
            ("experiments", "airline-window", "dataset"),
            "nope",
            r"experiments\.airline-window\.dataset: no dataset or dataset variant named 'nope'",
        ),
        (("datasets", "airline", "train_fraction"), 1.0, r"datasets\.airline\.train_fraction: must be below 1, got 1\.0"),
        (("datasets", "airline", "train_fraction"), 0, r"datasets\.airline\.train_fraction: must be > 0, got 0"),
        (("datasets", "airline", "files"), [], r"datasets\.airline\.files: needs at least 1 entry, got 0"),
        (("datasets", "airline", "kind"), "video", r"datasets\.airline\.kind: must be one of"),
        (("experiments", "imdb-lstm", "padding"), "pre", r"experiments\.imdb-lstm\.padding: by_length batches are right-padded"),
        (("experiments", "imdb-lstm", "clipnorm"), -1.0, r"experiments\.imdb-lstm\.clipnorm: must be >= 0"),
        (("datasets", "airline", "fill"), "zero", r"datasets\.airline\.fill: must be one of error, drop, previous, interpolate"),
        (("defaults", "experiments", "forecast", "epochs"), 0, r"defaults\.experiments\.forecast\.epochs: must be >= 1"),
        (("defaults", "experiments", "classify", "network", "cell"), "rnn", r"defaults\.experiments\.classify\.network\.cell: must be one"),
        (("defaults", "datasets", "series", "delimeter"), ",", r"defaults\.datasets\.series\.delimeter: unknown key"),
        (("experiments", "bbc-bilstm", "network", "units"), [64, 0], r"experiments\.bbc-bilstm\.network\.units\[1\]: must be >= 1, got 0"),
        (
            ("experiments", "bbc-bilstm", "network", "embedding_dim"),
            None,
            r"experiments\.bbc-bilstm\.network\.embedding_dim: a model of words",
        ),
        (
            ("experiments", "airline-window", "network"),
            {"embedding_dim": 8},
            r"experiments\.airline-window\.network\.embedding_dim: a forecast",
        ),
        (
            ("experiments", "airline-window", "task"),
            "video",
            r"experiments\.airline-window\.task: must be one of classify, forecast, generate",
        ),
        (("dataset_variants", "airline-seasonal", "source"), "nope", r"dataset_variants\.airline-seasonal\.source: no dataset named"),
        (("dataset_variants", "airline-seasonal", "kind"), "text", r"dataset_variants\.airline-seasonal\.kind: must be 'series', the kind"),
        (("dataset_variants", "airline-seasonal", "log"), "yes", r"dataset_variants\.airline-seasonal\.log: expected bool, got 'yes'"),
        (("dataset_variants", "bbc-report-split", "files"), [], r"dataset_variants\.bbc-report-split\.files: a variant reads the files"),
        (("datasets", "airline", "value_column"), 1, r"datasets\.airline\.value_column: expected str, got 1"),
        (("experiments", "airline-window", "compare_with"), "nope", r"experiments\.airline-window\.compare_with: needs another forecast"),
        (("experiments", "airline-window", "compare_with"), "bbc-bilstm", r"experiments\.airline-window\.compare_with: needs another"),
        (("experiments", "airline-window", "compare_with"), "airline-window", r"experiments\.airline-window\.compare_with: needs another"),
        (("experiments", "bbc-bilstm", "compare_with"), "bbc-bilstm-tuned", r"experiments\.bbc-bilstm\.compare_with: unknown key"),
        (("experiments", "bbc-bilstm", "write_up"), 0.89, r"experiments\.bbc-bilstm\.write_up: expected str, got 0\.89"),
    ],
)
def test_bad_params_name_the_key(raw_params: dict, path: tuple, value: object, message: str):
    data = copy.deepcopy(raw_params)
    entry = data
    for key in path[:-1]:
        entry = entry[key]
    entry[path[-1]] = value
    with pytest.raises(PipelineError, match=message):
        parse_params(data)


def test_missing_key_is_named(raw_params: dict):
    del raw_params["experiments"]["airline-window"]["look_back"]
    with pytest.raises(PipelineError, match=r"experiments\.airline-window\.look_back: missing"):
        parse_params(raw_params)


def test_a_default_applies_unless_the_entry_sets_it(raw_params: dict):
    raw_params["defaults"]["experiments"]["forecast"]["epochs"] = 7
    params = parse_params(raw_params)
    assert params.experiment("airline-window").epochs == 7
    raw_params["experiments"]["airline-window"]["epochs"] = 3
    assert parse_params(raw_params).experiment("airline-window").epochs == 3


def test_no_setting_has_a_default_in_code():
    """Every field that shapes a result takes its value from params.yaml, where DVC sees it (a
    default in code would change results while `dvc status` says nothing changed). The exceptions
    say where a checksummed file may come from, never what it holds."""
    import dataclasses

    from stages import datasets, schema
    from stages.tasks import task, task_names

    where_from = {("SourceFile", "mirror"), ("SourceFile", "alternatives"), ("SourceFile", "fallbacks"), ("Fallback", "member")}
    modules = [datasets, schema, *(task(name) for name in task_names())]
    classes = [
        value
        for module in modules
        for value in vars(module).values()
        if dataclasses.is_dataclass(value) and value.__module__ == module.__name__
    ]
    with_defaults = [
        (cls.__name__, field.name)
        for cls in classes
        for field in dataclasses.fields(cls)
        if field.default is not dataclasses.MISSING or field.default_factory is not dataclasses.MISSING
    ]
    assert len(classes) >= 12 and sorted(with_defaults) == sorted(where_from)


def test_every_field_is_in_the_defaults_or_in_every_entry(raw_params: dict):
    """So an entry reads as its differences from the defaults, and a new entry needs only what is
    its own (a dataset's files, an experiment's dataset and shape)."""
    import dataclasses
    import typing

    from stages.datasets import DATASET_KINDS
    from stages.tasks import task, task_names

    experiment_schemas = {name: task(name).Experiment for name in task_names()}

    def fields(cls: type, prefix: str = "") -> set[str]:
        hints = typing.get_type_hints(cls)
        names = set()
        for field in dataclasses.fields(cls):
            inner = hints[field.name]
            names |= fields(inner, f"{prefix}{field.name}.") if dataclasses.is_dataclass(inner) else {prefix + field.name}
        return names

    def keys(entry: dict, prefix: str = "") -> set[str]:
        return set().union(*[keys(value, f"{prefix}{key}.") if isinstance(value, dict) else {prefix + key} for key, value in entry.items()])

    for section, selector, kinds in (("datasets", "kind", DATASET_KINDS), ("experiments", "task", experiment_schemas)):
        for kind, cls in kinds.items():
            entries = [entry for entry in raw_params[section].values() if entry[selector] == kind]
            defaults = keys(raw_params["defaults"][section][kind])
            in_every_entry = set.intersection(*[keys(entry) for entry in entries])
            assert fields(cls) <= defaults | in_every_entry | {"files"}, (section, kind, fields(cls) - defaults - in_every_entry)


def test_a_dataset_variant_is_its_source_with_its_own_changes_and_reads_the_source_download():
    import dataclasses

    params = load_params(ROOT / "params.yaml")
    assert params.dataset("airline-seasonal") == dataclasses.replace(params.dataset("airline"), log=True, difference=12)
    assert params.download_of("airline-seasonal") == "airline" and params.download_of("airline") == "airline"
    assert load_params(ROOT / "params.yaml", only="bbc-report-split").dataset("bbc-report-split").split == "ordered"


def test_unknown_experiment_lists_known_ones():
    with pytest.raises(PipelineError, match=r"unknown experiment 'nope' \(known: airline-regression, "):
        load_params(ROOT / "params.yaml").experiment("nope")


def test_int_is_accepted_where_float_is_expected(raw_params: dict):
    raw_params["experiments"]["airline-window"]["learning_rate"] = 1
    assert parse_params(raw_params).experiment("airline-window").learning_rate == 1.0


@pytest.mark.parametrize(
    ("override", "change"),
    [
        ("defaults.experiments.forecast.epochs=50", [("-", "      epochs: 100"), ("+", "      epochs: 50")]),
        ("++experiments.airline-stacked.epochs=50", [("+", "    epochs: 50")]),
    ],
)
def test_dvc_set_changes_one_line_of_params_yaml(tmp_path, override: str, change: list):
    """`dvc exp run -S` rewrites params.yaml through DVC's Hydra round trip (apply_overrides), which
    replaces every list: the file keeps lists in block style and no comment inside one, so setting
    one value changes one line (`++` sets a key the entry takes from the defaults)."""
    import difflib

    from dvc.utils.hydra import apply_overrides

    target = tmp_path / "params.yaml"
    target.write_text((ROOT / "params.yaml").read_text())
    apply_overrides(str(target), [override])
    before, after = (ROOT / "params.yaml").read_text().splitlines(), target.read_text().splitlines()
    diff = [
        (line[0], line[1:])
        for line in difflib.unified_diff(before, after, lineterm="", n=0)
        if line[:1] in "+-" and line[:3] not in ("---", "+++")
    ]
    assert diff == change


def test_every_stage_checks_only_the_entries_it_reads(raw_params, tmp_path):
    raw_params["experiments"]["airline-window"]["epoch"] = 5
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump(raw_params))
    for name in ("airline", "airline-stacked", "nltk_data", "bbc-bilstm", "airline-seasonal", "airline-stacked-seasonal"):
        assert load_params(path, only=name)
    for only in ("airline-window", None):
        with pytest.raises(PipelineError, match=r"experiments\.airline-window\.epoch: unknown key"):
            load_params(path, only=only)


@pytest.mark.parametrize(
    ("default", "value", "stages"),
    [
        (("experiments", "forecast", "learning_rate"), 0.01, {"train", "evaluate"}),
        (("datasets", "series", "train_fraction"), 0.5, {"preprocess"}),
    ],
)
def test_editing_a_default_makes_dvc_status_list_exactly_the_stages_that_read_it(tmp_path, default: tuple, value: float, stages: set):
    """Against the committed dvc.lock: the defaults of one task or dataset kind are a params
    dependency of exactly the stages of that task or kind (and of `plot`, which reads them all)."""
    import json
    import shutil

    from tests.conftest import copy_project, run

    copy_project(tmp_path)
    shutil.copy(ROOT / "dvc.lock", tmp_path / "dvc.lock")
    raw = yaml.safe_load((ROOT / "params.yaml").read_text())
    section, kind, key = default
    raw["defaults"][section][kind][key] = value
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(raw, sort_keys=False))
    status = json.loads(run(["dvc", "status", "--json"], tmp_path))
    edited = f"defaults.{section}.{kind}.{key}"

    def reads_it(reasons: list) -> bool:  # a params dependency on the edited key or a section holding it
        changed_params = [reason.get("changed deps", {}).get("params.yaml", {}) for reason in reasons if isinstance(reason, dict)]
        return any(edited == name or edited.startswith(f"{name}.") for params in changed_params for name in params)

    changed = {stage for stage, reasons in status.items() if reads_it(reasons)}
    selector = "kind" if section == "datasets" else "task"
    expected = {f"{stage}@{name}" for stage in stages for name, entry in raw[section].items() if entry[selector] == kind}
    if section == "datasets":
        expected |= {f"preprocess-variant@{name}" for name, entry in raw["dataset_variants"].items() if entry["kind"] == kind}
    assert changed == expected | {"plot"}
