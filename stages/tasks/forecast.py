"""The forecast task: one-step-ahead recurrent forecasters of a prepared series.

Metrics are in original units, mean and sample std over seeds, with the naive and
seasonal-naive baselines computed on exactly the same test targets. `predict` forecasts
recursively, each prediction the newest input of the next.
"""

from __future__ import annotations

import math
import re
import shutil
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import StrictBool, StrictStr
from pydantic.dataclasses import dataclass
from sklearn.metrics import root_mean_squared_error

from stages.io import MODELS_DIR, PREPARED_DIR, PipelineError, read_json, restore_command, write_json
from stages.metrics import mean_and_spread, summarise_seeds, write_evaluation
from stages.schema import CHECKED, Training, Window
from stages.series import (
    SCALING_FILE,
    SERIES_FILE,
    PreparedSeries,
    TrainedScalingFile,
    Windows,
    load_prepared_series,
    load_series,
    make_windows,
    model_inputs,
    naive_forecast,
    read_scaling,
    seasonal_naive_forecast,
    steps_and_features,
)
from stages.tasks import Primary, Run

MAX_STEPS = 1000
PROGRESS_EVERY = 100


@dataclass(frozen=True, config=CHECKED)
class ForecastExperiment(Training):
    """`framing` says whether the window is features or time steps; `context: series` lets a
    window reach back across the train/test boundary."""

    task: Literal["forecast"]
    look_back: Window
    framing: Literal["features", "timesteps"]
    stateful: StrictBool
    context: Literal["part", "series"]
    compare_with: StrictStr | None  # another forecast experiment, drawn beside this one

    def __post_init__(self) -> None:
        if self.network.embedding_dim is not None:
            raise ValueError("network.embedding_dim: a forecast reads numbers, not words; leave it empty")


Experiment = ForecastExperiment
DATASET_KINDS = ("series",)
PRIMARY = Primary("test_rmse", "test RMSE", lower_is_better=True)
BASELINES = {"naive_test_rmse": "naive", "seasonal_naive_test_rmse": "seasonal naive"}
RESULTS_COLUMNS = ["test RMSE", "naive", "seasonal naive"]


def parts(series: PreparedSeries, experiment: ForecastExperiment) -> tuple[Windows, Windows]:
    """The train and test parts' windows."""
    history = experiment.context == "series"
    return (
        make_windows(series.scaled, 0, series.train_size, experiment.look_back, history),
        make_windows(series.scaled, series.train_size, len(series.scaled), experiment.look_back, history),
    )


def build(experiment: ForecastExperiment, steps_per_execution: int = 1) -> Any:
    """The experiment's network over its windows, one output, compiled. `steps_per_execution` runs
    that many batches per call: identical updates, far less Python overhead at batch size 1."""
    from stages.networks import build_network, compile_model

    steps, features = steps_and_features(experiment.look_back, experiment.framing)
    batch = experiment.batch_size if experiment.stateful else None
    model = build_network(experiment.network, steps, features, 1, stateful_batch=batch)
    return compile_model(model, "adam", experiment.learning_rate, "mean_squared_error", steps_per_execution=steps_per_execution)


def train(name: str, experiment: ForecastExperiment, folder: Path, live: Path) -> pd.DataFrame:
    """Fit one model per seed into `folder`, with the prepared series and its scaling beside them
    (so evaluate and predict need nothing else) and the run length a stateful model's state was
    carried through."""
    from stages import fitting, networks

    series = load_prepared_series(experiment.dataset)
    try:  # both parts, so a look_back the test part cannot hold stops before the training time is spent
        windows, _ = parts(series, experiment)
    except PipelineError as error:
        raise PipelineError(f"experiments.{name}.look_back: {error}") from None
    if experiment.stateful and len(windows.targets) % experiment.batch_size:
        raise PipelineError(
            f"experiments.{name}.batch_size: a stateful model needs it to divide the {len(windows.targets)} training samples"
        )
    steps, features = steps_and_features(experiment.look_back, experiment.framing)
    networks.check_size(name, experiment.network, steps, features, 1, 0, experiment.batch_size)
    scaling = read_json(PREPARED_DIR / experiment.dataset / SCALING_FILE)  # copied as it is, checked when read
    write_json(folder / SCALING_FILE, scaling | {"training_windows": len(windows.targets)})
    shutil.copyfile(PREPARED_DIR / experiment.dataset / SERIES_FILE, folder / SERIES_FILE)
    inputs, targets = model_inputs(windows.inputs, experiment.framing), windows.targets.astype("float32")
    batches_per_epoch = math.ceil(len(targets) / experiment.batch_size)

    def fit(seed: int, callbacks: list) -> tuple[Any, Any]:
        model = build(experiment, steps_per_execution=batches_per_epoch)
        if experiment.stateful:
            callbacks = [fitting.ResetStatesEachEpoch(), *callbacks]
        history = model.fit(
            inputs,
            targets,
            epochs=experiment.epochs,
            batch_size=experiment.batch_size,
            shuffle=not experiment.stateful,
            callbacks=callbacks,
            verbose=0,
        )
        return model, history

    return fitting.train_seeds(name, experiment, folder, live, fit)


