"""Text encoding shared by train, evaluate and predict: one normalise/tokenize/encode path.

A plain-Python vocabulary (Keras Tokenizer semantics: index 0 = padding, 1 = out-of-vocabulary,
then words by training frequency) rather than Keras TextVectorization: the vocabulary is a
readable JSON list, encoding needs no TensorFlow graph, and ties are broken deterministically.
"""

from __future__ import annotations

import functools
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from typing_extensions import TypedDict

from stages.io import RAW_DIR, PipelineError, read_json, write_json
from stages.schema import TextEncoding

PADDING, OOV = 0, 1
NLTK_DATA_DIR = RAW_DIR / "nltk_data"
_NON_ALPHANUMERIC = re.compile(r"[^a-z0-9'\s]+")
_HTML_BREAK = re.compile(r"<br\s*/?>", re.IGNORECASE)


def normalise(text: str, lowercase: bool = True, strip_punctuation: bool = True) -> str:
    """Lowercase, drop HTML line breaks and turn punctuation into spaces (apostrophes stay)."""
    text = _HTML_BREAK.sub(" ", text)
    if lowercase:
        text = text.lower()
    if strip_punctuation:
        text = _NON_ALPHANUMERIC.sub(" ", text if lowercase else text.lower())
    return text


def english_stopwords() -> frozenset[str]:
    """NLTK's English stopword list from data/raw/nltk_data only, never a home-directory copy."""
    import nltk
    from nltk.corpus.reader import WordListCorpusReader

    nltk.data.path[:] = [str(NLTK_DATA_DIR.resolve())]  # NLTK only reads from folders on its path
    try:
        root = nltk.data.find("corpora/stopwords.zip/stopwords/")
    except LookupError:
        raise PipelineError(f"NLTK stopwords not found in {NLTK_DATA_DIR} (run: dvc repro download-resource@nltk_data)") from None
    return frozenset(WordListCorpusReader(root, ["english"]).words())


def tokenize(text: str, stopwords: frozenset[str] = frozenset()) -> list[str]:
    return [word for word in text.split() if word not in stopwords]


def tokenize_all(texts: Iterable[str], encoding: TextEncoding) -> list[list[str]]:
    """Normalise and tokenize as the experiment's `encoding` says."""
    stopwords = english_stopwords() if encoding.remove_stopwords else frozenset()
    return [tokenize(normalise(text, encoding.lowercase, encoding.strip_punctuation), stopwords) for text in texts]


class VocabularyFile(TypedDict):
    words: list[str]


@dataclass(frozen=True)
class Vocabulary:
    """words[i] has index i + 2; anything else encodes as OOV."""

    words: list[str]

    @classmethod
    def build(cls, token_lists: Iterable[list[str]], size: int | None) -> Vocabulary:
        """The `size - 2` most frequent training words (all of them when size is None)."""
        counts = Counter(word for tokens in token_lists for word in tokens)
        ranked = sorted(counts, key=lambda word: (-counts[word], word))
        return cls(ranked if size is None else ranked[: max(size - 2, 0)])

    @classmethod
    def load(cls, path: str | Path) -> Vocabulary:
        return cls(read_json(path, VocabularyFile)["words"])

    def save(self, path: str | Path) -> None:
        write_json(path, {"padding": PADDING, "oov": OOV, "first_word_index": 2, "words": self.words})

    @property
    def size(self) -> int:
        """Embedding input dimension: padding + OOV + words."""
        return len(self.words) + 2

    @functools.cached_property
    def index(self) -> dict[str, int]:
        return {word: position + 2 for position, word in enumerate(self.words)}

    def encode(self, tokens: list[str]) -> list[int]:
        return [self.index.get(word, OOV) for word in tokens]


def length_batch_plan(lengths: np.ndarray, batch_size: int, rng: np.random.Generator, chunk_batches: int = 32) -> list[np.ndarray]:
    """One epoch's batches (row indices) of similar length: shuffled with `rng`, sorted within
    chunks of `chunk_batches` batches (so batches stay varied), the batch order shuffled again.
    Right-padded only to their own longest sequence, with a masking Embedding they are the same
    function of the data as padding everything to one length, with far fewer padded steps."""
    order = rng.permutation(len(lengths))
    chunk = batch_size * chunk_batches
    batches = []
    for start in range(0, len(order), chunk):
        part = order[start : start + chunk]
        part = part[np.argsort(lengths[part], kind="stable")]
        batches += [part[index : index + batch_size] for index in range(0, len(part), batch_size)]
    return [batches[index] for index in rng.permutation(len(batches))]


def pad(sequences: list[list[int]], length: int, padding: str = "pre", truncating: str = "pre") -> np.ndarray:
    """Every sequence cut to `length` (keeping its end with "pre") and padded with 0 on the
    `padding` side: Keras's pad_sequences, without Keras."""
    padded = np.zeros((len(sequences), length), dtype="int32")
    for row, sequence in enumerate(sequences):
        kept = list(sequence[-length:] if truncating == "pre" else sequence[:length]) if length else []
        if kept:
            if padding == "pre":
                padded[row, length - len(kept) :] = kept
            else:
                padded[row, : len(kept)] = kept
    return padded


def pad_batch(sequences: list[list[int]], step: int = 1) -> np.ndarray:
    """Right-pad to the longest sequence of the batch, rounded up to a multiple of `step` (at
    least one step, all-padding rows included)."""
    length = -(-max(1, max(len(sequence) for sequence in sequences)) // step) * step
    padded = np.zeros((len(sequences), length), dtype="int32")
    for row, sequence in enumerate(sequences):
        padded[row, : len(sequence)] = sequence
    return padded


def predict_by_length(model: Any, sequences: list[list[int]], batch_size: int = 256, step: int = 1) -> np.ndarray:
    """Model outputs in input order, computed over length-sorted, right-padded batches."""
    order = np.argsort([len(sequence) for sequence in sequences], kind="stable")
    outputs = [
        np.asarray(model.predict_on_batch(pad_batch([sequences[row] for row in order[start : start + batch_size]], step)))
        for start in range(0, len(order), batch_size)
    ]
    result = np.empty((len(sequences), outputs[0].shape[1]), dtype="float32")
    result[order] = np.concatenate(outputs)
    return result
