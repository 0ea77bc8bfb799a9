"""A task is one module in stages/tasks/ and a network is a params entry: added to a scratch copy,
each is trained, evaluated, predicted from, drawn and tabled by the real `dvc repro` and scripts,
with no other file edited."""

from __future__ import annotations

import json
import math
import os
import sys
import zipfile
from pathlib import Path

import pytest
import yaml

from stages.io import PipelineError
from stages.tasks import task, task_names
from tests.conftest import mirror_path, reduced_clone, run

DUMMY_TASK = '''"""A task that predicts the training mean: here to show the registry needs nothing else."""

from __future__ import annotations

import json
import math
from pathlib import Path
from types import ModuleType
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import StrictBool, StrictInt, StrictStr
from pydantic.dataclasses import dataclass

from stages.io import MODELS_DIR, write_json
from stages.metrics import summarise_seeds, write_evaluation
from stages.schema import CHECKED
from stages.series import load_prepared_series
from stages.tasks import Primary, Run


@dataclass(frozen=True, config=CHECKED)
class MeanExperiment:
    task: Literal["mean"]
    dataset: StrictStr
    backend: Literal["tensorflow", "jax"]
    deterministic: StrictBool
    seeds: list[StrictInt]
    description: StrictStr
    write_up: StrictStr | None


Experiment = MeanExperiment
DATASET_KINDS = ("series",)
PRIMARY = Primary("test_error", "test error", lower_is_better=True)
BASELINES = {"zero_error": "zero"}
RESULTS_COLUMNS = ["test error", "zero"]


def train(name, experiment, folder, live):
    series = load_prepared_series(experiment.dataset)
    write_json(folder / "mean.json", float(np.nanmean(series.values[: series.train_size])))
    return pd.DataFrame({"epoch": [1], "loss": [0.0], "loss_seed1": [0.0]})


def evaluate(name, experiment):
    series = load_prepared_series(experiment.dataset)
    mean = json.loads((MODELS_DIR / name / "mean.json").read_text())
    test = series.values[series.train_size :]
    metrics = summarise_seeds([{"seed": 1, "test_error": float(np.mean(np.abs(test - mean)))}])
    metrics |= {"zero_error": float(np.mean(np.abs(test))), "seeds": 1}
    write_evaluation(name, "mean", metrics, [{"seed": 1, **metrics}], pd.DataFrame({"value": test}))
    return f"test error {metrics['test_error']:.2f}"


def add_predict_arguments(group):
    group.add_argument("--times", type=int, help="mean: repeat the mean this many times")


def predict(name, experiment, dataset, options, draw):
    mean = json.loads((MODELS_DIR / name / "mean.json").read_text())
    print(" ".join([f"{mean:.2f}"] * (options.times or 1)))


def read_table(path):
    return pd.read_csv(path)


def draw_experiment(run, draw, folder):
    pass


def draw_summary(runs, draw, folder):
    metrics = {run.name: run.metrics for run in runs}
    path = folder / "mean-error.png"
    draw.plot_bars_with_baselines(metrics, "test_error", {"zero_error": "zero"}, list(metrics), "mean", "error", path)


def dvc_plots(runs):
    return []


def result_cells(metrics):
    return [f"{metrics['test_error']:.2f}", f"{metrics['zero_error']:.2f}"]
'''


def test_an_unknown_task_is_one_line_naming_the_key():
    with pytest.raises(PipelineError, match=r"^experiments\.x\.task: must be one of classify, forecast, generate, got 'video'$"):
        task("video", "experiments.x.task")
    assert task_names() == ["classify", "forecast", "generate"]


def repro(project: Path) -> None:
    run(["dvc", "repro"], project, os.environ | {"DATA_MIRROR": str(mirror_path())})
    for script in ("scripts.dvc_sections", "scripts.results"):
        run([sys.executable, "-m", script], project)


def predict(project: Path, *arguments: str) -> str:
    return run([sys.executable, "-m", "stages.predict", *arguments], project)