def predict_parts(model: Any, experiment: ForecastExperiment, windows: list[Windows]) -> list[np.ndarray]:
    """Scaled predictions per part; a stateful model carries its state through a part, as in the tutorial."""
    from stages.fitting import reset_states

    predictions = []
    for part in windows:
        reset_states(model)
        inputs = model_inputs(part.inputs, experiment.framing)
        predictions.append(model.predict(inputs, batch_size=experiment.batch_size, verbose=0).ravel())
    return predictions


def evaluate(name: str, experiment: ForecastExperiment) -> str:
    from stages.checkpoints import load_seed_models

    series = load_series(MODELS_DIR / name, f"run: dvc repro train@{name}")
    train_part, test_part = parts(series, experiment)
    actual_train, actual_test = series.values[train_part.target_index], series.values[test_part.target_index]
    per_seed, train_predictions, test_predictions = [], [], []
    for seed, model in load_seed_models(name, experiment.seeds).items():
        scaled_train, scaled_test = predict_parts(model, experiment, [train_part, test_part])
        train_predictions.append(series.to_original(scaled_train, train_part.target_index))
        test_predictions.append(series.to_original(scaled_test, test_part.target_index))
        train_rmse = root_mean_squared_error(actual_train, train_predictions[-1])
        per_seed.append({"seed": seed, "train_rmse": train_rmse, "test_rmse": root_mean_squared_error(actual_test, test_predictions[-1])})
    metrics = summarise_seeds(per_seed) | {
        "naive_test_rmse": root_mean_squared_error(actual_test, naive_forecast(series.values, test_part.target_index)),
        "seasonal_naive_test_rmse": root_mean_squared_error(
            actual_test, seasonal_naive_forecast(series.values, test_part.target_index, series.seasonal_period)
        ),
        "seeds": len(per_seed),
    }
    target_index = np.concatenate([train_part.target_index, test_part.target_index])
    months = np.arange(len(series.values))

    def by_month(summary: Callable[..., np.ndarray]) -> np.ndarray:
        """Over the seeds, per month of the series; empty where a month is no target (a part's first windows)."""
        column = np.full(len(months), np.nan)
        column[target_index] = np.concatenate([summary(train_predictions, axis=0), summary(test_predictions, axis=0)])
        return column

    table = pd.DataFrame(
        {
            "index": months,
            "time": series.time,
            "split": np.where(months < series.train_size, "train", "test"),
            "actual": series.values,  # every month, so the actual series is drawn without a gap
            "prediction": by_month(np.mean),
            "lowest": by_month(np.min),
            "highest": by_month(np.max),
        }
    )
    write_evaluation(name, "forecast", metrics, per_seed, table)
    baselines = f"naive {metrics['naive_test_rmse']:.2f}, seasonal naive {metrics['seasonal_naive_test_rmse']:.2f}"
    return f"test RMSE {mean_and_spread(metrics, 'test_rmse', 2)} ({baselines})"


def future_times(times: np.ndarray, steps: int) -> list[str]:
    """The next `steps` time labels when the series has a regular date frequency, else t+1, t+2, ..."""
    for pattern, style in ((r"^\d{4}-\d{2}$", "%Y-%m"), (r"^\d{4}-\d{2}-\d{2}$", "%Y-%m-%d")):
        if len(times) >= 3 and all(re.match(pattern, str(time)) for time in times):
            dates = pd.to_datetime(times, format=style)
            with pd.option_context("future.infer_freq_returns_offset", True):
                frequency = pd.infer_freq(dates)
            if frequency:
                return [date.strftime(style) for date in pd.date_range(dates[-1], periods=steps + 1, freq=frequency)[1:]]
    return [f"t+{step}" for step in range(1, steps + 1)]


