"""Keras model builders, one per architecture, the seed loop every task trains with, and the
state handling stateful LSTMs need."""

from __future__ import annotations

import json
import os
import time
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from dvclive import Live

from stages.backend import keras, layers, tf
from stages.io import MODELS_DIR, PipelineError
from stages.params import Experiment, ForecastExperiment, RecurrentNetwork

LIVE_DIR = Path("dvclive")


def seed_everything(seed: int, deterministic: bool = True) -> None:
    """Same seed, same data, same params -> identical weights and metrics; `deterministic: false`
    (params.yaml) leaves kernels free to be faster on a GPU, and the last digits then vary."""
    keras.utils.set_random_seed(seed)
    if deterministic:
        tf.config.experimental.enable_op_determinism()


def output_dtype() -> str | None:
    """float32 for an output layer under mixed precision (a softmax in float16 loses the small
    probabilities); None otherwise, which keeps a float32 model exactly as it was."""
    return "float32" if keras.config.dtype_policy().name.startswith("mixed") else None


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


def _number_shared_objects(config: Any, numbers: dict[int, int]) -> Any:
    """Keras names objects shared between layers by their memory address; number them in order instead."""
    if isinstance(config, dict):
        return {
            key: numbers.setdefault(value, len(numbers)) if key == "shared_object_id" else _number_shared_objects(value, numbers)
            for key, value in config.items()
        }
    if isinstance(config, list):
        return [_number_shared_objects(value, numbers) for value in config]
    return config


def save_model(model: keras.Model, path: Path) -> None:
    """Save a .keras archive without its save date, file times and memory addresses, so the same
    weights give the same bytes (and an unchanged hash in dvc.lock) whenever they are trained."""
    model.save(path)
    unpinned = path.with_name(f".{path.name}.unpinned")
    os.replace(path, unpinned)
    with zipfile.ZipFile(unpinned) as source, zipfile.ZipFile(path, "w") as target:
        for member in source.infolist():
            data = source.read(member)
            if member.filename == "metadata.json":
                data = json.dumps({key: value for key, value in json.loads(data).items() if key != "date_saved"}).encode()
            elif member.filename == "config.json":
                data = json.dumps(_number_shared_objects(json.loads(data), {})).encode()
            target.writestr(zipfile.ZipInfo(member.filename), data, compress_type=member.compress_type)
    unpinned.unlink()


class FileLog(Live):
    """DVCLive's files only: DVC already runs the stage, so DVCLive's own experiment hooks are not
    wanted (and they stop on a git repository with no commit yet)."""

    def _init_dvc(self) -> None:
        pass


def train_seeds(
    name: str, experiment: Experiment, folder: Path, fit: Callable[[int, list], tuple[keras.Model, keras.callbacks.History]]
) -> pd.DataFrame:
    """For each of the experiment's seeds, under its device settings (determinism, mixed
    precision): fix every random generator, `fit(seed, callbacks)`, save the model to
    `folder/seed-<seed>.keras`. DVCLive logs every epoch as it ends to dvclive/<name>/
    (`seed-<seed>/train/loss`, `.../eval/loss`, ...), which `dvc exp show` and `dvc plots` read
    while the stage runs. Returns the learning curves of all seeds, read back from that log."""
    if experiment.mixed_precision and not tf.config.list_physical_devices("GPU"):
        raise PipelineError(f"experiments.{name}.mixed_precision: needs a GPU; on a CPU TensorFlow aborts in float16 LSTM training")
    keras.config.set_dtype_policy("mixed_float16" if experiment.mixed_precision else "float32")
    live = FileLog(dir=str(LIVE_DIR / name), dvcyaml=False, save_dvc_exp=False)
    for seed in experiment.seeds:
        seed_everything(seed, experiment.deterministic)
        model, _ = fit(seed, [EpochProgress(name, seed, experiment.epochs), LiveLog(live, seed)])
        save_model(model, folder / f"seed-{seed}.keras")
    live.end()
    return learning_curves({seed: live_history(Path(live.dir), seed) for seed in experiment.seeds})


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


def live_history(folder: Path, seed: int) -> dict[str, list[float]]:
    """One seed's per-epoch figures as DVCLive logged them, under Keras's names (`val_` for eval)."""
    summary = json.loads((folder / "metrics.json").read_text(encoding="utf-8"))[f"seed-{seed}"]
    history = {}
    for split, prefix in (("train", ""), ("eval", "val_")):
        for metric in summary.get(split, {}):
            table = pd.read_csv(folder / "plots" / "metrics" / f"seed-{seed}" / split / f"{metric}.tsv", sep="\t")
            history[f"{prefix}{metric}"] = table[metric].tolist()
    return history


