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
from typing import Literal

import numpy as np

from stages.io import RAW_DIR, PipelineError, read_json, write_json
from stages.params import TextEncoding

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
        return cls(read_json(path)["words"])

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


def pad(
    sequences: list[list[int]],
    length: int,
    padding: Literal["pre", "post"] = "post",
    truncating: Literal["pre", "post"] = "post",
) -> np.ndarray:
    """Keras `pad_sequences` with zeros, in NumPy."""
    padded = np.zeros((len(sequences), length), dtype="int32")
    for row, sequence in enumerate(sequences):
        kept = sequence[:length] if truncating == "post" else sequence[-length:]
        if kept:
            if padding == "post":
                padded[row, : len(kept)] = kept
            else:
                padded[row, -len(kept) :] = kept
    return padded
