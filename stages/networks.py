"""The one model builder of every task, its compilation, and the memory check of a model before
it trains, read from the model itself."""

from __future__ import annotations

import os

from stages.backend import keras, layers
from stages.io import PipelineError
from stages.schema import Network

CELLS = {"lstm": layers.LSTM, "gru": layers.GRU, "simple_rnn": layers.SimpleRNN}
# A model whose estimated training memory (float32 weights, gradients and two Adam moments, plus
# one batch's activations) passes this share of the machine's memory is refused before it trains.
MEMORY_SHARE = 0.5


def output_dtype() -> str | None:
    """float32 for an output layer under mixed precision (a softmax in float16 loses the small
    probabilities); None otherwise, which keeps a float32 model exactly as it was."""
    return "float32" if keras.config.dtype_policy().name.startswith("mixed") else None


def build_network(
    network: Network,
    steps: int | None,
    features: int,
    outputs: int,
    activation: str | None = None,
    vocabulary_size: int = 0,
    stateful_batch: int | None = None,
    mask: bool = False,
) -> keras.Model:
    """Inputs of `steps` x `features` numbers, or of `steps` word indices when the network has an
    embedding (then `vocabulary_size` of them; with `mask`, index 0 is padding the recurrent layers
    skip, so `steps` may be None). A `stateful_batch` fixes the batch size, as stateful layers need.
    Not compiled."""
    shape = (steps,) if network.embedding_dim else (steps, features)
    dtype = "int32" if network.embedding_dim else "float32"
    if stateful_batch:
        inputs = keras.Input(batch_shape=(stateful_batch, *shape), dtype=dtype)
    else:
        inputs = keras.Input(shape=shape, dtype=dtype)
    hidden = inputs
    if network.embedding_dim:
        hidden = layers.Embedding(vocabulary_size, network.embedding_dim, mask_zero=mask)(hidden)
        if network.embedding_dropout:
            hidden = layers.Dropout(network.embedding_dropout)(hidden)
    for index, units in enumerate(network.units):
        layer = CELLS[network.cell](
            units,
            dropout=network.rnn_dropout,
            recurrent_dropout=network.recurrent_dropout,
            stateful=bool(stateful_batch),
            return_sequences=index < len(network.units) - 1,
        )
        hidden = (layers.Bidirectional(layer) if network.bidirectional else layer)(hidden)
    if network.dropout:
        hidden = layers.Dropout(network.dropout)(hidden)
    if network.dense_units:
        hidden = layers.Dense(network.dense_units, activation="relu")(hidden)
    return keras.Model(inputs, layers.Dense(outputs, activation=activation, dtype=output_dtype())(hidden))


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


def machine_memory() -> int:
    """Physical memory in bytes (what a training run can at most use)."""
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def check_size(name: str, network: Network, steps: int, features: int, outputs: int, vocabulary_size: int, batch_size: int) -> None:
    """Refuse a model that cannot train in this machine's memory, before a weight is allocated:
    the network is built in a scope that gives its variables shapes only, and the parameters are
    the model's own count. Needed: 4 float32 copies of every weight (weights, gradients, two Adam
    moments) and one batch's activations (each recurrent step keeps its gates for the backward pass)."""
    with keras.StatelessScope(initialize_variables=False):
        model = build_network(network, steps, features, outputs, vocabulary_size=vocabulary_size)
    widths = sum(layer.output.shape[-1] for layer in model.layers if isinstance(layer, (layers.RNN, layers.Bidirectional)))
    parameters = model.count_params()
    needed, memory = 4 * (4 * parameters + batch_size * steps * 8 * widths), machine_memory()
    keras.backend.clear_session()  # the names the next models take are those they took without this check
    if needed > MEMORY_SHARE * memory:
        raise PipelineError(
            f"experiments.{name}.network: {parameters:,} parameters need about {needed / 2**30:,.1f} GiB "
            f"to train, more than {MEMORY_SHARE:.0%} of this machine's {memory / 2**30:,.1f} GiB"
        )
