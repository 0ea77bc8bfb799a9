"""The seed loop every task trains with: each seed's random generators fixed, its fit logged
epoch by epoch (a progress line, and DVCLive for `dvc exp show` and `dvc plots` while the stage
runs), its model saved, and the learning curves of all seeds from Keras's History."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from dvclive import Live

from stages import backend
from stages.backend import keras
from stages.checkpoints import save_model
from stages.io import PipelineError
from stages.text import length_batch_plan, pad_batch


def seed_everything(seed: int, deterministic: bool = True) -> None:
    """Same seed, same data, same params -> identical weights and metrics; `deterministic: false`
    (params.yaml) leaves kernels free to be faster on a GPU, and the last digits then vary."""
    keras.utils.set_random_seed(seed)
    if deterministic:
        backend.make_deterministic()


class EpochProgress(keras.callbacks.Callback):
    """One line per epoch (loss, validation loss, seconds), so a long stage shows it is alive."""

    def __init__(self, name: str, seed: int, epochs: int) -> None:
        super().__init__()
        self.prefix, self.epochs = f"train@{name} seed {seed}", epochs

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self.started = time.perf_counter()

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        figures = ", ".join(f"{key} {value:.4f}" for key, value in (logs or {}).items() if key in ("loss", "val_loss"))
        print(f"{self.prefix} epoch {epoch + 1}/{self.epochs}: {figures} ({time.perf_counter() - self.started:.1f} s)", flush=True)


class FileLog(Live):
    """DVCLive's files only: DVC already runs the stage, so DVCLive's own experiment hooks are not
    wanted (and they stop on a git repository with no commit yet)."""

    def _init_dvc(self) -> None:
        pass


class LiveLog(keras.callbacks.Callback):
    """Each epoch's Keras figures to DVCLive as `seed-<seed>/<train|eval>/<metric>`, steps counted
    from 0 for every seed (DVCLive's own Keras callback has no seed, so seeds would overwrite)."""

    def __init__(self, live: Any, seed: int) -> None:
        super().__init__()
        self.live, self.seed = live, seed

    def on_train_begin(self, logs: dict | None = None) -> None:
        self.live.step = 0

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        for key, value in (logs or {}).items():
            split, metric = ("eval", key.removeprefix("val_")) if key.startswith("val_") else ("train", key)
            self.live.log_metric(f"seed-{self.seed}/{split}/{metric}", value)
        self.live.next_step()


def train_seeds(
    name: str, experiment: Any, folder: Path, live_folder: Path, fit: Callable[[int, list], tuple[keras.Model, keras.callbacks.History]]
) -> pd.DataFrame:
    """For each of the experiment's seeds, under its device settings (determinism, mixed
    precision): fix every random generator, `fit(seed, callbacks)`, save the model to
    `folder/seed-<seed>.keras`, each epoch logged to DVCLive in `live_folder`. Returns the
    learning curves of all seeds."""
    if experiment.mixed_precision and not backend.has_gpu():
        raise PipelineError(f"experiments.{name}.mixed_precision: needs a GPU; on a CPU float16 LSTM training aborts or crawls")
    keras.config.set_dtype_policy("mixed_float16" if experiment.mixed_precision else "float32")
    live = FileLog(dir=str(live_folder), dvcyaml=False, save_dvc_exp=False)
    histories = {}
    for seed in experiment.seeds:
        seed_everything(seed, experiment.deterministic)
        model, history = fit(seed, [EpochProgress(name, seed, experiment.epochs), LiveLog(live, seed)])
        save_model(model, folder / f"seed-{seed}.keras")
        histories[seed] = history.history
    live.end()
    return learning_curves(histories)


class LengthBatches(keras.utils.PyDataset):
    """Training batches of similar length (text.length_batch_plan), each right-padded to its own
    longest sequence, planned afresh every epoch from one seeded generator. Plain NumPy batches,
    so any backend reads them, and with no generator pipeline to wait for between epochs."""

    def __init__(self, sequences: list[list[int]], targets: np.ndarray, batch_size: int, seed: int, chunk_batches: int = 32) -> None:
        super().__init__()
        self.sequences, self.targets, self.batch_size, self.chunk_batches = sequences, targets, batch_size, chunk_batches
        self.lengths, self.rng = np.array([len(sequence) for sequence in sequences]), np.random.default_rng(seed)
        self.on_epoch_end()

    def __len__(self) -> int:
        return len(self.batches)

    def __getitem__(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        batch = self.batches[index]
        return pad_batch([self.sequences[row] for row in batch], backend.length_step()), self.targets[batch]

    def on_epoch_end(self) -> None:
        self.batches = length_batch_plan(self.lengths, self.batch_size, self.rng, self.chunk_batches)


def reset_states(model: keras.Model) -> None:
    for layer in model.layers:
        if getattr(layer, "stateful", False):
            layer.reset_state()


class ResetStatesEachEpoch(keras.callbacks.Callback):
    """The tutorial's `for epoch: fit(epochs=1); reset_states()` loop inside one fit() call.

    Same updates in the same order (checked in tests), without 100 fit() start-ups.
    """

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        reset_states(self.model)


def learning_curves(histories: dict[int, dict[str, list[float]]]) -> pd.DataFrame:
    """Per-epoch table: each Keras history key as its mean over seeds (training figures first,
    then validation), plus `<key>_seed<N>` columns. Seeds that stopped early leave their later
    epochs empty."""
    keys = sorted(next(iter(histories.values())), key=lambda key: (key.startswith("val_"), key != "loss", key))
    columns = {f"{key}_seed{seed}": pd.Series(history[key], dtype="float64") for seed, history in histories.items() for key in keys}
    per_seed = pd.DataFrame(columns)
    means = pd.DataFrame({key: per_seed[[f"{key}_seed{seed}" for seed in histories]].mean(axis=1) for key in keys})
    curves = pd.concat([means, per_seed], axis=1)
    curves.insert(0, "epoch", np.arange(1, len(curves) + 1))
    return curves
