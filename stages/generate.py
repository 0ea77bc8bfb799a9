"""The generate task: word-level next-word models on a prepared corpus, scored on held-out
text by perplexity and next-word accuracy, and asked to write a sample.

Perplexity and accuracy are computed over held-out targets that are in the training
vocabulary; the share of out-of-vocabulary targets is reported beside them
(`validation_oov_rate`), since no model trained on this vocabulary can predict those words.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from stages import models
from stages.backend import keras
from stages.io import MODELS_DIR, PREPARED_DIR, PipelineError, read_json, write_text
from stages.metrics import REPORTS_DIR, summarise_seeds, write_evaluation
from stages.params import GenerateExperiment, Sample
from stages.text import OOV, PADDING, Vocabulary, pad, tokenize_all

TOP_K = 10


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
    contexts = pad([prefix[:-1] for prefix in prefixes], length, padding="pre", truncating="pre")
    return contexts, np.array([prefix[-1] for prefix in prefixes], dtype="int32")


def encode_lines(lines: list[str], experiment: GenerateExperiment, vocabulary: Vocabulary) -> list[list[int]]:
    return [vocabulary.encode(tokens) for tokens in tokenize_all(lines, experiment.encoding)]


def train(name: str, experiment: GenerateExperiment, folder: Path) -> pd.DataFrame:
    corpus = load_corpus(experiment.dataset)
    vocabulary = Vocabulary.build(tokenize_all(corpus["train"], experiment.encoding), experiment.encoding.vocab_size)
    vocabulary.save(folder / "vocabulary.json")
    contexts, targets = make_sequences(encode_lines(corpus["train"], experiment, vocabulary), experiment)
    print(f"train@{name}: {len(targets)} sequences of {contexts.shape[1]} words, vocabulary {vocabulary.size}")

    def fit(seed: int, callbacks: list) -> tuple[keras.Model, keras.callbacks.History]:
        model = models.build_text_network(experiment.network, vocabulary.size, contexts.shape[1], vocabulary.size, "softmax")
        models.compile_model(model, experiment.optimizer, experiment.learning_rate, "sparse_categorical_crossentropy", metrics=["accuracy"])
        history = model.fit(contexts, targets, epochs=experiment.epochs, batch_size=experiment.batch_size, callbacks=callbacks, verbose=0)
        return model, history

    return models.train_seeds(name, experiment, folder, fit)


def generate_text(model: keras.Model, experiment: GenerateExperiment, vocabulary: Vocabulary, sample: Sample) -> list[str]:
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
            inputs = pad([seen], length, padding="pre", truncating="pre")
            probabilities = model(inputs, training=False).numpy()[0].astype("float64")
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


def ngram_baseline(
    train_lines: list[list[str]], validation_lines: list[list[str]], known: set[str], experiment: GenerateExperiment
) -> dict:
    """An interpolated Witten-Bell n-gram model (nltk.lm) on the same training text, vocabulary and
    targets as the network: the word counts a network must beat to be worth its training.

    Training words outside the network's vocabulary (`known`) become one unknown word, and only
    known targets are scored, as for the network. The order (1-4) is chosen on the last 10 % of
    the training lines, then the model is refitted on all of them and scored on the held-out
    text. Lines are sentences for `line_prefixes` (a line's first word is never a target), the
    running text is one for `windows` (its first `window` words are not). Next-word accuracy
    takes the most likely of the words seen after any suffix of the context and the most
    frequent word, which is exactly the most likely word of the whole vocabulary for this model.
    (NLTK's Kneser-Ney took about 5 ms per score here, 300 times Witten-Bell's.)"""
    from nltk.lm import WittenBellInterpolated
    from nltk.lm.preprocessing import padded_everygram_pipeline

    def sentences(lines: list[list[str]]) -> list[list[str]]:
        return lines if experiment.sequences == "line_prefixes" else [[word for line in lines for word in line]]

    def fit(lines: list[list[str]], order: int) -> WittenBellInterpolated:
        model = WittenBellInterpolated(order)
        model.fit(*padded_everygram_pipeline(order, sentences(lines)))
        return model

    def pairs(lines: list[list[str]], order: int) -> list[tuple[list[str], str]]:
        first = 1 if experiment.sequences == "line_prefixes" else experiment.window
        padded = [["<s>"] * (order - 1) + sentence for sentence in sentences(lines)]
        return [(sentence[end - order + 1 : end], sentence[end]) for sentence in padded for end in range(order - 1 + first, len(sentence))]

    def perplexity(model: WittenBellInterpolated, lines: list[list[str]], known: set[str]) -> float:
        scores = [model.score(word, context) for context, word in pairs(lines, model.order) if word in known]
        return float(np.exp(-np.mean(np.log(np.maximum(scores, 1e-12)))))

    train_lines = [[word if word in known else "<UNK>" for word in line] for line in train_lines]
    cut = len(train_lines) - max(1, len(train_lines) // 10)
    order = min(range(1, 5), key=lambda order: perplexity(fit(train_lines[:cut], order), train_lines[cut:], known))
    model = fit(train_lines, order)
    most_frequent = max(known, key=model.counts.unigrams.__getitem__)
    hits = []
    for context, word in pairs(validation_lines, order):
        if word in known:
            candidates = {most_frequent} | {follower for start in range(len(context)) for follower in model.counts[context[start:]]}
            candidates &= known
            hits.append(max(sorted(candidates), key=lambda candidate: model.score(candidate, context)) == word)
    return {
        "ngram_order": order,
        "ngram_perplexity": perplexity(model, validation_lines, known),
        "ngram_next_word_accuracy": float(np.mean(hits)),
    }


def evaluate(name: str, experiment: GenerateExperiment) -> str:
    corpus = load_corpus(experiment.dataset)
    vocabulary = Vocabulary.load(MODELS_DIR / name / "vocabulary.json")
    trained = models.load_seed_models(name, experiment.seeds)
    length = next(iter(trained.values())).input_shape[1]
    contexts, targets = make_sequences(encode_lines(corpus["validation"], experiment, vocabulary), experiment, length)
    known = targets != OOV
    per_seed, top_k = [], []
    for seed, model in trained.items():
        probabilities = model.predict(contexts[known], batch_size=512, verbose=0)
        target_probabilities = probabilities[np.arange(known.sum()), targets[known]]
        ranks = (probabilities > target_probabilities[:, None]).sum(axis=1)
        per_seed.append(
            {
                "seed": seed,
                "perplexity": float(np.exp(-np.mean(np.log(np.maximum(target_probabilities, 1e-12))))),
                "next_word_accuracy": float(np.mean(ranks == 0)),
            }
        )
        top_k.append([np.mean(ranks < k) for k in range(1, TOP_K + 1)])
    metrics = summarise_seeds(per_seed)
    metrics |= {"validation_oov_rate": float(1 - known.mean()), "validation_targets": len(targets), "seeds": len(per_seed)}
    train_words, validation_words = (tokenize_all(corpus[part], experiment.encoding) for part in ("train", "validation"))
    metrics |= ngram_baseline(train_words, validation_words, set(vocabulary.words), experiment)
    table = pd.DataFrame({"k": np.arange(1, TOP_K + 1), "top_k_accuracy": np.mean(top_k, axis=0)})
    write_evaluation(name, "generate", metrics, per_seed, table)
    first_seed, first_model = next(iter(trained.items()))
    sample = generate_text(first_model, experiment, vocabulary, experiment.sample)
    header = f"# {name}, seed {first_seed}, temperature {experiment.sample.temperature}, from: {experiment.sample.seed_text}"
    write_text(f"{REPORTS_DIR}/{name}/sample.txt", "\n".join([header, *sample]) + "\n")
    scores = f"validation perplexity {metrics['perplexity']:.1f}, next-word accuracy {metrics['next_word_accuracy']:.4f}"
    scores += f" (n-gram {metrics['ngram_perplexity']:.1f}, {metrics['ngram_next_word_accuracy']:.4f})"
    return f"{scores}; sample: {sample[0]} ..."