def trained_series(name: str) -> PreparedSeries:
    return load_series(MODELS_DIR / name, restore_command(MODELS_DIR / name))


def forecast(name: str, experiment: ForecastExperiment, steps: int, values: list[float] | None) -> pd.DataFrame:
    """Recursive multi-step forecast: each prediction becomes the newest input of the next.

    A stateful model first carries its state through the history, at most as many windows as one
    training epoch has (its state was reset every epoch, so it never saw a longer run)."""
    from stages.checkpoints import load_seed_models
    from stages.fitting import reset_states

    if steps <= 0:
        raise PipelineError(f"--steps must be > 0, got {steps}")
    if steps > MAX_STEPS:
        raise PipelineError(f"--steps must be at most {MAX_STEPS}, got {steps}")
    if experiment.stateful and experiment.batch_size != 1:
        raise PipelineError(f"experiments.{name}.batch_size: a stateful model forecasts step by step only with batch_size 1")
    scaling = read_scaling(MODELS_DIR / name / SCALING_FILE)  # saved with the model
    longest = read_json(MODELS_DIR / name / SCALING_FILE, TrainedScalingFile)["training_windows"]
    series = trained_series(name) if values is None else None
    history = series.values if values is None else np.asarray(values, dtype="float64")
    needed = experiment.look_back + scaling.transform.difference
    if len(history) < needed:
        parts_needed = f"look_back {experiment.look_back} + difference {scaling.transform.difference}"
        raise PipelineError(f"--values: {name} needs at least {needed} values ({parts_needed}), got {len(history)}")
    warm_up = None
    if experiment.stateful and len(history) > needed:
        windows = make_windows(scaling.scale(history), 0, len(history), experiment.look_back, history=True).inputs
        if len(windows) > longest:
            print(
                f"note: {name} was trained on runs of {longest} windows (its state reset every epoch), so its state "
                f"is carried through the last {longest} windows of the history only",
                file=sys.stderr,
            )
        warm_up = model_inputs(windows[-longest:], experiment.framing)
    runs = []
    for model in load_seed_models(name, experiment.seeds).values():
        reset_states(model)
        if warm_up is not None:
            model.predict(warm_up, batch_size=1, verbose=0)
        extended = history
        for step in range(1, steps + 1):
            if steps > PROGRESS_EVERY and step % PROGRESS_EVERY == 0:
                print(f"forecast: step {step}/{steps} of seed model {len(runs) + 1}", file=sys.stderr)
            window = scaling.scale(extended)[np.newaxis, -experiment.look_back :]
            scaled = np.asarray(model(model_inputs(window, experiment.framing), training=False))[0]
            extended = np.append(extended, scaling.to_original(scaled, [len(extended)], extended))
        runs.append(extended[len(history) :])
    times = future_times(series.time, steps) if series is not None else [f"t+{step}" for step in range(1, steps + 1)]
    return pd.DataFrame({"time": times, "value": np.round(np.mean(runs, axis=0), 2)})


def add_predict_arguments(group: Any) -> None:
    group.add_argument("--steps", type=int, help=f"forecast: how many steps ahead (default 12, at most {MAX_STEPS})")
    group.add_argument("--values", help="forecast: comma-separated recent values to start from instead of the series' end")
    group.add_argument("--plot", help="forecast: also draw history + forecast into this PNG (its folder must exist)")
    group.add_argument("--history", type=int, help="forecast: points of history shown in --plot (default: 3 x steps, >= 24)")


def parse_values(text: str | None) -> list[float] | None:
    if text is None:
        return None
    if not text.strip():
        raise PipelineError("--values: empty; give comma-separated numbers, or leave it out to start from the series' end")
    try:
        values = [float(value) for value in text.split(",")]
    except ValueError:
        raise PipelineError(f"--values: expected comma-separated numbers, got {text!r}") from None
    not_finite = [value for value in values if not math.isfinite(value)]
    if not_finite:
        raise PipelineError(f"--values: {not_finite[0]} is not a finite number; every value must be one")
    return values


