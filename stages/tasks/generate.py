"""The generate task: word-level next-word models on a prepared corpus, scored on held-out
text by perplexity and next-word accuracy, and asked to write a sample.

Perplexity and accuracy are computed over held-out targets that are in the training
vocabulary; the share of out-of-vocabulary targets is reported beside them
(`validation_oov_rate`), since no model trained on this vocabulary can predict those words.
Anything chosen (the n-gram's order, the epochs under early stopping, the weight of the LSTM in
its mixture with the n-gram) is chosen on the validation cut, the last 10 % of the training
lines, never on the held-out text. The n-gram and the mixture are in stages/ngram.py.

Over 350 lines: a generator's sequences, its training with early stopping, sampling, the choice
of the mixture's weights and the evaluation each need the others' details (the cut, the
sequence length); split further, each part would be read only beside the other.
"""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path
from types import ModuleType
from typing import Annotated, Any, Literal

import numpy as np
import pandas as pd
from pydantic import Field, StrictFloat, StrictInt, StrictStr, ValidationError
from pydantic.dataclasses import dataclass

from stages.io import MODELS_DIR, PREPARED_DIR, PipelineError, read_json, write_json, write_text
from stages.metrics import REPORTS_DIR, mean_and_spread, summarise_seeds, write_evaluation
from stages.ngram import (
    MIXTURE_FILE,
    Mixture,
    fit_ngram,
    interpolation_weight,
    load_mixture,
    ngram_baseline,
    ngram_order,
    ngram_probabilities,
    perplexity,
    read_mixture,
    unknown_as_one,
    validation_cut,
)
from stages.schema import CHECKED, Patience, Positive, TextEncoding, Training, Window, needs_words
from stages.tasks import Primary, Run
from stages.text import OOV, PADDING, Vocabulary, pad, tokenize_all

TOP_K = 10


@dataclass(frozen=True, config=CHECKED)
class Sample:
    """Text generated after evaluation, deterministic for a given seed."""

    seed_text: StrictStr
    lines: Positive
    words: Positive
    temperature: Annotated[StrictFloat, Field(ge=0)]  # 0: the most likely word
    seed: StrictInt
    context_words: Annotated[StrictInt, Field(ge=0)]  # 0: all the text so far


@dataclass(frozen=True, config=CHECKED)
class GenerateExperiment(Training):
    """Next-word model. `sequences: line_prefixes` trains on every prefix of each line (the
    nursery-rhyme report); `windows` on sliding windows of `window` words over the text."""

    task: Literal["generate"]
    encoding: TextEncoding
    sample: Sample
    sequences: Literal["line_prefixes", "windows"]
    window: Window
    optimizer: Literal["adam", "rmsprop"]
    early_stopping_patience: Patience

    def __post_init__(self) -> None:
        needs_words(self.network)


Experiment = GenerateExperiment
DATASET_KINDS = ("corpus",)
PRIMARY = Primary("perplexity", "held-out perplexity", lower_is_better=True)
BASELINES = {"ngram_perplexity": "n-gram"}
RESULTS_COLUMNS = [
    "perplexity",
    "next-word accuracy",
    "n-gram perplexity",
    "n-gram next-word accuracy",
    "beats the n-gram",
    "LSTM + n-gram perplexity (LSTM weight)",
    "held-out words not in vocabulary",
]


def seen_sequences(
    fit_lines: list[list[int]], cut: list[list[int]], experiment: GenerateExperiment, length: int
) -> tuple[np.ndarray, np.ndarray]:
    """The validation cut's sequences whose target occurs in the other training lines. The
    held-out text has no known target unseen in training; the cut's such words (a tenth of
    Alice's, more of the rhymes') would only reward models that forget rare words less."""
    contexts, targets = make_sequences(cut, experiment, length)
    scored = np.isin(targets, sorted({index for line in fit_lines for index in line} - {OOV}))
    return contexts[scored], targets[scored]


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
    contexts = pad([prefix[:-1] for prefix in prefixes], length)
    return contexts, np.array([prefix[-1] for prefix in prefixes], dtype="int32")


def encode_lines(lines: list[str], experiment: GenerateExperiment, vocabulary: Vocabulary) -> list[list[int]]:
    return [vocabulary.encode(tokens) for tokens in tokenize_all(lines, experiment.encoding)]


def build(experiment: GenerateExperiment, vocabulary_size: int, length: int) -> Any:
    from stages.networks import build_network, compile_model

    model = build_network(experiment.network, length, 1, vocabulary_size, "softmax", vocabulary_size)
    loss = "sparse_categorical_crossentropy"
    return compile_model(model, experiment.optimizer, experiment.learning_rate, loss, metrics=["accuracy"])


