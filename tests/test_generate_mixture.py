"""The generator's validation cut and its LSTM + n-gram mixture (issue 34): the weight chosen on
the cut, the mixture's perplexity, and the n-gram scoring exactly the network's targets."""

from pathlib import Path

import numpy as np
import pytest

from stages import ngram
from stages.io import read_json, write_json
from stages.preprocess import prepare_corpus
from stages.tasks import generate
from stages.text import OOV, Vocabulary
from tests.conftest import with_defaults
from tests.test_text_tasks import RHYMES, RecordingModel, corpus_dataset, write_raw

LINES = [["the", "cat", "sat", "on", "the", "mat"], ["a", "dog"], ["the", "dog", "sat"], [], ["on", "a", "mat", "the", "end"]]


def experiment(**changes):
    options = {"dataset": "toy", "network": {"embedding_dim": 4, "units": [4]}, "sample": {"seed_text": "the"}, "epochs": 1}
    return with_defaults("experiments", "generate", **(options | changes))


def test_mixture_perplexity_on_toy_probabilities():
    lstm, ngram_p = np.array([0.5, 0.1]), np.array([0.1, 0.5])
    assert ngram.perplexity(0.5 * lstm + 0.5 * ngram_p) == pytest.approx(1 / 0.3)
    assert ngram.perplexity(lstm) == pytest.approx(np.sqrt(20))


@pytest.mark.parametrize(
    ("lstm", "ngram_p", "expected"),
    [([0.9, 0.8], [0.1, 0.2], 1.0), ([0.1, 0.2], [0.9, 0.8], 0.0), ([0.5, 0.1], [0.1, 0.5], 0.5)],
)
def test_interpolation_weight_is_the_best_on_the_given_targets(lstm, ngram_p, expected):
    assert ngram.interpolation_weight(np.array(lstm), np.array(ngram_p)) == expected


def test_validation_cut_is_the_last_tenth_of_the_lines_and_never_empty():
    assert ngram.validation_cut(list(range(25))) == (list(range(23)), [23, 24])
    assert ngram.validation_cut([1, 2]) == ([1], [2])


@pytest.mark.parametrize("changes", [{"sequences": "line_prefixes"}, {"sequences": "windows", "window": 3}])
@pytest.mark.parametrize("order", [1, 2, 3])
def test_ngram_scores_the_networks_targets_in_its_order(changes, order):
    settings = experiment(**changes)
    vocabulary = Vocabulary.build(LINES[:3], None)
    _, targets = generate.make_sequences([vocabulary.encode(line) for line in LINES], settings)
    pairs = ngram.ngram_pairs(LINES, order, settings)
    assert [vocabulary.encode([word])[0] for _, word in pairs] == targets.tolist()
    known = set(vocabulary.words)
    model = ngram.fit_ngram(ngram.unknown_as_one(LINES[:3], known), order, settings)
    assert len(ngram.ngram_probabilities(model, LINES, known, settings)) == (targets != OOV).sum()


def test_the_cut_scores_only_targets_seen_in_the_other_lines():
    fit_lines, cut = [[2, 3, 4], [3, 2]], [[2, 5, 3, 6]]
    contexts, targets = generate.seen_sequences(fit_lines, cut, experiment(), length=3)
    assert targets.tolist() == [3] and contexts.tolist() == [[0, 2, 5]]


def test_early_stopping_keeps_a_cut_model_and_evaluate_reports_the_mixture_beside_the_lstm(workdir):
    write_raw(workdir, "rhymes.txt", RHYMES.encode())
    prepare_corpus("toy", corpus_dataset(), workdir / "data" / "prepared" / "toy")
    settings = experiment(early_stopping_patience=1, seeds=[1])
    folder = workdir / "models" / "toy"
    folder.mkdir(parents=True)
    curves = generate.train("toy", settings, folder, Path("dvclive") / "toy")
    assert (folder / "seed-1.keras").is_file() and (folder / "seed-1-cut.keras").is_file() and "val_loss" in curves
    generate.evaluate("toy", settings)
    metrics = read_json(workdir / "metrics" / "toy.json")
    assert metrics["perplexity"] > 1 and metrics["interpolated_perplexity"] > 1 and 0 <= metrics["interpolation_weight"] <= 1
    chosen = read_json(folder / "mixture.json")  # chosen at train, on the cut: what evaluate reports is what predict serves
    assert chosen["weights"] == {"1": metrics["interpolation_weight"]} and chosen["ngram_order"] == metrics["ngram_order"]
    vocabulary = Vocabulary.load(folder / "vocabulary.json")
    served = generate.load_mixture("toy", settings, vocabulary, 1)
    assert (served is None) == (metrics["interpolation_weight"] == 1.0)
    write_json(folder / "mixture.json", chosen | {"weights": {"1": 0.25}})
    assert generate.load_mixture("toy", settings, vocabulary, 1).weight == 0.25
    write_json(folder / "mixture.json", chosen | {"weights": {"1": 1.0}})
    assert generate.load_mixture("toy", settings, vocabulary, 1) is None  # the LSTM alone was better on the cut


def test_mixture_with_the_ngram_alone_continues_as_the_ngram_does():
    lines = [["the", "cat", "sat", "on", "the", "mat"]] * 20
    settings = experiment(sample={"seed_text": "the cat", "lines": 1, "words": 3, "temperature": 0.0}, seeds=[1])
    vocabulary = Vocabulary.build(lines, None)
    mixture = ngram.Mixture(ngram.fit_ngram(lines, 2, settings), 0.0, vocabulary.words)
    distribution = mixture.ngram_distribution(vocabulary.encode(["the", "cat"]))
    assert distribution[0] == 0 and distribution.sum() == pytest.approx(1, abs=0.05)  # the rest: end of sentence
    assert generate.generate_text(RecordingModel(vocabulary.size), settings, vocabulary, settings.sample, mixture) == ["sat on the"]