@pytest.mark.skipif(mirror_path() is None, reason="needs the data mirror")
def test_a_gru_forecast_and_a_two_layer_text_lstm_are_params_entries_on_the_other_backends(tmp_path: Path):
    """Forecasts on TensorFlow and classifiers on JAX, the other backend of each task than
    params.yaml's defaults (the new-task test below runs those)."""
    project = reduced_clone(tmp_path, experiments=["airline-window", "bbc-bilstm"])
    params = yaml.safe_load((project / "params.yaml").read_text())
    params["defaults"]["experiments"]["forecast"]["backend"] = "tensorflow"
    params["defaults"]["experiments"]["classify"]["backend"] = "jax"
    experiments = params["experiments"]
    experiments["airline-gru"] = experiments["airline-window"] | {"network": {"cell": "gru", "units": [6]}, "description": "a GRU"}
    two_layers = experiments["bbc-bilstm"]["network"] | {"units": [8, 8], "bidirectional": False}
    experiments["bbc-two-layer"] = experiments["bbc-bilstm"] | {"network": two_layers, "description": "two LSTM layers"}
    (project / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    run([sys.executable, "-m", "scripts.dvc_sections"], project)
    repro(project)

    def recurrent_layers(name: str) -> list[str]:
        with zipfile.ZipFile(project / "models" / name / "seed-1.keras") as archive:
            config = json.loads(archive.read("config.json"))
        return [(layer["class_name"], layer["config"]["units"]) for layer in config["config"]["layers"] if "units" in layer["config"]]

    assert recurrent_layers("airline-gru") == [("GRU", 6), ("Dense", 1)]
    assert recurrent_layers("bbc-two-layer") == [("LSTM", 8), ("LSTM", 8), ("Dense", 5)]
    for name, key in (("airline-gru", "test_rmse"), ("bbc-two-layer", "accuracy")):
        settings = json.loads((project / "models" / name / "settings.json").read_text())
        assert settings["experiment"]["backend"] == {"airline-gru": "tensorflow", "bbc-two-layer": "jax"}[name]
        assert math.isfinite(json.loads((project / "metrics" / f"{name}.json").read_text())[key])
    forecast = predict(project, "airline-gru", "--steps", "2").splitlines()
    assert forecast[0].split() == ["time", "value"] and len(forecast) == 3
    assert all(math.isfinite(float(line.split()[1])) for line in forecast[1:])
    label = json.loads(predict(project, "bbc-two-layer", "the bank raised interest rates"))
    assert label["label"] in label["probabilities"] and sum(label["probabilities"].values()) == pytest.approx(1, abs=1e-3)
    figures = {path.name for path in (project / "plots" / "figures").rglob("*.png")}
    assert {"airline-gru-predictions.png", "airline-gru-learning.png", "bbc-two-layer-confusion.png"} <= figures
    results = (project / "RESULTS.md").read_text()
    assert "| `airline-gru` | a GRU | 1 |" in results and "| `bbc-two-layer` | two LSTM layers | 1 |" in results
    dvc_yaml = (project / "dvc.yaml").read_text()
    assert "plots/forecast/airline-gru.csv: prediction" in dvc_yaml and "plots/learning/bbc-two-layer.csv:" in dvc_yaml


@pytest.mark.skipif(mirror_path() is None, reason="needs the data mirror")
def test_a_new_task_module_is_used_by_every_stage_and_script_unedited(tmp_path: Path):
    project = reduced_clone(tmp_path, experiments=["airline-window"])
    (project / "stages" / "tasks" / "mean.py").write_text(DUMMY_TASK)
    params = yaml.safe_load((project / "params.yaml").read_text())
    defaults = {"backend": "jax", "deterministic": True, "seeds": [1], "description": "", "write_up": None}
    params["defaults"]["experiments"]["mean"] = defaults
    params["experiments"]["airline-mean"] = {"task": "mean", "dataset": "airline", "description": "the training mean"}
    (project / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    repro(project)

    metrics = json.loads((project / "metrics" / "airline-mean.json").read_text())
    assert metrics["test_error"] < metrics["zero_error"]
    served = predict(project, "airline-mean", "--times", "2").split()
    assert len(served) == 2 and served[0] == served[1]
    assert "does not apply to airline-window" in run_failing(project, "airline-window", "--times", "2")
    assert {path.name for path in (project / "plots").rglob("*.png")} >= {"airline-mean-learning.png", "mean-error.png"}
    assert f"| `airline-mean` | the training mean | 1 | - | {metrics['test_error']:.2f} |" in (project / "RESULTS.md").read_text()


def run_failing(project: Path, *arguments: str) -> str:
    import subprocess

    result = subprocess.run([sys.executable, "-m", "stages.predict", *arguments], cwd=project, capture_output=True, text=True)
    assert result.returncode != 0
    return result.stderr
