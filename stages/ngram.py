"""The n-gram side of the generators: an interpolated Witten-Bell model (nltk.lm) on the same
text, vocabulary and targets as the network, its order chosen on the validation cut, and the
LSTM + n-gram mixture predict serves where it beat the LSTM there. `experiment` is a generate
experiment: its `sequences` and `window` say what a target is."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from typing_extensions import TypedDict

from stages.io import MODELS_DIR, PipelineError, read_json
from stages.text import OOV

MIXTURE_FILE = "mixture.json"


class MixtureFile(TypedDict):
    ngram_order: int
    weights: dict[str, float]  # per seed, the LSTM's
    ngram_text: list[list[str]]


WEIGHTS = np.linspace(0.0, 1.0, 21)  # the LSTM's weights in its mixture with the n-gram, tried on the validation cut


def validation_cut(lines: list) -> tuple[list, list]:
    """(fit part, validation cut): the last 10 % of the training lines, at least one."""
    cut = len(lines) - max(1, len(lines) // 10)
    return lines[:cut], lines[cut:]


def perplexity(probabilities: np.ndarray) -> float:
    return float(np.exp(-np.mean(np.log(np.maximum(probabilities, 1e-12)))))


def interpolation_weight(lstm: np.ndarray, ngram: np.ndarray) -> float:
    """The weight w of p = w * p_lstm + (1 - w) * p_ngram with the lowest perplexity on these
    targets (the validation cut's), on a grid of 0.05."""
    return float(min(WEIGHTS, key=lambda weight: perplexity(weight * lstm + (1 - weight) * ngram)))


def ngram_sentences(lines: list[list[str]], experiment: Any) -> list[list[str]]:
    """Lines are sentences for `line_prefixes`, the running text is one for `windows`."""
    return lines if experiment.sequences == "line_prefixes" else [[word for line in lines for word in line]]


def fit_ngram(lines: list[list[str]], order: int, experiment: Any):
    """An interpolated Witten-Bell model of `order` (nltk.lm) on these lines."""
    from nltk.lm.models import InterpolatedLanguageModel
    from nltk.lm.preprocessing import padded_everygram_pipeline
    from nltk.lm.smoothing import WittenBell

    class WittenBellCountedOnce(WittenBell):
        """nltk's Witten-Bell, with a context's number of distinct followers counted once instead
        of at every score (the same scores; it was most of a generator's evaluate time)."""

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.gammas: dict[tuple, float] = {}

        def _gamma(self, context: tuple) -> float:
            if context not in self.gammas:
                self.gammas[context] = super()._gamma(context)
            return self.gammas[context]

    model = InterpolatedLanguageModel(WittenBellCountedOnce, order)
    model.fit(*padded_everygram_pipeline(order, ngram_sentences(lines, experiment)))
    return model


def ngram_pairs(lines: list[list[str]], order: int, experiment: Any) -> list[tuple[list[str], str]]:
    """(context, target) in the order make_sequences gives the network's targets: a line's first
    word is never a target for `line_prefixes`, the running text's first `window` words for `windows`."""
    first = 1 if experiment.sequences == "line_prefixes" else experiment.window
    padded = [["<s>"] * (order - 1) + sentence for sentence in ngram_sentences(lines, experiment)]
    return [(sentence[end - order + 1 : end], sentence[end]) for sentence in padded for end in range(order - 1 + first, len(sentence))]


def ngram_probabilities(model, lines: list[list[str]], known: set[str], experiment: Any) -> np.ndarray:
    """The model's probability of each known target of these lines."""
    return np.array([model.score(word, context) for context, word in ngram_pairs(lines, model.order, experiment) if word in known])


def unknown_as_one(lines: list[list[str]], known: set[str]) -> list[list[str]]:
    return [[word if word in known else "<UNK>" for word in line] for line in lines]


def ngram_order(train_words: list[list[str]], known: set[str], experiment: Any) -> int:
    """The n-gram's order (1-4), chosen on the validation cut of the training lines (`train_words`:
    unknown_as_one's)."""
    fit_part, cut = validation_cut(train_words)

    def cut_perplexity(order: int) -> float:
        return perplexity(ngram_probabilities(fit_ngram(fit_part, order, experiment), cut, known, experiment))

    return min(range(1, 5), key=cut_perplexity)


def ngram_baseline(train_lines: list[list[str]], validation_lines: list[list[str]], known: set[str], experiment: Any, order: int) -> dict:
    """An interpolated Witten-Bell n-gram model (nltk.lm) on the same training text, vocabulary and
    targets as the network: the word counts a network must beat to be worth its training.

    Training words outside the network's vocabulary (`known`) become one unknown word, and only
    known targets are scored, as for the network. The model of `order` (ngram_order) is fitted
    on all training lines and scored on the held-out text. Next-word accuracy takes the most
    likely of the words seen after any suffix of the context and the most frequent word, which
    is exactly the most likely word of the whole vocabulary for this model. (NLTK's Kneser-Ney
    took about 5 ms per score here, 300 times Witten-Bell's.)"""
    model = fit_ngram(unknown_as_one(train_lines, known), order, experiment)
    most_frequent = max(known, key=model.counts.unigrams.__getitem__)
    hits = []
    for context, word in ngram_pairs(validation_lines, order, experiment):
        if word in known:
            candidates = {most_frequent} | {follower for start in range(len(context)) for follower in model.counts[context[start:]]}
            candidates &= known
            hits.append(max(sorted(candidates), key=lambda candidate: model.score(candidate, context)) == word)
    return {
        "ngram_order": order,
        "ngram_perplexity": perplexity(ngram_probabilities(model, validation_lines, known, experiment)),
        "ngram_next_word_accuracy": float(np.mean(hits)),
    }


@dataclass(frozen=True)
class Mixture:
    """The served next-word distribution: weight * LSTM + (1 - weight) * n-gram."""

    ngram: Any
    weight: float
    words: list[str]  # the network's vocabulary, index i + 2 (text.Vocabulary)

    def ngram_distribution(self, context: list[int]) -> np.ndarray:
        """The n-gram's probability of each network index after `context` (OOV is its <UNK>)."""
        seen = ["<s>"] * self.ngram.order + [self.words[index - 2] if index > OOV else "<UNK>" for index in context]
        history = seen[len(seen) - self.ngram.order + 1 :]
        return np.array([0.0] + [self.ngram.score(word, history) for word in ["<UNK>", *self.words]])


def read_mixture(name: str) -> dict:
    path = MODELS_DIR / name / MIXTURE_FILE
    if not path.is_file():
        raise PipelineError(f"{path}: missing; this model predates the LSTM + n-gram mixture (run: dvc repro train@{name})")
    return read_json(path, MixtureFile)


def load_mixture(name: str, experiment: Any, vocabulary: Any, seed: int) -> Mixture | None:
    """The mixture predict serves with the seed's model, or None where the LSTM alone was better on the cut."""
    chosen = read_mixture(name)
    weight = chosen["weights"][str(seed)]
    if weight >= 1:
        return None
    return Mixture(fit_ngram(chosen["ngram_text"], chosen["ngram_order"], experiment), weight, vocabulary.words)
