"""The classify task: train and evaluate recurrent text classifiers on a prepared text dataset.

Beside the network's test accuracy and macro-F1, evaluate reports the majority-class rate and a
TF-IDF + logistic-regression baseline on the same split, so a reader sees whether the LSTM
earns its cost.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score, log_loss

from stages import models
from stages.backend import keras
from stages.io import MODELS_DIR, PREPARED_DIR, PipelineError, read_json, write_json
from stages.metrics import mean_and_spread, summarise_seeds, write_evaluation
from stages.params import ClassifyExperiment
from stages.text import OOV, Vocabulary, length_batches, predict_by_length, tokenize_all


def load_texts(dataset: str) -> tuple[pd.DataFrame, list[str]]:
    """The split table (split, label, text) and the class names preprocess@<dataset> wrote."""
    folder = PREPARED_DIR / dataset
    try:
        table = pd.read_csv(folder / "texts.csv", dtype={"split": str, "label": int, "text": str}, keep_default_na=False)
        return table, read_json(folder / "labels.json")
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
    return keras.utils.pad_sequences(
        sequences, experiment.max_length, dtype="int32", padding=experiment.padding, truncating=experiment.truncating
    )


def training_data(experiment: ClassifyExperiment, sequences: list[list[int]], labels: np.ndarray, seed: int) -> dict:
    """fit() arguments for the experiment's batching: one padded array, or length-bucketed batches."""
    if experiment.batching == "by_length":
        return {"x": length_batches(sequences, labels, experiment.batch_size, seed), "shuffle": False}  # shuffled by seed
    padded = pad_to_length(sequences, experiment)
    return {"x": padded, "y": labels, "batch_size": experiment.batch_size}


def compile_classifier(name: str, experiment: ClassifyExperiment, vocabulary_size: int, classes: int) -> keras.Model:
    binary = experiment.output == "sigmoid"
    if binary and classes != 2:
        raise PipelineError(f"experiments.{name}.output: sigmoid needs 2 classes, dataset {experiment.dataset} has {classes}")
    outputs = 1 if binary else classes
    by_length = experiment.batching == "by_length"
    length = None if by_length else experiment.max_length
    model = models.build_text_network(experiment.network, vocabulary_size, length, outputs, experiment.output, mask=by_length)
    loss = "binary_crossentropy" if binary else "sparse_categorical_crossentropy"
    return models.compile_model(model, "adam", experiment.learning_rate, loss, experiment.clipnorm, metrics=["accuracy"])


def class_probabilities(model: keras.Model, experiment: ClassifyExperiment, sequences: list[list[int]]) -> np.ndarray:
    """(samples, classes) probabilities, also for a one-unit sigmoid output."""
    if experiment.batching == "by_length":
        outputs = predict_by_length(model, sequences)
    else:
        inputs = pad_to_length(sequences, experiment)
        outputs = model.predict(inputs, batch_size=256, verbose=0)
    return np.hstack([1 - outputs, outputs]) if outputs.shape[1] == 1 else outputs


def train(name: str, experiment: ClassifyExperiment, folder: Path) -> pd.DataFrame:
    table, classes = load_texts(experiment.dataset)
    train_rows, validation_rows = table[table.split == "train"], table[table.split == "validation"]
    vocabulary = Vocabulary.build(tokenize_all(train_rows.text, experiment.encoding), experiment.encoding.vocab_size)
    vocabulary.save(folder / "vocabulary.json")
    write_json(folder / "labels.json", classes)
    train_sequences = encode(train_rows.text, experiment, vocabulary)
    validation = None
    if len(validation_rows):
        validation_sequences, validation_labels = encode(validation_rows.text, experiment, vocabulary), validation_rows.label.to_numpy()
        if experiment.batching == "by_length":
            validation = length_batches(validation_sequences, validation_labels, 256, seed=0, chunk_batches=len(validation_rows))
        else:
            validation = (pad_to_length(validation_sequences, experiment), validation_labels)
    if experiment.early_stopping_patience and validation is None:
        raise PipelineError(f"experiments.{name}.early_stopping_patience: dataset {experiment.dataset} has no validation part")

    def fit(seed: int, callbacks: list) -> tuple[keras.Model, keras.callbacks.History]:
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

    return models.train_seeds(name, experiment, folder, fit)


def tfidf_baseline(train_rows: pd.DataFrame, test_rows: pd.DataFrame) -> np.ndarray:
    """TF-IDF (words and bigrams) + logistic regression, fitted on the training split: test predictions."""
    vectorizer = TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True)
    classifier = LogisticRegression(max_iter=2000)
    classifier.fit(vectorizer.fit_transform(train_rows.text), train_rows.label)
    return classifier.predict(vectorizer.transform(test_rows.text))


def confusion_counts(actual: np.ndarray, predicted: np.ndarray, classes: list[str]) -> pd.DataFrame:
    """One row per (actual, predicted) pair of class names with its count, every pair listed:
    a few rows instead of one per test text (75,000 for IMDB's three seeds made `dvc plots
    show` write 25 MB)."""
    counts = np.zeros((len(classes), len(classes)), dtype=int)
    np.add.at(counts, (actual, predicted), 1)
    rows = [(classes[row], classes[column], counts[row, column]) for row in range(len(classes)) for column in range(len(classes))]
    return pd.DataFrame(rows, columns=["actual", "predicted", "count"])


def evaluate(name: str, experiment: ClassifyExperiment) -> str:
    table, classes = load_texts(experiment.dataset)
    train_rows, validation_rows, test_rows = (table[table.split == part] for part in ("train", "validation", "test"))
    vocabulary = Vocabulary.load(MODELS_DIR / name / "vocabulary.json")
    test_sequences, test_labels = encode(test_rows.text, experiment, vocabulary), test_rows.label.to_numpy()
    validation_sequences = encode(validation_rows.text, experiment, vocabulary) if len(validation_rows) else None
    per_seed, test_probabilities, validation_probabilities = [], [], []
    for seed, model in models.load_seed_models(name, experiment.seeds).items():
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
    majority = train_rows.label.mode()[0]
    baseline = tfidf_baseline(train_rows, test_rows)
    metrics |= {
        "majority_accuracy": float(np.mean(test_labels == majority)),
        "tfidf_logreg_accuracy": accuracy_score(test_labels, baseline),
        "tfidf_logreg_macro_f1": f1_score(test_labels, baseline, average="macro"),
        "test_size": len(test_rows),
        "seeds": len(per_seed),
    }
    write_evaluation(name, "classify", metrics, per_seed, confusion_counts(test_labels, ensemble, classes))
    accuracy = f"test accuracy {mean_and_spread(metrics, 'accuracy', 4)}, macro-F1 {metrics['macro_f1']:.4f}"
    return f"{accuracy} (majority {metrics['majority_accuracy']:.4f}, TF-IDF + logistic regression {metrics['tfidf_logreg_accuracy']:.4f})"
