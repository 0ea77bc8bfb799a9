"""Time-series pieces shared by train, evaluate and plot: scaling, windowing, baselines, RMSE."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from stages.io import PREPARED_DIR, PipelineError, read_json


@dataclass(frozen=True)
class MinMaxScaler:
    """scikit-learn's MinMaxScaler to [0, 1], small enough to save as two numbers of JSON."""

    minimum: float
    maximum: float

    @classmethod
    def fit(cls, values: np.ndarray) -> MinMaxScaler:
        minimum, maximum = float(np.min(values)), float(np.max(values))
        if maximum == minimum:
            raise PipelineError("cannot scale a constant training series (min == max)")
        return cls(minimum, maximum)

    def transform(self, values: np.ndarray) -> np.ndarray:
        return (np.asarray(values, dtype="float64") - self.minimum) / (self.maximum - self.minimum)

    def inverse(self, scaled: np.ndarray) -> np.ndarray:
        return np.asarray(scaled, dtype="float64") * (self.maximum - self.minimum) + self.minimum


def train_size(length: int, train_fraction: float) -> int:
    """Points in the training part, rounded down as the tutorial does (144 * 0.67 -> 96)."""
    return int(length * train_fraction)


@dataclass(frozen=True)
class Windows:
    inputs: np.ndarray  # (samples, look_back)
    targets: np.ndarray  # (samples,)
    target_index: np.ndarray  # position of each target in the whole series


def make_windows(series: np.ndarray, start: int, stop: int, look_back: int) -> Windows:
    """The tutorial's `create_dataset` on series[start:stop], with its alignment.

    Like the tutorial, windows never cross the train/test boundary and the last possible
    sample of each part is dropped (`range(len(part) - look_back - 1)`), so our test targets
    are exactly the ones the published RMSE figures were computed on.
    """
    part = np.asarray(series[start:stop], dtype="float64")
    count = len(part) - look_back - 1
    if count < 1:
        raise PipelineError(f"look_back {look_back} leaves no samples in a part of {len(part)} points (need look_back <= {len(part) - 2})")
    offsets = np.arange(count)
    inputs = np.stack([part[offset : offset + look_back] for offset in offsets])
    return Windows(inputs, part[offsets + look_back], start + offsets + look_back)


def model_inputs(inputs: np.ndarray, framing: Literal["features", "timesteps"]) -> np.ndarray:
    """Shape windows for an LSTM: one step of look_back features, or look_back steps of one feature."""
    steps, features = (inputs.shape[1], 1) if framing == "timesteps" else (1, inputs.shape[1])
    return inputs.reshape(len(inputs), steps, features).astype("float32")


def naive_forecast(values: np.ndarray, target_index: np.ndarray) -> np.ndarray:
    """Predict each target by the value just before it."""
    return np.asarray(values, dtype="float64")[target_index - 1]


def seasonal_naive_forecast(values: np.ndarray, target_index: np.ndarray, period: int) -> np.ndarray:
    """Predict each target by the value one season earlier (12 for monthly data)."""
    if np.min(target_index) < period:
        raise PipelineError(f"seasonal_period {period} reaches before the start of the series")
    return np.asarray(values, dtype="float64")[target_index - period]


def rmse(actual: np.ndarray, predicted: np.ndarray) -> float:
    actual, predicted = np.asarray(actual, dtype="float64"), np.asarray(predicted, dtype="float64")
    return float(np.sqrt(np.mean((actual - predicted) ** 2)))


@dataclass(frozen=True)
class PreparedSeries:
    time: np.ndarray
    values: np.ndarray  # original units
    scaled: np.ndarray
    scaler: MinMaxScaler
    train_size: int


def load_prepared_series(dataset: str) -> PreparedSeries:
    """What preprocess@<dataset> wrote for a series dataset."""
    folder = PREPARED_DIR / dataset
    try:
        arrays = np.load(folder / "series.npz")
        meta = read_json(folder / "scaler.json")
    except FileNotFoundError:
        raise PipelineError(f"{folder}: not prepared yet (run: dvc repro preprocess@{dataset})") from None
    scaler = MinMaxScaler(meta["minimum"], meta["maximum"])
    return PreparedSeries(arrays["time"], arrays["values"], arrays["scaled"], scaler, int(meta["train_size"]))