def train(name: str, experiment: GenerateExperiment, folder: Path, live: Path) -> pd.DataFrame:
    """One model per seed on all training lines. With `early_stopping_patience`, each seed first
    trains on all but the validation cut until the cut's loss stops falling (that model is kept
    as seed-<seed>-cut.keras, for choosing the mixture's weight on text it has not seen), then
    retrains on all lines for its best number of epochs; its learning curve is the first run's."""
    from stages import fitting, networks
    from stages.backend import keras
    from stages.checkpoints import save_model

    corpus = load_corpus(experiment.dataset)
    vocabulary = Vocabulary.build(tokenize_all(corpus["train"], experiment.encoding), experiment.encoding.vocab_size)
    vocabulary.save(folder / "vocabulary.json")
    lines = encode_lines(corpus["train"], experiment, vocabulary)
    contexts, targets = make_sequences(lines, experiment)
    print(f"train@{name}: {len(targets)} sequences of {contexts.shape[1]} words, vocabulary {vocabulary.size}")
    networks.check_size(name, experiment.network, contexts.shape[1], 1, vocabulary.size, vocabulary.size, experiment.batch_size)

    def fit_on(sequences: tuple[np.ndarray, np.ndarray], epochs: int, callbacks: list, validation: tuple | None = None) -> tuple[Any, Any]:
        model = build(experiment, vocabulary.size, sequences[0].shape[1])
        history = model.fit(
            *sequences,
            validation_data=validation,
            epochs=epochs,
            batch_size=experiment.batch_size,
            callbacks=callbacks,
            verbose=0,
        )
        return model, history

    def fit(seed: int, callbacks: list) -> tuple[Any, Any]:
        if not experiment.early_stopping_patience:
            return fit_on((contexts, targets), experiment.epochs, callbacks)
        fit_lines, cut = validation_cut(lines)
        sequences = make_sequences(fit_lines, experiment)
        stopping = keras.callbacks.EarlyStopping(patience=experiment.early_stopping_patience, restore_best_weights=True)
        validation = seen_sequences(fit_lines, cut, experiment, sequences[0].shape[1])
        model, history = fit_on(sequences, experiment.epochs, [stopping, *callbacks], validation)
        save_model(model, folder / f"seed-{seed}-cut.keras")
        progress = [callback for callback in callbacks if not isinstance(callback, fitting.LiveLog)]  # the log keeps the cut run's curves
        return fit_on((contexts, targets), int(np.argmin(history.history["val_loss"])) + 1, progress)[0], history

    curves = fitting.train_seeds(name, experiment, folder, live, fit)
    write_json(folder / MIXTURE_FILE, choose_mixture(name, folder, experiment, corpus, vocabulary, contexts.shape[1]))
    return curves


