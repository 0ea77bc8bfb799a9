import copy

import pytest
import yaml

from stages.io import PipelineError
from stages.params import ForecastExperiment, load_params, parse_params
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
        (("experiments", "airline-window", "dataset"), "nope", r"experiments\.airline-window\.dataset: no dataset named 'nope'"),
        (("datasets", "airline", "train_fraction"), 1.0, r"datasets\.airline\.train_fraction: must be inside \(0, 1\)"),
        (("datasets", "airline", "train_fraction"), 0, r"datasets\.airline\.train_fraction: must be inside \(0, 1\)"),
        (("datasets", "airline", "files"), [], r"datasets\.airline\.files: a series dataset has exactly one CSV file"),
        (("datasets", "airline", "kind"), "video", r"datasets\.airline\.kind: must be one of"),
        (("experiments", "imdb-lstm", "padding"), "pre", r"experiments\.imdb-lstm\.padding: by_length batches are right-padded"),
        (("experiments", "imdb-lstm", "clipnorm"), -1.0, r"experiments\.imdb-lstm\.clipnorm: must be >= 0"),
        (("datasets", "airline", "fill"), "zero", r"datasets\.airline\.fill: must be one of error, drop, previous, interpolate"),
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
    del raw_params["experiments"]["airline-window"]["units"]
    with pytest.raises(PipelineError, match=r"experiments\.airline-window\.units: missing"):
        parse_params(raw_params)


def test_unknown_experiment_lists_known_ones():
    with pytest.raises(PipelineError, match=r"unknown experiment 'nope' \(known: airline-regression, "):
        load_params(ROOT / "params.yaml").experiment("nope")


def test_int_is_accepted_where_float_is_expected(raw_params: dict):
    raw_params["experiments"]["airline-window"]["learning_rate"] = 1
    assert parse_params(raw_params).experiment("airline-window").learning_rate == 1.0


def test_dvc_set_changes_one_line_of_params_yaml(tmp_path):
    """`dvc exp run -S` rewrites params.yaml through DVC's Hydra round trip (apply_overrides), which
    replaces every list: the file keeps lists in block style and no comment inside one, so setting
    one value changes one line."""
    from dvc.utils.hydra import apply_overrides

    target = tmp_path / "params.yaml"
    target.write_text((ROOT / "params.yaml").read_text())
    apply_overrides(str(target), ["experiments.airline-stacked.epochs=50"])
    before, after = (ROOT / "params.yaml").read_text().splitlines(), target.read_text().splitlines()
    assert len(before) == len(after)
    assert [(old, new) for old, new in zip(before, after, strict=True) if old != new] == [("    epochs: 100", "    epochs: 50")]


def test_every_stage_checks_only_the_entries_it_reads(raw_params, tmp_path):
    raw_params["experiments"]["airline-window"]["epoch"] = 5
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump(raw_params))
    for name in ("airline", "airline-stacked", "nltk_data", "bbc-bilstm"):
        assert load_params(path, only=name)
    for only in ("airline-window", None):
        with pytest.raises(PipelineError, match=r"experiments\.airline-window\.epoch: unknown key"):
            load_params(path, only=only)
