"""The generate task: word-level next-word models on a prepared corpus, scored on held-out
text by perplexity and next-word accuracy, and asked to write a sample.

Perplexity and accuracy are computed over held-out targets that are in the training
vocabulary; the share of out-of-vocabulary targets is reported beside them
(`validation_oov_rate`), since no model trained on this vocabulary can predict those words.
Anything chosen (the n-gram's order, the epochs under early stopping, the weight of the LSTM in
its mixture with the n-gram) is chosen on the validation cut, the last 10 % of the training
lines, never on the held-out text.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from stages import models
from stages.backend import keras
from stages.io import MODELS_DIR, PREPARED_DIR, PipelineError, read_json, write_json, write_text
from stages.metrics import REPORTS_DIR, summarise_seeds, write_evaluation
from stages.params import GenerateExperiment, Sample
from stages.text import OOV, PADDING, Vocabulary, tokenize_all

TOP_K = 10
MIXTURE_FILE = "mixture.json"
WEIGHTS = np.linspace(0.0, 1.0, 21)  # the LSTM's weights in its mixture with the n-gram, tried on the validation cut


def validation_cut(lines: list) -> tuple[list, list]:
    """(fit part, validation cut): the last 10 % of the training lines, at least one."""
    cut = len(lines) - max(1, len(lines) // 10)
    return lines[:cut], lines[cut:]


def seen_sequences(
    fit_lines: list[list[int]], cut: list[list[int]], experiment: GenerateExperiment, length: int
) -> tuple[np.ndarray, np.ndarray]:
    """The validation cut's sequences whose target occurs in the other training lines. The
    held-out text has no known target unseen in training; the cut's such words (a tenth of
    Alice's, more of the rhymes') would only reward models that forget rare words less."""
    contexts, targets = make_sequences(cut, experiment, length)
    scored = np.isin(targets, sorted({index for line in fit_lines for index in line} - {OOV}))
    return contexts[scored], targets[scored]


def perplexity(probabilities: np.ndarray) -> float:
    return float(np.exp(-np.mean(np.log(np.maximum(probabilities, 1e-12)))))


def interpolation_weight(lstm: np.ndarray, ngram: np.ndarray) -> float:
    """The weight w of p = w * p_lstm + (1 - w) * p_ngram with the lowest perplexity on these
    targets (the validation cut's), on a grid of 0.05."""
    return float(min(WEIGHTS, key=lambda weight: perplexity(weight * lstm + (1 - weight) * ngram)))


def load_corpus(dataset: str) -> dict[str, list[str]]:
    """{'train': lines, 'validation': lines} as preprocess@<dataset> wrote them."""
    path = PREPARED_DIR / dataset / "corpus.json"
    if not path.is_file():
        raise PipelineError(f"{path}: not prepared yet (run: dvc repro preprocess@{dataset})")
    return read_json(path)


def make_sequences(
    encoded_lines: list[list[int]], experiment: GenerateExperiment, length: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """(contexts, next words). `line_prefixes`: every prefix of every line, pre-padded as in the
    nursery-rhyme report; `windows`: `window` words of the running text predict the next one."""
    if experiment.sequences == "windows":
        stream = [index for line in encoded_lines for index in line]
        count = len(stream) - experiment.window
        if count < 1:
            raise PipelineError(f"text of {len(stream)} words is too short for window {experiment.window}")
        contexts = np.array([stream[start : start + experiment.window] for start in range(count)], dtype="int32")
        return contexts, np.array(stream[experiment.window :], dtype="int32")
    prefixes = [line[: end + 1] for line in encoded_lines for end in range(1, len(line))]
    if not prefixes:
        raise PipelineError("no line has two or more words to learn from")
    length = length or max(len(prefix) for prefix in prefixes) - 1
    contexts = keras.utils.pad_sequences([prefix[:-1] for prefix in prefixes], length, dtype="int32", padding="pre", truncating="pre")
    return contexts, np.array([prefix[-1] for prefix in prefixes], dtype="int32")


def encode_lines(lines: list[str], experiment: GenerateExperiment, vocabulary: Vocabulary) -> list[list[int]]:
    return [vocabulary.encode(tokens) for tokens in tokenize_all(lines, experiment.encoding)]


def train(name: str, experiment: GenerateExperiment, folder: Path) -> pd.DataFrame:
    """One model per seed on all training lines. With `early_stopping_patience`, each seed first
    trains on all but the validation cut until the cut's loss stops falling (that model is kept
    as seed-<seed>-cut.keras, for choosing the mixture's weight on text it has not seen), then
    retrains on all lines for its best number of epochs; its learning curve is the first run's."""
    corpus = load_corpus(experiment.dataset)
    vocabulary = Vocabulary.build(tokenize_all(corpus["train"], experiment.encoding), experiment.encoding.vocab_size)
    vocabulary.save(folder / "vocabulary.json")
    lines = encode_lines(corpus["train"], experiment, vocabulary)
    contexts, targets = make_sequences(lines, experiment)
    print(f"train@{name}: {len(targets)} sequences of {contexts.shape[1]} words, vocabulary {vocabulary.size}")

    def fit_on(
        sequences: tuple[np.ndarray, np.ndarray], epochs: int, callbacks: list, validation: tuple | None = None
    ) -> tuple[keras.Model, keras.callbacks.History]:
        model = models.build_text_network(experiment.network, vocabulary.size, sequences[0].shape[1], vocabulary.size, "softmax")
        models.compile_model(model, experiment.optimizer, experiment.learning_rate, "sparse_categorical_crossentropy", metrics=["accuracy"])
        history = model.fit(
            *sequences,
            validation_data=validation,
            epochs=epochs,
            batch_size=experiment.batch_size,
            callbacks=callbacks,
            verbose=0,
        )
        return model, history

    def fit(seed: int, callbacks: list) -> tuple[keras.Model, keras.callbacks.History]:
        if not experiment.early_stopping_patience:
            return fit_on((contexts, targets), experiment.epochs, callbacks)
        fit_lines, cut = validation_cut(lines)
        sequences = make_sequences(fit_lines, experiment)
        stopping = keras.callbacks.EarlyStopping(patience=experiment.early_stopping_patience, restore_best_weights=True)
        validation = seen_sequences(fit_lines, cut, experiment, sequences[0].shape[1])
        model, history = fit_on(sequences, experiment.epochs, [stopping, *callbacks], validation)
        models.save_model(model, folder / f"seed-{seed}-cut.keras")
        progress = [callback for callback in callbacks if not isinstance(callback, models.LiveLog)]  # the log keeps the cut run's curves
        return fit_on((contexts, targets), int(np.argmin(history.history["val_loss"])) + 1, progress)[0], history

    curves = models.train_seeds(name, experiment, folder, fit)
    write_json(folder / MIXTURE_FILE, choose_mixture(folder, experiment, corpus, vocabulary, contexts.shape[1]))
    return curves


def generate_text(
    model: keras.Model, experiment: GenerateExperiment, vocabulary: Vocabulary, sample: Sample, mixture: Mixture | None = None
) -> list[str]:
    """`sample.lines` lines of `sample.words` words continuing `sample.seed_text`.

    Temperature 0 takes the most likely word (the report's greedy decoding); above 0 it samples
    from the softened distribution with `sample.seed`. The model sees the last `sample.context_words`
    words (0: all of them, cut to its input length). Padding and OOV are never emitted.
    """
    rng = np.random.default_rng(sample.seed)
    context = encode_lines([sample.seed_text], experiment, vocabulary)[0]
    length = model.input_shape[1]
    lines = []
    for _ in range(sample.lines):
        words = []
        for _ in range(sample.words):
            seen = context[-sample.context_words :] if sample.context_words else context
            inputs = keras.utils.pad_sequences([seen], length, dtype="int32", padding="pre", truncating="pre")
            probabilities = model(inputs, training=False).numpy()[0].astype("float64")
            if mixture:
                probabilities = mixture.weight * probabilities + (1 - mixture.weight) * mixture.ngram_distribution(context)
            probabilities[[PADDING, OOV]] = 0.0
            if sample.temperature == 0:
                choice = int(np.argmax(probabilities))
            else:
                logits = np.log(np.maximum(probabilities, 1e-12)) / sample.temperature
                weights = np.exp(logits - logits.max()) * (probabilities > 0)
                choice = int(rng.choice(len(weights), p=weights / weights.sum()))
            context.append(choice)
            words.append(vocabulary.words[choice - 2])
        lines.append(" ".join(words))
    return lines


def ngram_sentences(lines: list[list[str]], experiment: GenerateExperiment) -> list[list[str]]:
    """Lines are sentences for `line_prefixes`, the running text is one for `windows`."""
    return lines if experiment.sequences == "line_prefixes" else [[word for line in lines for word in line]]


def fit_ngram(lines: list[list[str]], order: int, experiment: GenerateExperiment):
    """An interpolated Witten-Bell model of `order` (nltk.lm) on these lines."""
    from nltk.lm import WittenBellInterpolated
    from nltk.lm.preprocessing import padded_everygram_pipeline

    model = WittenBellInterpolated(order)
    model.fit(*padded_everygram_pipeline(order, ngram_sentences(lines, experiment)))
    return model


def ngram_pairs(lines: list[list[str]], order: int, experiment: GenerateExperiment) -> list[tuple[list[str], str]]:
    """(context, target) in the order make_sequences gives the network's targets: a line's first
    word is never a target for `line_prefixes`, the running text's first `window` words for `windows`."""
    first = 1 if experiment.sequences == "line_prefixes" else experiment.window
    padded = [["<s>"] * (order - 1) + sentence for sentence in ngram_sentences(lines, experiment)]
    return [(sentence[end - order + 1 : end], sentence[end]) for sentence in padded for end in range(order - 1 + first, len(sentence))]


def ngram_probabilities(model, lines: list[list[str]], known: set[str], experiment: GenerateExperiment) -> np.ndarray:
    """The model's probability of each known target of these lines."""
    return np.array([model.score(word, context) for context, word in ngram_pairs(lines, model.order, experiment) if word in known])


def unknown_as_one(lines: list[list[str]], known: set[str]) -> list[list[str]]:
    return [[word if word in known else "<UNK>" for word in line] for line in lines]


def ngram_order(train_words: list[list[str]], known: set[str], experiment: GenerateExperiment) -> int:
    """The n-gram's order (1-4), chosen on the validation cut of the training lines (`train_words`:
    unknown_as_one's)."""
    fit_part, cut = validation_cut(train_words)

    def cut_perplexity(order: int) -> float:
        return perplexity(ngram_probabilities(fit_ngram(fit_part, order, experiment), cut, known, experiment))

    return min(range(1, 5), key=cut_perplexity)


def ngram_baseline(
    train_lines: list[list[str]], validation_lines: list[list[str]], known: set[str], experiment: GenerateExperiment, order: int
) -> dict:
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


def target_probabilities(model: keras.Model, contexts: np.ndarray, targets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(each target's probability, the whole next-word distribution before each target)."""
    probabilities = model.predict(contexts, batch_size=512, verbose=0)
    return probabilities[np.arange(len(targets)), targets], probabilities


def choose_mixture(folder: Path, experiment: GenerateExperiment, corpus: dict[str, list[str]], vocabulary: Vocabulary, length: int) -> dict:
    """The n-gram's order and each seed's weight in the LSTM + n-gram mixture, both chosen on the
    validation cut, saved beside the models with the n-gram's training text: evaluate reports
    the mixture and predict serves it where it beats the LSTM on the cut (weight below 1).

    The weight is chosen on the cut's targets seen in the other training lines (seen_sequences)
    with an n-gram fitted on those lines and, with early stopping, the seed's cut model, which
    has not seen the cut; without it the LSTM has trained on the cut and the weight leans
    towards the LSTM."""
    known = set(vocabulary.words)
    words = unknown_as_one(tokenize_all(corpus["train"], experiment.encoding), known)
    order = ngram_order(words, known, experiment)
    fit_part, cut = validation_cut(words)
    seen = {word for line in fit_part for word in line} & known
    ngram = ngram_probabilities(fit_ngram(fit_part, order, experiment), cut, seen, experiment)
    contexts, targets = seen_sequences(*validation_cut(encode_lines(corpus["train"], experiment, vocabulary)), experiment, length)
    weights = {}
    for seed in experiment.seeds:
        cut_model = folder / f"seed-{seed}-cut.keras" if experiment.early_stopping_patience else folder / f"seed-{seed}.keras"
        lstm = target_probabilities(keras.models.load_model(cut_model, compile=False), contexts, targets)[0]
        weights[str(seed)] = interpolation_weight(lstm, ngram)
    return {"ngram_order": order, "weights": weights, "ngram_text": words}


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
    return read_json(path)


def load_mixture(name: str, experiment: GenerateExperiment, vocabulary: Vocabulary, seed: int) -> Mixture | None:
    """The mixture predict serves with the seed's model, or None where the LSTM alone was better on the cut."""
    chosen = read_mixture(name)
    weight = chosen["weights"][str(seed)]
    if weight >= 1:
        return None
    return Mixture(fit_ngram(chosen["ngram_text"], chosen["ngram_order"], experiment), weight, vocabulary.words)


def evaluate(name: str, experiment: GenerateExperiment) -> str:
    corpus = load_corpus(experiment.dataset)
    vocabulary = Vocabulary.load(MODELS_DIR / name / "vocabulary.json")
    trained = models.load_seed_models(name, experiment.seeds)
    length = next(iter(trained.values())).input_shape[1]
    contexts, targets = make_sequences(encode_lines(corpus["validation"], experiment, vocabulary), experiment, length)
    train_words, validation_words = (tokenize_all(corpus[part], experiment.encoding) for part in ("train", "validation"))
    known_words = set(vocabulary.words)
    chosen = read_mixture(name)
    ngram = ngram_baseline(train_words, validation_words, known_words, experiment, chosen["ngram_order"])
    full_model = fit_ngram(unknown_as_one(train_words, known_words), ngram["ngram_order"], experiment)
    ngram_on_held_out = ngram_probabilities(full_model, validation_words, known_words, experiment)
    known = targets != OOV
    per_seed, top_k = [], []
    for seed, model in trained.items():
        target_probability, probabilities = target_probabilities(model, contexts[known], targets[known])
        ranks = (probabilities > target_probability[:, None]).sum(axis=1)
        weight = chosen["weights"][str(seed)]
        per_seed.append(
            {
                "seed": seed,
                "perplexity": perplexity(target_probability),
                "next_word_accuracy": float(np.mean(ranks == 0)),
                "interpolated_perplexity": perplexity(weight * target_probability + (1 - weight) * ngram_on_held_out),
                "interpolation_weight": weight,
            }
        )
        top_k.append([np.mean(ranks < k) for k in range(1, TOP_K + 1)])
    metrics = summarise_seeds(per_seed)
    metrics |= {"validation_oov_rate": float(1 - known.mean()), "validation_targets": len(targets), "seeds": len(per_seed)}
    metrics |= ngram
    table = pd.DataFrame({"k": np.arange(1, TOP_K + 1), "top_k_accuracy": np.mean(top_k, axis=0)})
    write_evaluation(name, "generate", metrics, per_seed, table)
    first_seed, first_model = next(iter(trained.items()))
    mixture = load_mixture(name, experiment, vocabulary, first_seed)
    sample = generate_text(first_model, experiment, vocabulary, experiment.sample, mixture)
    served = f"LSTM + {mixture.ngram.order}-gram, weight {mixture.weight:g}" if mixture else "LSTM"
    header = f"# {name}, seed {first_seed} ({served}), temperature {experiment.sample.temperature}, from: {experiment.sample.seed_text}"
    write_text(f"{REPORTS_DIR}/{name}/sample.txt", "\n".join([header, *sample]) + "\n")
    scores = f"validation perplexity {metrics['perplexity']:.1f}, next-word accuracy {metrics['next_word_accuracy']:.4f}"
    scores += f" (n-gram {metrics['ngram_perplexity']:.1f}, {metrics['ngram_next_word_accuracy']:.4f};"
    scores += f" interpolated {metrics['interpolated_perplexity']:.1f})"
    return f"{scores}; sample: {sample[0]} ..."
