"""stages.predict on models trained here in a scratch folder."""

import dataclasses
import re
import shutil
from pathlib import Path

import numpy as np
import pytest

from stages import predict
from stages.io import PipelineError
from stages.params import load_params, save_trained
from stages.preprocess import prepare_series, prepare_texts
from stages.tasks import classify, forecast
from tests.conftest import ROOT
from tests.test_text_tasks import classifier, text_dataset, toy_texts, write_raw


@pytest.fixture
def airline_window(airline_raw, workdir):
    params = load_params(ROOT / "params.yaml")
    prepare_series("airline", params.dataset("airline"), workdir / "data" / "prepared" / "airline")
    experiment = dataclasses.replace(params.experiment("airline-window"), epochs=2, seeds=[7, 8])
    (workdir / "models" / "airline-window").mkdir(parents=True)
    forecast.train("airline-window", experiment, workdir / "models" / "airline-window", Path("dvclive") / "airline-window")
    return experiment


def test_forecast_continues_the_monthly_series(airline_window):
    table = forecast.forecast("airline-window", airline_window, 3, None)
    assert list(table.time) == ["1961-01", "1961-02", "1961-03"]
    assert np.all(np.isfinite(table.value)) and table.value.between(0, 2000).all()


def test_forecast_from_given_values(airline_window):
    table = forecast.forecast("airline-window", airline_window, 2, [400.0, 420.0, 450.0])
    assert list(table.time) == ["t+1", "t+2"] and np.all(np.isfinite(table.value))
    with pytest.raises(PipelineError, match=r"--values: airline-window needs at least 3 values \(look_back 3 \+ difference 0\), got 2"):
        forecast.forecast("airline-window", airline_window, 2, [400.0, 420.0])
    with pytest.raises(PipelineError, match=r"--steps must be > 0, got 0"):
        forecast.forecast("airline-window", airline_window, 0, None)


def test_stateful_forecast_of_a_differenced_log_series(airline_raw, workdir, capsys):
    params = load_params(ROOT / "params.yaml")
    raw = workdir / "data" / "raw" / "airline-seasonal"
    shutil.copytree(airline_raw, raw)
    prepare_series("airline-seasonal", params.dataset("airline-seasonal"), workdir / "data" / "prepared" / "airline-seasonal")
    name = "airline-stateful-seasonal"
    experiment = dataclasses.replace(params.experiment(name), epochs=2, seeds=[7])
    (workdir / "models" / name).mkdir(parents=True)
    forecast.train(name, experiment, workdir / "models" / name, workdir / "dvclive" / name)
    table = forecast.forecast(name, experiment, 12, None)
    assert list(table.time)[:2] == ["1961-01", "1961-02"]
    assert table.value.between(300, 900).all()  # a year after 1960's 390-622 passengers
    shutil.rmtree(workdir / "data" / "prepared")  # given values, the model's folder is all predict needs
    recent = [float(value) for value in range(300, 324)]
    assert np.isfinite(forecast.forecast(name, experiment, 2, recent).value).all()
    with pytest.raises(PipelineError, match=r"needs at least 24 values \(look_back 12 \+ difference 12\), got 23"):
        forecast.forecast(name, experiment, 2, recent[1:])
    long_history = list(400 + 100 * np.sin(np.arange(25_000) * np.pi / 6))  # 25,000 values: the state is warmed on a bounded tail
    assert np.isfinite(forecast.forecast(name, experiment, 2, long_history).value).all()
    assert "carried through the last" in capsys.readouterr().err


def as_trained(workdir, name: str) -> None:
    """models/<name>/ with the settings train would save, and no model: enough for predict's option checks."""
    params = load_params(ROOT / "params.yaml")
    experiment = dataclasses.replace(params.experiment(name), backend="tensorflow")  # this process's Keras
    (workdir / "models" / name).mkdir(parents=True)
    save_trained(workdir / "models" / name, experiment, params.dataset(experiment.dataset))


@pytest.mark.parametrize("values", ["inf,432,461", "1e400,2,3", "390,nan,461,500"])
def test_values_that_are_not_finite_are_refused(workdir, values: str):
    as_trained(workdir, "airline-stateful")
    with pytest.raises(SystemExit, match=r"--values: .* is not a finite number"):
        predict.main(["airline-stateful", "--steps", "3", "--values", values])


def test_classify_gives_a_label_and_probabilities(workdir):
    write_raw(workdir, "texts.csv", toy_texts().to_csv(index=False).encode())
    prepare_texts("toy", text_dataset(), workdir / "data" / "prepared" / "toy")
    experiment = classifier()
    (workdir / "models" / "toy").mkdir(parents=True)
    classify.train("toy", experiment, workdir / "models" / "toy", Path("dvclive") / "toy")
    rows = classify.classify_texts("toy", experiment, ["goal match team", "bank rates profit"])
    assert [row["text"] for row in rows] == ["goal match team", "bank rates profit"]
    for row in rows:
        assert row["label"] in ("money", "sport") and sum(row["probabilities"].values()) == pytest.approx(1, abs=1e-3)
    with pytest.raises(PipelineError, match="no text to classify"):
        classify.classify_texts("toy", experiment, ["  "])


def test_untrained_experiment_names_the_repro_target(workdir):
    experiment = load_params(ROOT / "params.yaml").experiment("tweets-lstm")
    with pytest.raises(PipelineError, match=r"model not trained yet \(run: dvc repro train@tweets-lstm\)"):
        classify.classify_texts("tweets-lstm", experiment, ["great flight"])


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["nope", "x"], r"unknown experiment 'nope' \(known: airline-regression"),
        (["bbc-bilstm", "--steps", "3"], r"--steps does not apply to bbc-bilstm, a classify experiment"),
        (["airline-window", "some text"], r"texts does not apply to airline-window, a forecast experiment"),
        (["nursery-bilstm", "--file", "x.txt"], r"--file does not apply to nursery-bilstm, a generate experiment"),
        (["nursery-bilstm", "--lines", "0"], r"--lines: must be >= 1"),
        (["alice-lstm", "--temperature", "-1"], r"--temperature: must be >= 0"),
        (["nursery-bilstm-dropout", "--context-words", "-2"], r"--context-words: must be >= 0"),
    ],
)
def test_command_line_errors_are_one_line(workdir, argv: list[str], message: str):
    shutil.copy(ROOT / "params.yaml", workdir / "params.yaml")
    if argv[0] != "nope":
        as_trained(workdir, argv[0])
    with pytest.raises(SystemExit) as error:
        predict.main(argv)
    assert str(error.value).startswith("error: ") and "\n" not in str(error.value)
    assert re.search(message, str(error.value))
