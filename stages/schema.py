"""The parts of the params schema every task shares: strict checking, the bounds, the one
`network:` block and the text encoding. Declared with pydantic's constraints, so the checks
are the types; stages/params.py turns a failed one into a line naming the key.

The upper bounds are far above any write-up's setting: they stop a typo (an extra zero or
three) at the params check, before Keras starts, instead of hours into training."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, ConfigDict, Field, StrictBool, StrictFloat, StrictInt, StrictStr
from pydantic.dataclasses import dataclass

CHECKED = ConfigDict(extra="forbid")  # an unknown key is an error; the Strict types refuse a "3" for 3

MAX_EPOCHS = 10_000
MAX_UNITS = 4_096  # per layer: recurrent units, embedding_dim, dense_units
MAX_LENGTH = 100_000  # words a text is cut or padded to
MAX_VOCABULARY = 1_000_000
MAX_WINDOW = 10_000  # window (generate) and look_back (forecast)


def _distinct(seeds: list[int]) -> list[int]:
    if len(set(seeds)) != len(seeds):
        raise ValueError("without repeats")
    return seeds


Fraction = Annotated[StrictFloat, Field(ge=0, lt=1)]
Units = Annotated[StrictInt, Field(ge=1, le=MAX_UNITS)]
Window = Annotated[StrictInt, Field(ge=1, le=MAX_WINDOW)]
Epochs = Annotated[StrictInt, Field(ge=1, le=MAX_EPOCHS)]
Positive = Annotated[StrictInt, Field(ge=1)]
Patience = Annotated[StrictInt, Field(ge=0)]  # 0: no early stopping
Seeds = Annotated[list[StrictInt], Field(min_length=1), AfterValidator(_distinct)]
LearningRate = Annotated[StrictFloat, Field(gt=0)]


@dataclass(frozen=True, config=CHECKED)
class Network:
    """[Embedding -> Dropout] -> one recurrent layer per `units` entry (stacked layers pass on their
    sequences) -> [Dropout] -> [Dense relu] -> the task's output layer. `embedding_dim` is for
    word inputs only; a forecast reads numbers and leaves it empty."""

    cell: Literal["lstm", "gru", "simple_rnn"]
    units: Annotated[list[Units], Field(min_length=1)]
    bidirectional: StrictBool
    embedding_dim: Units | None
    embedding_dropout: Fraction
    rnn_dropout: Fraction
    recurrent_dropout: Fraction
    dropout: Fraction
    dense_units: Annotated[StrictInt, Field(ge=0, le=MAX_UNITS)]


@dataclass(frozen=True, config=CHECKED)
class TextEncoding:
    """How texts become integer sequences; the same for train, evaluate and predict."""

    lowercase: StrictBool
    strip_punctuation: StrictBool
    remove_stopwords: StrictBool
    vocab_size: Annotated[StrictInt, Field(ge=3, le=MAX_VOCABULARY)] | None  # padding, OOV and at least one word


@dataclass(frozen=True, config=CHECKED)
class Training:
    """What every experiment has, whatever its task."""

    task: StrictStr
    dataset: StrictStr
    network: Network
    epochs: Epochs
    batch_size: Positive
    seeds: Seeds
    learning_rate: LearningRate
    backend: Literal["tensorflow", "jax"]  # Keras's; recorded in the model folder
    # device: `deterministic` makes a rerun give identical metrics; `mixed_precision` computes in
    # float16 with float32 weights (a GPU's tensor cores)
    deterministic: StrictBool
    mixed_precision: StrictBool
    description: StrictStr
    write_up: StrictStr | None  # the published figure and its source, for RESULTS.md


def needs_words(network: Network) -> None:
    if network.embedding_dim is None:
        raise ValueError("network.embedding_dim: a model of words needs one")
