"""The forecast task: train and evaluate one-step-ahead LSTM forecasters on a prepared series.

Metrics are in original units, mean and sample std over seeds, with the naive and
seasonal-naive baselines computed on exactly the same test targets.
"""

from __future__ import annotations

import math
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import root_mean_squared_error

from stages import models
from stages.backend import keras
from stages.io import MODELS_DIR, PREPARED_DIR, PipelineError, read_json, write_json
from stages.metrics import mean_and_spread, summarise_seeds, write_evaluation
from stages.params import ForecastExperiment
from stages.series import (
    SCALING_FILE,
    SERIES_FILE,
    Windows,
    load_prepared_series,
    load_series,
    make_windows,
    model_inputs,
    naive_forecast,
    seasonal_naive_forecast,
)


def train(name: str, experiment: ForecastExperiment, folder: Path) -> pd.DataFrame:
    """Fit one model per seed into `folder`, with the prepared series and its scaling beside them
    (so evaluate and predict need nothing else) and the run length a stateful model's state was
    carried through."""
    series = load_prepared_series(experiment.dataset)
    history = experiment.context == "series"
    try:  # both parts, so a look_back the test part cannot hold stops before the training time is spent
        windows = make_windows(series.scaled, 0, series.train_size, experiment.look_back, history)
        make_windows(series.scaled, series.train_size, len(series.scaled), experiment.look_back, history)
    except PipelineError as error:
        raise PipelineError(f"experiments.{name}.look_back: {error}") from None
    if experiment.stateful and len(windows.targets) % experiment.batch_size:
        raise PipelineError(
            f"experiments.{name}.batch_size: a stateful model needs it to divide the {len(windows.targets)} training samples"
        )
    scaling = read_json(PREPARED_DIR / experiment.dataset / SCALING_FILE)
    write_json(folder / SCALING_FILE, scaling | {"training_windows": len(windows.targets)})
    shutil.copyfile(PREPARED_DIR / experiment.dataset / SERIES_FILE, folder / SERIES_FILE)
    inputs, targets = model_inputs(windows.inputs, experiment.framing), windows.targets.astype("float32")
    batches_per_epoch = math.ceil(len(targets) / experiment.batch_size)

    def fit(seed: int, callbacks: list) -> tuple[keras.Model, keras.callbacks.History]:
        model = models.build_forecaster(experiment, steps_per_execution=batches_per_epoch)
        if experiment.stateful:
            callbacks = [models.ResetStatesEachEpoch(), *callbacks]
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

    return models.train_seeds(name, experiment, folder, fit)


def predict_parts(model: keras.Model, experiment: ForecastExperiment, parts: list[Windows]) -> list[np.ndarray]:
    """Scaled predictions per part; a stateful model carries its state through a part, as in the tutorial."""
    predictions = []
    for part in parts:
        models.reset_states(model)
        inputs = model_inputs(part.inputs, experiment.framing)
        predictions.append(model.predict(inputs, batch_size=experiment.batch_size, verbose=0).ravel())
    return predictions


def evaluate(name: str, experiment: ForecastExperiment) -> str:
    series = load_series(MODELS_DIR / name, f"run: dvc repro train@{name}")
    history = experiment.context == "series"
    train_part = make_windows(series.scaled, 0, series.train_size, experiment.look_back, history)
    test_part = make_windows(series.scaled, series.train_size, len(series.scaled), experiment.look_back, history)
    actual_train, actual_test = series.values[train_part.target_index], series.values[test_part.target_index]
    per_seed, train_predictions, test_predictions = [], [], []
    for seed, model in models.load_seed_models(name, experiment.seeds).items():
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
