"""Keras model builders, one per architecture, plus the state handling stateful LSTMs need."""

from __future__ import annotations

import keras
import numpy as np
import pandas as pd
import tensorflow as tf
from keras import layers

from stages.io import MODELS_DIR, PipelineError
from stages.params import ForecastExperiment, RecurrentNetwork


def seed_everything(seed: int) -> None:
    """Same seed, same data, same params -> identical weights and metrics."""
    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()


def load_seed_models(name: str, seeds: list[int]) -> dict[int, keras.Model]:
    """The models train@<name> saved, one per seed, uncompiled: prediction needs no optimizer,
    and a compiled copy would predict with the training `steps_per_execution` (25x slower here)."""
    paths = {seed: MODELS_DIR / name / f"seed-{seed}.keras" for seed in seeds}
    missing = [str(path) for path in paths.values() if not path.is_file()]
    if missing:
        raise PipelineError(f"{missing[0]}: model not trained yet (run: dvc repro train@{name})")
    return {seed: keras.models.load_model(path, compile=False) for seed, path in paths.items()}


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
    outputs = layers.Dense(1)(hidden)
    model = keras.Model(inputs, outputs)
    model.compile(
        optimizer=keras.optimizers.Adam(experiment.learning_rate),
        loss="mean_squared_error",
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
    return keras.Model(inputs, layers.Dense(outputs, activation=activation)(hidden))


def length_batches(sequences: list[list[int]], targets: np.ndarray, batch_size: int, seed: int, chunk_batches: int = 32) -> tf.data.Dataset:
    """Training batches of similar length, each right-padded only to its own longest sequence.

    Each epoch shuffles with a seeded generator, sorts within chunks of `chunk_batches` batches
    (so batches stay varied) and shuffles the batch order: far fewer padded steps than padding
    everything to one length, and with a masking Embedding the same function of the data.
    """
    lengths = np.array([len(sequence) for sequence in sequences])
    rng = np.random.default_rng(seed)

    def epoch():
        order = rng.permutation(len(sequences))
        chunk = batch_size * chunk_batches
        batches = []
        for start in range(0, len(order), chunk):
            part = order[start : start + chunk]
            part = part[np.argsort(lengths[part], kind="stable")]
            batches += [part[index : index + batch_size] for index in range(0, len(part), batch_size)]
        for batch in (batches[index] for index in rng.permutation(len(batches))):
            yield pad_batch([sequences[row] for row in batch]), targets[batch]

    signature = (tf.TensorSpec((None, None), tf.int32), tf.TensorSpec((None, *targets.shape[1:]), tf.as_dtype(targets.dtype)))
    chunk = batch_size * chunk_batches
    count = sum(-(-min(chunk, len(sequences) - start) // batch_size) for start in range(0, len(sequences), chunk))
    dataset = tf.data.Dataset.from_generator(epoch, output_signature=signature)
    return dataset.apply(tf.data.experimental.assert_cardinality(count)).prefetch(2)


def pad_batch(sequences: list[list[int]]) -> np.ndarray:
    """Right-pad to the longest sequence of the batch (at least one step, all-padding rows included)."""
    length = max(1, max(len(sequence) for sequence in sequences))
    padded = np.zeros((len(sequences), length), dtype="int32")
    for row, sequence in enumerate(sequences):
        padded[row, : len(sequence)] = sequence
    return padded


def predict_by_length(model: keras.Model, sequences: list[list[int]], batch_size: int = 256) -> np.ndarray:
    """Model outputs in input order, computed over length-sorted, right-padded batches."""
    order = np.argsort([len(sequence) for sequence in sequences], kind="stable")
    outputs = [
        np.asarray(model.predict_on_batch(pad_batch([sequences[row] for row in order[start : start + batch_size]])))
        for start in range(0, len(order), batch_size)
    ]
    result = np.empty((len(sequences), outputs[0].shape[1]), dtype="float32")
    result[order] = np.concatenate(outputs)
    return result