def load_seed_models(name: str, seeds: list[int]) -> dict[int, keras.Model]:
    """The models train@<name> saved, one per seed, uncompiled: prediction needs no optimizer,
    and a compiled copy would predict with the training `steps_per_execution` (25x slower here)."""
    paths = {seed: MODELS_DIR / name / f"seed-{seed}.keras" for seed in seeds}
    missing = [str(path) for path in paths.values() if not path.is_file()]
    if missing:
        raise PipelineError(f"{missing[0]}: model not trained yet (run: dvc repro train@{name})")
    return {seed: _load_model(name, path) for seed, path in paths.items()}


def _load_model(name: str, path: Path) -> keras.Model:
    try:
        return keras.models.load_model(path, compile=False)
    except (OSError, ValueError, zipfile.BadZipFile) as error:  # a truncated or empty .keras file
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        remedy = f"run: dvc checkout {path.parent} or dvc repro train@{name}"
        raise PipelineError(f"{path}: cannot load the model ({reason}); {remedy}") from None


def build_forecaster(experiment: ForecastExperiment, steps_per_execution: int = 1) -> keras.Model:
    """LSTM(units[0]) -> ... -> Dense(1); stateful models get a fixed batch shape as Keras requires.

    `steps_per_execution` runs that many batches per graph call: identical updates, far less
    Python overhead for the tutorial's batch size of 1.
    """
    steps, features = (experiment.look_back, 1) if experiment.framing == "timesteps" else (1, experiment.look_back)
    if experiment.stateful:
        inputs = keras.Input(batch_shape=(experiment.batch_size, steps, features))
    else:
        inputs = keras.Input(shape=(steps, features))
    hidden = inputs
    for index, units in enumerate(experiment.units):
        last = index == len(experiment.units) - 1
        hidden = layers.LSTM(units, stateful=experiment.stateful, return_sequences=not last)(hidden)
    outputs = layers.Dense(1, dtype=output_dtype())(hidden)
    model = keras.Model(inputs, outputs)
    compile_model(model, "adam", experiment.learning_rate, "mean_squared_error", steps_per_execution=steps_per_execution)
    return model


def compile_model(
    model: keras.Model,
    optimizer: str,
    learning_rate: float,
    loss: str,
    clipnorm: float = 0.0,
    metrics: list[str] | None = None,
    steps_per_execution: int = 1,
) -> keras.Model:
    """Every model of the pipeline is compiled here: Adam or RMSprop, clipping when `clipnorm` > 0."""
    optimizers = {"adam": keras.optimizers.Adam, "rmsprop": keras.optimizers.RMSprop}
    model.compile(
        optimizer=optimizers[optimizer](learning_rate, clipnorm=clipnorm or None),
        loss=loss,
        metrics=metrics,
        steps_per_execution=steps_per_execution,
    )
    return model


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
    """Per-epoch table: each Keras history key as its mean over seeds, plus `<key>_seed<N>` columns.

    Seeds that stopped early leave their later epochs empty.
    """
    columns = {f"{key}_seed{seed}": pd.Series(values) for seed, history in histories.items() for key, values in history.items()}
    per_seed = pd.DataFrame(columns)
    keys = list(next(iter(histories.values())))
    means = pd.DataFrame({key: per_seed[[f"{key}_seed{seed}" for seed in histories]].mean(axis=1) for key in keys})
    curves = pd.concat([means, per_seed], axis=1)
    curves.insert(0, "epoch", np.arange(1, len(curves) + 1))
    return curves


def recurrent_layer(network: RecurrentNetwork, return_sequences: bool = False) -> layers.Layer:
    cell = {"lstm": layers.LSTM, "gru": layers.GRU, "simple_rnn": layers.SimpleRNN}[network.cell]
    layer = cell(
        network.units,
        dropout=network.rnn_dropout,
        recurrent_dropout=network.recurrent_dropout,
        return_sequences=return_sequences,
    )
    return layers.Bidirectional(layer) if network.bidirectional else layer


def build_text_network(
    network: RecurrentNetwork, vocabulary_size: int, sequence_length: int | None, outputs: int, activation: str, mask: bool = False
) -> keras.Model:
    """Embedding -> [Dropout] -> (Bi)RNN -> [Dropout] -> [Dense relu] -> Dense(outputs); not compiled.

    With `mask`, index 0 (padding) is skipped by the recurrent layer, so any amount of right
    padding gives the same output and `sequence_length` may be None (any length).
    """
    inputs = keras.Input(shape=(sequence_length,), dtype="int32")
    hidden = layers.Embedding(vocabulary_size, network.embedding_dim, mask_zero=mask)(inputs)
    if network.embedding_dropout:
        hidden = layers.Dropout(network.embedding_dropout)(hidden)
    hidden = recurrent_layer(network)(hidden)
    if network.dropout:
        hidden = layers.Dropout(network.dropout)(hidden)
    if network.dense_units:
        hidden = layers.Dense(network.dense_units, activation="relu")(hidden)
    return keras.Model(inputs, layers.Dense(outputs, activation=activation, dtype=output_dtype())(hidden))
