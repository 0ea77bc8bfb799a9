import numpy as np
import pytest

from stages.io import PipelineError
from stages.tasks.generate import make_sequences
from stages.text import OOV, Vocabulary, english_stopwords, normalise, tokenize_all
from tests.conftest import with_defaults


def test_stopwords_come_from_the_mirrors_nltk_list(stopwords_raw):
    stopwords = english_stopwords()
    assert {"the", "and", "of", "is"} <= stopwords and "chancellor" not in stopwords
    tokens = tokenize_all(
        ["The Chancellor raised THE rates, again!"],
        with_defaults(
            "experiments",
            "classify",
            dataset="toy",
            network={"embedding_dim": 1, "units": [1]},
            max_length=1,
            epochs=1,
            batch_size=1,
            encoding={"remove_stopwords": True},
        ).encoding,
    )
    assert tokens == [["chancellor", "raised", "rates"]]


def test_missing_stopwords_is_a_clear_error(workdir):
    with pytest.raises(
        PipelineError, match=r"NLTK stopwords not found in data/raw/nltk_data \(run: dvc repro download-resource@nltk_data\)"
    ):
        english_stopwords()


def test_normalise_lowercases_and_strips_punctuation_and_html_breaks():
    assert normalise("Great film!<br /><br />Loved it, didn't you?").split() == ["great", "film", "loved", "it", "didn't", "you"]
    assert normalise("Keep, Case", lowercase=False, strip_punctuation=False) == "Keep, Case"


def test_vocabulary_is_ranked_by_training_frequency_with_padding_and_oov():
    vocabulary = Vocabulary.build([["b", "a", "b"], ["c", "b", "a"]], size=4)
    assert vocabulary.words == ["b", "a"] and vocabulary.size == 4
    assert vocabulary.encode(["a", "b", "c", "unseen"]) == [3, 2, OOV, OOV]
    assert Vocabulary.build([["b", "a", "b"]], size=None).words == ["b", "a"]


def test_vocabulary_round_trips_through_json(tmp_path):
    vocabulary = Vocabulary.build([["x", "y", "y"]], size=None)
    vocabulary.save(tmp_path / "vocabulary.json")
    assert Vocabulary.load(tmp_path / "vocabulary.json") == vocabulary


def report_ngram_sequences(token_lists: list[list[int]]) -> tuple[np.ndarray, np.ndarray]:
    """The nursery-rhyme report's construction, with Keras's pad_sequences."""
    import keras

    input_sequences = []
    for token_list in token_lists:
        for i in range(1, len(token_list)):
            input_sequences.append(token_list[: i + 1])
    max_sequence_len = max(len(x) for x in input_sequences)
    input_sequences = np.array(keras.utils.pad_sequences(input_sequences, maxlen=max_sequence_len, padding="pre"))
    return input_sequences[:, :-1], input_sequences[:, -1]


def test_line_prefixes_match_the_reports_ngram_construction(tmp_path):
    from stages.params import load_params
    from tests.conftest import ROOT

    experiment = load_params(ROOT / "params.yaml").experiment("nursery-bilstm")
    lines = [[2, 3, 4, 5], [6, 7], [8], [3, 9, 2]]
    contexts, targets = make_sequences(lines, experiment)
    expected_contexts, expected_targets = report_ngram_sequences(lines)
    np.testing.assert_array_equal(contexts, expected_contexts)
    np.testing.assert_array_equal(targets, expected_targets)
