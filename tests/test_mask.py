"""No text batch holds a row of padding only: a fully masked row stops Keras's cuDNN LSTM on a GPU
(`_assert_valid_mask`), and on any device it is a text the model cannot read."""

import shutil

from stages.params import load_params
from stages.preprocess import prepare_texts
from stages.tasks import classify
from stages.text import PADDING, Vocabulary, pad_batch, tokenize_all
from tests.conftest import ROOT


def test_rotten_phrases_with_no_token_are_read_as_one_oov_token(mirror, workdir, stopwords_raw, capsys):
    raw = workdir / "data" / "raw" / "rotten"
    raw.mkdir(parents=True)
    shutil.copy(mirror / "rotten" / "train.tsv", raw)
    params = load_params(ROOT / "params.yaml")
    prepare_texts("rotten", params.dataset("rotten"), workdir / "data" / "prepared" / "rotten")
    experiment = params.experiment("rotten-bilstm")
    table, _ = classify.load_texts("rotten")
    tokens = tokenize_all(table.text, experiment.encoding)
    empty = [row for row, words in enumerate(tokens) if not words]
    assert len(empty) >= 20  # the cuDNN condition is there in the real data (",", ".", "--")
    sequences = classify.encode(table.text, experiment, Vocabulary.build(tokens, experiment.encoding.vocab_size))
    assert f"note: {len(empty)} of {len(table)} texts have no token after normalisation" in capsys.readouterr().err
    assert (pad_batch([sequences[row] for row in empty]) != PADDING).any(axis=1).all()
    assert all(sequences)
