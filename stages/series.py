"""Time-series pieces shared by train, evaluate and plot: scaling, windowing, baselines.

The scaler is ours, not scikit-learn's: its `x * scale_ + min_` differs from `(x - min) / (max - min)`
in the last bit for 81 of the 144 airline months, and two numbers of JSON keep the model folder
free of pickles."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from typing_extensions import TypedDict

from stages.io import PREPARED_DIR, PipelineError, read_json

SCALING_FILE = "scaler.json"


class ScalingFile(TypedDict):
    """scaler.json, beside a prepared series and in a forecast's model folder: the scaling ..."""

    minimum: float
    maximum: float
    log: bool
    difference: int


class SeriesFile(ScalingFile):
    """... and where the series splits, and its season."""

    train_size: int
    seasonal_period: int


class TrainedScalingFile(ScalingFile):
    training_windows: int  # the run length a stateful model's state was carried through


SERIES_FILE = "series.npz"


@dataclass(frozen=True)
class MinMaxScaler:
    """scikit-learn's MinMaxScaler to [0, 1], small enough to save as two numbers of JSON."""

    minimum: float
    maximum: float

    @classmethod
    def fit(cls, values: np.ndarray) -> MinMaxScaler:
        finite = np.asarray(values, dtype="float64")[np.isfinite(values)]
        if not len(finite):
            raise PipelineError("the training series has no finite values to scale")
        minimum, maximum = float(finite.min()), float(finite.max())
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


def make_windows(series: np.ndarray, start: int, stop: int, look_back: int, history: bool = False) -> Windows:
    """Windows of `look_back` points and the point after each, for the targets in series[start:stop].

    `history=False` is the tutorial's `create_dataset` with its alignment: windows never cross
    the train/test boundary and the last possible sample of each part is dropped
    (`range(len(part) - look_back - 1)`), so test targets are the ones the published RMSE figures
    used. `history=True` lets a window reach back before `start` (those months are known when
    the forecast is made), so every point of the part is a target. Windows over undefined
    (NaN) points, such as the first season of a differenced series, are skipped either way.
    """
    values = np.asarray(series, dtype="float64")
    if history:
        targets = np.arange(max(start, look_back), stop)
    else:
        targets = np.arange(start + look_back, stop - 1)
    inputs = sliding_window_view(values, look_back)[targets - look_back] if len(targets) else np.empty((0, look_back))
    defined = np.all(np.isfinite(inputs), axis=1) & np.isfinite(values[targets])
    if not defined.any():
        hint = "" if history else f" (need look_back <= {stop - start - 2})"
        raise PipelineError(f"look_back {look_back} leaves no samples in a part of {stop - start} points{hint}")
    return Windows(inputs[defined], values[targets[defined]], targets[defined])


def steps_and_features(look_back: int, framing: Literal["features", "timesteps"]) -> tuple[int, int]:
    """What a recurrent layer reads of a window: one step of look_back features, or look_back steps of one feature."""
    return (look_back, 1) if framing == "timesteps" else (1, look_back)


def model_inputs(inputs: np.ndarray, framing: Literal["features", "timesteps"]) -> np.ndarray:
    """Windows shaped (samples, steps, features) for the network."""
    return inputs.reshape(len(inputs), *steps_and_features(inputs.shape[1], framing)).astype("float32")


def naive_forecast(values: np.ndarray, target_index: np.ndarray) -> np.ndarray:
    """Predict each target by the value just before it."""
    return np.asarray(values, dtype="float64")[target_index - 1]


def seasonal_naive_forecast(values: np.ndarray, target_index: np.ndarray, period: int) -> np.ndarray:
    """Predict each target by the value one season earlier (12 for monthly data)."""
    if np.min(target_index) < period:
        raise PipelineError(f"seasonal_period {period} reaches before the start of the series")
    return np.asarray(values, dtype="float64")[target_index - period]


@dataclass(frozen=True)
class Transform:
    """What the model sees before scaling. `log` turns a seasonal swing that grows with the level
    (the airline's) into a constant one; `difference` models the change since that many steps
    earlier (12: same month last year), which removes the trend and the season the scaler
    cannot extrapolate. The default is the level itself, as in the write-ups."""

    log: bool = False
    difference: int = 0

    def level(self, values: np.ndarray) -> np.ndarray:
        values = np.asarray(values, dtype="float64")
        return np.log(values) if self.log else values

    def forward(self, values: np.ndarray) -> np.ndarray:
        """Same length as `values`; the first `difference` points are NaN (nothing to subtract)."""
        level = self.level(values)
        if not self.difference:
            return level
        changes = np.full(len(level), np.nan)
        changes[self.difference :] = level[self.difference :] - level[: -self.difference]
        return changes

    def inverse(self, modelled: np.ndarray, values: np.ndarray, target_index: np.ndarray) -> np.ndarray:
        """Original units for modelled values at `target_index`, from the actual earlier `values`."""
        level = np.asarray(modelled, dtype="float64")
        if self.difference:
            level = level + self.level(values)[np.asarray(target_index) - self.difference]
        return np.exp(level) if self.log else level


@dataclass(frozen=True)
class Scaling:
    """Original values <-> what the model reads. Saved beside the prepared series and with every
    forecast model, so a model forecasts from its own folder."""

    scaler: MinMaxScaler
    transform: Transform

    def scale(self, values: np.ndarray) -> np.ndarray:
        return self.scaler.transform(self.transform.forward(values))

    def to_original(self, scaled: np.ndarray, target_index: np.ndarray, values: np.ndarray) -> np.ndarray:
        """Model outputs for `target_index` -> original units (`values`: the series they continue)."""
        return self.transform.inverse(self.scaler.inverse(scaled), values, target_index)


def read_scaling(path: Path) -> Scaling:
    meta = read_json(path, ScalingFile)
    return Scaling(MinMaxScaler(meta["minimum"], meta["maximum"]), Transform(meta["log"], meta["difference"]))


@dataclass(frozen=True)
class PreparedSeries:
    time: np.ndarray
    values: np.ndarray  # original units
    scaled: np.ndarray  # transformed, then scaled; NaN where the transform is undefined
    scaling: Scaling
    train_size: int
    seasonal_period: int

    def to_original(self, scaled: np.ndarray, target_index: np.ndarray) -> np.ndarray:
        return self.scaling.to_original(scaled, target_index, self.values)


def load_prepared_series(dataset: str) -> PreparedSeries:
    """What preprocess@<dataset> wrote for a series dataset."""
    return load_series(PREPARED_DIR / dataset, f"run: dvc repro preprocess@{dataset}")


def load_series(folder: Path, remedy: str) -> PreparedSeries:
    """A prepared series from `folder`: data/prepared/<dataset>, or the copy a model was trained on."""
    try:
        arrays = np.load(folder / SERIES_FILE)
        meta = read_json(folder / SCALING_FILE, SeriesFile)
    except FileNotFoundError:
        raise PipelineError(f"{folder}: no prepared series ({remedy})") from None
    except (OSError, ValueError) as error:
        raise PipelineError(f"{folder}: prepared series unreadable ({type(error).__name__}: {error}); {remedy}") from None
    scaling = read_scaling(folder / SCALING_FILE)
    return PreparedSeries(
        arrays["time"], arrays["values"], arrays["scaled"], scaling, int(meta["train_size"]), int(meta["seasonal_period"])
    )
