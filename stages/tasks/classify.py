"""The classify task: recurrent text classifiers on a prepared text dataset.

Beside the network's test accuracy and macro-F1, evaluate reports the majority-class rate and a
TF-IDF + logistic-regression baseline on the same split, so a reader sees whether the LSTM
earns its cost. `predict` labels texts with the seeds' averaged probabilities.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from types import ModuleType
from typing import Annotated, Any, Literal

import numpy as np
import pandas as pd
from pydantic import Field, StrictFloat, StrictInt
from pydantic.dataclasses import dataclass
from sklearn.metrics import accuracy_score, f1_score, log_loss

from stages.io import BASELINES_FILE, MODELS_DIR, PREPARED_DIR, PipelineError, read_json, write_json
from stages.metrics import mean_and_spread, summarise_seeds, write_evaluation
from stages.schema import CHECKED, MAX_LENGTH, Patience, TextEncoding, Training, needs_words
from stages.tasks import Primary, Run
from stages.text import OOV, Vocabulary, pad, predict_by_length, tokenize_all


@dataclass(frozen=True, config=CHECKED)
class ClassifyExperiment(Training):
    task: Literal["classify"]
    encoding: TextEncoding
    max_length: Annotated[StrictInt, Field(ge=1, le=MAX_LENGTH)]
    padding: Literal["pre", "post"]
    truncating: Literal["pre", "post"]
    batching: Literal["padded", "by_length"]
    output: Literal["softmax", "sigmoid"]
    clipnorm: Annotated[StrictFloat, Field(ge=0)]  # 0: no clipping
    early_stopping_patience: Patience

    def __post_init__(self) -> None:
        needs_words(self.network)
        if self.batching == "by_length" and self.padding != "post":
            raise ValueError("padding: by_length batches are right-padded and masked; set padding: post")


Experiment = ClassifyExperiment
DATASET_KINDS = ("text", "text_folders")
PRIMARY = Primary("accuracy", "test accuracy", lower_is_better=False)
CHOSEN_BY = ("val_accuracy", "validation accuracy")  # a table's best classifier is picked on validation, never on test
BASELINES = {"tfidf_logreg_accuracy": "TF-IDF + LR", "majority_accuracy": "majority"}
LABELS = Annotated[list[str], Field(min_length=2)]  # labels.json: the class names, in index order
BASELINE_KEYS = Literal["majority_accuracy", "tfidf_logreg_accuracy", "tfidf_logreg_macro_f1"]
BASELINE_FIGURES = Annotated[dict[BASELINE_KEYS, float], Field(min_length=3)]  # the split's baselines.json: all three
RESULTS_COLUMNS = ["test accuracy", "served ensemble", "macro-F1", "validation", "majority", "TF-IDF + LR"]


def load_texts(dataset: str) -> tuple[pd.DataFrame, list[str]]:
    """The split table (split, label, text) and the class names preprocess@<dataset> wrote."""
    folder = PREPARED_DIR / dataset
    try:
        table = pd.read_csv(folder / "texts.csv", dtype={"split": str, "label": int, "text": str}, keep_default_na=False)
        return table, read_json(folder / "labels.json", LABELS)
    except FileNotFoundError:
        raise PipelineError(f"{folder}: not prepared yet (run: dvc repro preprocess@{dataset})") from None


def encode(texts: pd.Series | list[str], experiment: ClassifyExperiment, vocabulary: Vocabulary) -> list[list[int]]:
    """The one path from raw text to word indices, cut to max_length, used at train, evaluate and predict time.

    A text with no token left after normalisation (Rotten's ",", "--") is read as one OOV token: a
    row of padding only is fully masked, which cuDNN's LSTM refuses on a GPU."""
    sequences = [vocabulary.encode(tokens) for tokens in tokenize_all(texts, experiment.encoding)]
    empty = sum(not sequence for sequence in sequences)
    if empty:
        print(f"note: {empty} of {len(sequences)} texts have no token after normalisation; each is read as one OOV token", file=sys.stderr)
        sequences = [sequence or [OOV] for sequence in sequences]
    if experiment.truncating == "pre":
        return [sequence[-experiment.max_length :] for sequence in sequences]
    return [sequence[: experiment.max_length] for sequence in sequences]


def pad_to_length(sequences: list[list[int]], experiment: ClassifyExperiment) -> np.ndarray:
    """The write-ups' fixed-length input: every sequence padded and cut to `max_length`."""
    return pad(sequences, experiment.max_length, experiment.padding, experiment.truncating)


def training_data(experiment: ClassifyExperiment, sequences: list[list[int]], labels: np.ndarray, seed: int) -> dict:
    """fit() arguments for the experiment's batching: one padded array, or length-bucketed batches."""
    from stages.backend import feed
    from stages.fitting import LengthBatches

    if experiment.batching == "by_length":
        return {"x": feed(LengthBatches(sequences, labels, experiment.batch_size, seed)), "shuffle": False}  # shuffled by seed
    padded = pad_to_length(sequences, experiment)
    return {"x": padded, "y": labels, "batch_size": experiment.batch_size}


def compile_classifier(name: str, experiment: ClassifyExperiment, vocabulary_size: int, classes: int) -> Any:
    from stages.networks import build_network, compile_model

    binary = experiment.output == "sigmoid"
    if binary and classes != 2:
        raise PipelineError(f"experiments.{name}.output: sigmoid needs 2 classes, dataset {experiment.dataset} has {classes}")
    by_length = experiment.batching == "by_length"
    length = None if by_length else experiment.max_length
    outputs = 1 if binary else classes
    model = build_network(experiment.network, length, 1, outputs, experiment.output, vocabulary_size, mask=by_length)
    loss = "binary_crossentropy" if binary else "sparse_categorical_crossentropy"
    return compile_model(model, "adam", experiment.learning_rate, loss, experiment.clipnorm, metrics=["accuracy"])


def class_probabilities(model: Any, experiment: ClassifyExperiment, sequences: list[list[int]]) -> np.ndarray:
    """(samples, classes) probabilities, also for a one-unit sigmoid output."""
    from stages.backend import length_step

    if experiment.batching == "by_length":
        outputs = predict_by_length(model, sequences, step=length_step())
    else:
        inputs = pad_to_length(sequences, experiment)
        outputs = model.predict(inputs, batch_size=256, verbose=0)
    return np.hstack([1 - outputs, outputs]) if outputs.shape[1] == 1 else outputs


def train(name: str, experiment: ClassifyExperiment, folder: Path, live: Path) -> pd.DataFrame:
    from stages import backend, fitting, networks
    from stages.backend import keras

    table, classes = load_texts(experiment.dataset)
    train_rows, validation_rows = table[table.split == "train"], table[table.split == "validation"]
    vocabulary = Vocabulary.build(tokenize_all(train_rows.text, experiment.encoding), experiment.encoding.vocab_size)
    vocabulary.save(folder / "vocabulary.json")
    write_json(folder / "labels.json", classes)
    train_sequences = encode(train_rows.text, experiment, vocabulary)
    longest = experiment.max_length if experiment.batching == "padded" else max(map(len, train_sequences))
    networks.check_size(name, experiment.network, longest, 1, len(classes), vocabulary.size, experiment.batch_size)
    validation = None
    if len(validation_rows):
        validation_sequences, validation_labels = encode(validation_rows.text, experiment, vocabulary), validation_rows.label.to_numpy()
        if experiment.batching == "by_length":
            batches = fitting.LengthBatches(validation_sequences, validation_labels, 256, seed=0, chunk_batches=len(validation_rows))
            validation = backend.feed(batches)
        else:
            validation = (pad_to_length(validation_sequences, experiment), validation_labels)
    if experiment.early_stopping_patience and validation is None:
        raise PipelineError(f"experiments.{name}.early_stopping_patience: dataset {experiment.dataset} has no validation part")

    def fit(seed: int, callbacks: list) -> tuple[Any, Any]:
        model = compile_classifier(name, experiment, vocabulary.size, len(classes))
        if experiment.early_stopping_patience:
            callbacks = [keras.callbacks.EarlyStopping(patience=experiment.early_stopping_patience, restore_best_weights=True), *callbacks]
        history = model.fit(
            **training_data(experiment, train_sequences, train_rows.label.to_numpy(), seed),
            validation_data=validation,
            epochs=experiment.epochs,
            callbacks=callbacks,
            verbose=0,
        )
        return model, history

    return fitting.train_seeds(name, experiment, folder, live, fit)


def confusion_counts(actual: np.ndarray, predicted: np.ndarray, classes: list[str]) -> pd.DataFrame:
    """One row per (actual, predicted) pair of class names with its count, every pair listed:
    a few rows instead of one per test text (75,000 for IMDB's three seeds made `dvc plots
    show` write 25 MB)."""
    counts = np.zeros((len(classes), len(classes)), dtype=int)
    np.add.at(counts, (actual, predicted), 1)
    rows = [(classes[row], classes[column], counts[row, column]) for row in range(len(classes)) for column in range(len(classes))]
    return pd.DataFrame(rows, columns=["actual", "predicted", "count"])


def evaluate(name: str, experiment: ClassifyExperiment) -> str:
    from stages.checkpoints import load_seed_models

    table, classes = load_texts(experiment.dataset)
    validation_rows, test_rows = (table[table.split == part] for part in ("validation", "test"))
    vocabulary = Vocabulary.load(MODELS_DIR / name / "vocabulary.json")
    test_sequences, test_labels = encode(test_rows.text, experiment, vocabulary), test_rows.label.to_numpy()
    validation_sequences = encode(validation_rows.text, experiment, vocabulary) if len(validation_rows) else None
    per_seed, test_probabilities, validation_probabilities = [], [], []
    for seed, model in load_seed_models(name, experiment.seeds).items():
        probabilities = class_probabilities(model, experiment, test_sequences)
        test_probabilities.append(probabilities)
        predicted = probabilities.argmax(axis=1)
        row = {
            "seed": seed,
            "accuracy": accuracy_score(test_labels, predicted),
            "macro_f1": f1_score(test_labels, predicted, average="macro"),
            "loss": log_loss(test_labels, probabilities, labels=range(len(classes))),
        }
        if validation_sequences is not None:
            validation_probabilities.append(class_probabilities(model, experiment, validation_sequences))
            row["val_accuracy"] = accuracy_score(validation_rows.label, validation_probabilities[-1].argmax(axis=1))
        per_seed.append({key: float(value) if key != "seed" else value for key, value in row.items()})
    metrics = summarise_seeds(per_seed)
    # the model stages.predict serves: every seed's probabilities averaged
    ensemble = np.mean(test_probabilities, axis=0).argmax(axis=1)
    metrics["ensemble_accuracy"] = accuracy_score(test_labels, ensemble)
    metrics["ensemble_macro_f1"] = f1_score(test_labels, ensemble, average="macro")
    if validation_probabilities:
        metrics["ensemble_val_accuracy"] = accuracy_score(validation_rows.label, np.mean(validation_probabilities, axis=0).argmax(axis=1))
    metrics |= read_json(PREPARED_DIR / experiment.dataset / BASELINES_FILE, BASELINE_FIGURES) | {
        "test_size": len(test_rows),
        "seeds": len(per_seed),
    }
    write_evaluation(name, "classify", metrics, per_seed, confusion_counts(test_labels, ensemble, classes))
    accuracy = f"test accuracy {mean_and_spread(metrics, 'accuracy', 4)}, macro-F1 {metrics['macro_f1']:.4f}"
    return f"{accuracy} (majority {metrics['majority_accuracy']:.4f}, TF-IDF + logistic regression {metrics['tfidf_logreg_accuracy']:.4f})"


def classify_texts(name: str, experiment: ClassifyExperiment, texts: list[str]) -> list[dict]:
    from stages.checkpoints import load_seed_models

    if not texts or not any(text.strip() for text in texts):
        raise PipelineError("no text to classify: pass texts as arguments, --file, or lines on stdin")
    trained = load_seed_models(name, experiment.seeds)
    classes = read_json(MODELS_DIR / name / "labels.json", LABELS)
    sequences = encode(texts, experiment, Vocabulary.load(MODELS_DIR / name / "vocabulary.json"))
    probabilities = np.mean([class_probabilities(model, experiment, sequences) for model in trained.values()], axis=0)
    return [
        {
            "text": text,
            "label": classes[int(row.argmax())],
            "probabilities": {label: round(float(p), 4) for label, p in zip(classes, row, strict=True)},
        }
        for text, row in zip(texts, probabilities, strict=True)
    ]


def add_predict_arguments(group: Any) -> None:
    group.add_argument("texts", nargs="*", help="classify: texts to label (default: --file, or one per line on stdin)")
    group.add_argument("--file", help="classify: a file with one text per line")


def read_lines(path: str | None) -> list[str]:
    """A file's lines, or standard input's, as UTF-8; other bytes are refused, not guessed."""
    where = path or "stdin"
    try:
        data = Path(path).read_bytes() if path else sys.stdin.buffer.read()
        return data.decode("utf-8").splitlines()
    except OSError as error:
        raise PipelineError(f"{where}: cannot read ({error.strerror})") from None
    except UnicodeDecodeError as error:
        raise PipelineError(f"{where}: not valid UTF-8 at byte {error.start}; save the texts as UTF-8") from None


def predict(name: str, experiment: ClassifyExperiment, dataset: Any, options: Any, draw: ModuleType) -> None:
    for row in classify_texts(name, experiment, options.texts or read_lines(options.file)):
        print(json.dumps(row))


def read_table(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype={"actual": str, "predicted": str}, keep_default_na=False)


def draw_experiment(run: Run, draw: ModuleType, folder: Path) -> None:
    """The served ensemble's test confusion."""
    draw.plot_confusion(run.name, run.table, folder / f"{run.name}-confusion.png")


def draw_summary(runs: list[Run], draw: ModuleType, folder: Path) -> None:
    """The test accuracy of every classifier with its baselines."""
    if runs:
        baselines = {"majority_accuracy": "majority class", "tfidf_logreg_accuracy": "TF-IDF + logistic regression"}
        metrics = {run.name: run.metrics for run in runs}
        path = folder / "accuracy-by-experiment.png"
        draw.plot_bars_with_baselines(metrics, "accuracy", baselines, list(metrics), "test accuracy by experiment", "accuracy", path)


def dvc_plots(runs: list[Run]) -> list[dict]:
    """Every classifier's loss and accuracy curves on one chart each."""
    charts = [
        ("classifier-loss", "classifiers, training and validation loss (mean of seeds)", ["loss", "val_loss"]),
        ("classifier-accuracy", "classifiers, training and validation accuracy (mean of seeds)", ["accuracy", "val_accuracy"]),
    ]
    return [
        {plot_id: {"title": title, "x": "epoch", "y": {f"plots/learning/{run.name}.csv": columns for run in runs}}}
        for plot_id, title, columns in (charts if runs else [])
    ]


def result_cells(metrics: dict) -> list[str]:
    validation = mean_and_spread(metrics, "val_accuracy", 4) if "val_accuracy" in metrics else "-"
    return [
        mean_and_spread(metrics, "accuracy", 4),
        f"{metrics['ensemble_accuracy']:.4f}",
        f"{metrics['macro_f1']:.4f}",
        validation,
        f"{metrics['majority_accuracy']:.4f}",
        f"{metrics['tfidf_logreg_accuracy']:.4f}",
    ]