def generate_text(
    model: Any, experiment: GenerateExperiment, vocabulary: Vocabulary, sample: Sample, mixture: Mixture | None = None
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
            probabilities = np.asarray(model(pad([seen], length), training=False))[0].astype("float64")
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


def target_probabilities(model: Any, contexts: np.ndarray, targets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(each target's probability, the whole next-word distribution before each target)."""
    probabilities = model.predict(contexts, batch_size=512, verbose=0)
    return probabilities[np.arange(len(targets)), targets], probabilities


def choose_mixture(
    name: StrictStr,
    folder: Path,
    experiment: GenerateExperiment,
    corpus: dict[str, list[str]],
    vocabulary: Vocabulary,
    length: StrictInt,
) -> dict:
    """The n-gram's order and each seed's weight in the LSTM + n-gram mixture, both chosen on the
    validation cut, saved beside the models with the n-gram's training text: evaluate reports
    the mixture and predict serves it where it beats the LSTM on the cut (weight below 1).

    The weight is chosen on the cut's targets seen in the other training lines (seen_sequences)
    with an n-gram fitted on those lines and, with early stopping, the seed's cut model, which
    has not seen the cut; without it the LSTM has trained on the cut and the weight leans
    towards the LSTM."""
    from stages.checkpoints import load_seed_models

    known = set(vocabulary.words)
    words = unknown_as_one(tokenize_all(corpus["train"], experiment.encoding), known)
    order = ngram_order(words, known, experiment)
    fit_part, cut = validation_cut(words)
    seen = {word for line in fit_part for word in line} & known
    ngram = ngram_probabilities(fit_ngram(fit_part, order, experiment), cut, seen, experiment)
    contexts, targets = seen_sequences(*validation_cut(encode_lines(corpus["train"], experiment, vocabulary)), experiment, length)
    weights = {}
    for seed in experiment.seeds:
        model = load_seed_models(name, [seed], "-cut" if experiment.early_stopping_patience else "", folder)[seed]
        lstm = target_probabilities(model, contexts, targets)[0]
        weights[str(seed)] = interpolation_weight(lstm, ngram)
    return {"ngram_order": order, "weights": weights, "ngram_text": words}


def evaluate(name: str, experiment: GenerateExperiment) -> str:
    from stages.checkpoints import load_seed_models

    corpus = load_corpus(experiment.dataset)
    vocabulary = Vocabulary.load(MODELS_DIR / name / "vocabulary.json")
    trained = load_seed_models(name, experiment.seeds)
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


def add_predict_arguments(group: Any) -> None:
    group.add_argument("--seed-text", dest="seed_text", help="generate: text to continue (default: the experiment's sample seed text)")
    group.add_argument("--lines", type=int, help="generate: number of lines")
    group.add_argument("--words", type=int, help="generate: words per line")
    group.add_argument("--temperature", type=float, help="generate: 0 = greedy, above 0 samples")
    group.add_argument("--seed", type=int, help="generate: random seed for sampling")
    group.add_argument("--context-words", dest="context_words", type=int, help="generate: the model sees only the last N words (0: all)")


def sample_with(sample: Sample, changes: dict) -> Sample:
    """The experiment's sample with the command line's options, checked as params.yaml's are."""
    try:
        return dataclasses.replace(sample, **changes)
    except ValidationError as error:  # the command line's options are the sample's fields
        first = error.errors()[0]
        option = f"--{str(first['loc'][0]).replace('_', '-')}"
        bound = {"greater_than_equal": "ge", "greater_than": "gt"}.get(first["type"])
        raise PipelineError(f"{option}: must be >= {first['ctx'][bound]}" if bound else f"{option}: {first['msg']}") from None


def predict(name: str, experiment: GenerateExperiment, dataset: Any, options: Any, draw: ModuleType) -> None:
    from stages.checkpoints import load_seed_models

    fields = ("seed_text", "lines", "words", "temperature", "seed", "context_words")
    sample = sample_with(experiment.sample, {key: getattr(options, key) for key in fields if getattr(options, key) is not None})
    first_seed = experiment.seeds[0]
    model = load_seed_models(name, [first_seed])[first_seed]
    vocabulary = Vocabulary.load(MODELS_DIR / name / "vocabulary.json")
    context = encode_lines([sample.seed_text], experiment, vocabulary)[0]
    if not context or all(index == OOV for index in context):
        print(f"warning: no word of the seed text {sample.seed_text!r} is in the vocabulary; generating from OOV", file=sys.stderr)
    mixture = load_mixture(name, experiment, vocabulary, first_seed)
    if mixture:
        print(f"serving LSTM + {mixture.ngram.order}-gram, LSTM weight {mixture.weight:g} (chosen on validation)", file=sys.stderr)
    for line in generate_text(model, experiment, vocabulary, sample, mixture):
        print(line)


def read_table(path: Path) -> pd.DataFrame:
    return pd.read_csv(path)


def draw_experiment(run: Run, draw: ModuleType, folder: Path) -> None:
    """Nothing beside its learning curves: its samples are text (reports/<experiment>/)."""


def draw_summary(runs: list[Run], draw: ModuleType, folder: Path) -> None:
    """Across generators: held-out perplexity beside the n-gram's on the same text."""
    if runs:
        metrics = {run.name: run.metrics for run in runs}
        title, path = "held-out perplexity by generator (lower is better)", folder / "perplexity-by-experiment.png"
        baselines = {"ngram_perplexity": "n-gram (Witten-Bell) on the same text"}
        draw.plot_bars_with_baselines(metrics, "perplexity", baselines, list(metrics), title, "perplexity (log scale)", path, log=True)


def dvc_plots(runs: list[Run]) -> list[dict]:
    return []


def result_cells(metrics: dict) -> list[str]:
    return [
        mean_and_spread(metrics, "perplexity", 1),
        mean_and_spread(metrics, "next_word_accuracy", 4),
        f"{metrics['ngram_perplexity']:.1f} (order {metrics['ngram_order']})",
        f"{metrics['ngram_next_word_accuracy']:.4f}",
        "yes" if metrics["perplexity"] < metrics["ngram_perplexity"] else "**no**",
        f"{mean_and_spread(metrics, 'interpolated_perplexity', 1)} ({mean_and_spread(metrics, 'interpolation_weight', 2)})",
        f"{metrics['validation_oov_rate']:.4f}",
    ]