def predict(name: str, experiment: ForecastExperiment, dataset: Any, options: Any, draw: ModuleType) -> None:
    if options.plot and not Path(options.plot).resolve().parent.is_dir():
        raise PipelineError(f"--plot: the folder {Path(options.plot).parent} does not exist")
    values = parse_values(options.values)
    table = forecast(name, experiment, 12 if options.steps is None else options.steps, values)
    print(table.to_string(index=False))
    if options.plot:
        if values is None:
            series = trained_series(name)
            history = pd.DataFrame({"time": series.time, "value": series.values})
        else:
            history = pd.DataFrame({"time": [f"t-{len(values) - index - 1}" for index in range(len(values))], "value": values})
        draw.plot_forecast(name, history, table, options.plot, options.history, dataset.value_column)


read_table = pd.read_csv


def chart_groups(runs: list[Run]) -> dict[str, list[Run]]:
    """The experiments of each series file, named after its first dataset: one chart each."""
    groups: dict[str, list[Run]] = {}
    names: dict[str, str] = {}
    for run in runs:
        groups.setdefault(names.setdefault(run.dataset.files[0].sha256, run.experiment.dataset), []).append(run)
    return groups


def draw_experiment(run: Run, draw: ModuleType, folder: Path) -> None:
    """Its forecasts vs actual."""
    draw.plot_predictions(run.name, run.table, run.dataset.value_column, folder / f"{run.name}-predictions.png")


def draw_summary(runs: list[Run], draw: ModuleType, folder: Path) -> None:
    """Per series file the RMSE by variant and every variant's test forecasts; each `compare_with`
    pair side by side: each only when the outputs of every experiment on it are here."""
    for chart, group in chart_groups(runs).items():
        if any(run.table is None for run in group):
            continue
        unit, first = group[0].dataset.value_column, group[0]
        seasonal = draw.seasonal_label(first.dataset.seasonal_period, first.table["time"])
        metrics = {run.name: run.metrics for run in group}
        baselines = {"naive_test_rmse": "naive (last value)", "seasonal_naive_test_rmse": seasonal}
        labels = [run.name.removeprefix(f"{chart}-") for run in group]
        title, path = f"{chart}: test RMSE by variant", folder / f"{chart}-rmse-by-variant.png"
        draw.plot_bars_with_baselines(metrics, "test_rmse", baselines, labels, title, f"RMSE ({unit})", path)
        tests = {run.name: run.table[run.table["split"] == "test"] for run in group}
        dashed = {run.name for run in group if run.dataset.log or run.dataset.difference}
        draw.plot_test_forecasts(chart, tests, metrics, dashed, unit, folder / f"{chart}-test-forecasts.png")
    by_name = {run.name: run for run in runs}
    for run in runs:
        other = by_name.get(run.experiment.compare_with)
        if other is not None and run.table is not None and other.table is not None:
            pair = {name: by_name[name].table for name in (run.name, other.name)}
            metrics = {name: by_name[name].metrics for name in pair}
            path = folder / f"{run.name}-vs-{other.name}.png"
            draw.plot_pair(run.name, other.name, pair, metrics, run.dataset.value_column, path)


def _axes(dataset: Any) -> dict:
    step = (dataset.time_column or "step").lower()
    return {"x": "index", "x_label": f"{step} of the series (0 = the first)", "y_label": dataset.value_column.lower()}


def dvc_plots(runs: list[Run]) -> list[dict]:
    """`dvc plots show` charts: each `compare_with` pair, and each series file's forecasts on one chart."""
    plots = []
    for run in (run for run in runs if run.experiment.compare_with is not None):
        first, second = run.name, run.experiment.compare_with
        title = f"{first} vs {second}, one-step-ahead forecasts (mean of seeds) vs actual"
        y = {f"plots/forecast/{first}.csv": ["actual", "prediction"], f"plots/forecast/{second}.csv": "prediction"}
        plots.append({f"{first}-vs-{second}": {"title": title, **_axes(run.dataset), "y": y}})
    for chart, group in chart_groups(runs).items():
        title = f"{chart}, every variant's one-step-ahead forecast vs actual"
        y = {f"plots/forecast/{run.name}.csv": ["actual", "prediction"] if run is group[0] else "prediction" for run in group}
        plots.append({f"{chart}-forecasts": {"title": title, **_axes(group[0].dataset), "y": y}})
    return plots


def result_cells(metrics: dict) -> list[str]:
    return [mean_and_spread(metrics, "test_rmse", 2), f"{metrics['naive_test_rmse']:.2f}", f"{metrics['seasonal_naive_test_rmse']:.2f}"]
