"""Byte-for-byte proof behind replacing our own helpers by the libraries' (issue 35).

    python benchmarks/replacements.py [--before ec246b1]

Loads our former `text.pad` and `series` (scaler, windows, RMSE) from the commit BEFORE, runs them
and their replacements on the mirror's real data (the IMDB reviews encoded as imdb-bilstm encodes
them, nursery's line prefixes, the airline series), and prints per pair whether the outputs are the
same bytes. Needs `dvc repro preprocess@imdb preprocess@nursery preprocess@airline`.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import types
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from numpy.lib.stride_tricks import sliding_window_view
from sklearn.metrics import root_mean_squared_error
from sklearn.preprocessing import MinMaxScaler

from stages.backend import keras
from stages.params import load_params
from stages.series import load_prepared_series
from stages.tasks import classify, generate
from stages.text import Vocabulary, tokenize_all


def module_at(commit: str, path: str) -> types.ModuleType:
    """The module as it was at COMMIT, loaded under its own name so it cannot shadow today's."""
    source = subprocess.run(["git", "show", f"{commit}:{path}"], check=True, capture_output=True, text=True).stdout
    module = types.ModuleType(f"before_{Path(path).stem}")
    sys.modules[module.__name__] = module  # dataclasses look their module up
    exec(compile(source, f"{commit}:{path}", "exec"), module.__dict__)
    return module


def same(name: str, ours: np.ndarray, theirs: np.ndarray) -> bool:
    ours, theirs = np.ascontiguousarray(ours), np.ascontiguousarray(theirs)
    identical = ours.dtype == theirs.dtype and ours.shape == theirs.shape and ours.tobytes() == theirs.tobytes()
    differing = 0 if identical else int(np.sum(ours != theirs))
    detail = f"  ({differing} of {ours.size} values differ, at most {np.max(np.abs(ours - theirs)):.3g})" if differing else ""
    print(f"{'identical' if identical else 'DIFFERENT':9}  {name}{detail}")
    return identical


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", default="ec246b1", help="the last commit with our own helpers")
    args = parser.parse_args()
    text_before, series_before = module_at(args.before, "stages/text.py"), module_at(args.before, "stages/series.py")
    params = load_params(Path("params.yaml"))

    imdb = params.experiment("imdb-bilstm")
    table, _ = classify.load_texts("imdb")
    reviews = table[table.split == "train"].text
    vocabulary = Vocabulary.build(tokenize_all(reviews, imdb.encoding), imdb.encoding.vocab_size)
    sequences = [vocabulary.encode(tokens) for tokens in tokenize_all(reviews, imdb.encoding)]
    for padding in ("pre", "post"):
        for truncating in ("pre", "post"):
            same(
                f"pad_sequences, IMDB training reviews to 500, padding {padding}, truncating {truncating}",
                text_before.pad(sequences, 500, padding, truncating),
                keras.utils.pad_sequences(sequences, 500, dtype="int32", padding=padding, truncating=truncating),
            )
    nursery = params.experiment("nursery-bilstm")
    corpus = generate.load_corpus("nursery")
    lines = generate.encode_lines(corpus["train"], nursery, Vocabulary.build(tokenize_all(corpus["train"], nursery.encoding), None))
    prefixes = [line[:end] for line in lines for end in range(1, len(line))]
    same(
        "pad_sequences, nursery line prefixes (pre, pre)",
        text_before.pad(prefixes, 40, "pre", "pre"),
        keras.utils.pad_sequences(prefixes, 40, dtype="int32", padding="pre", truncating="pre"),
    )

    series = load_prepared_series("airline")
    values, train_part = series.values, series.values[: series.train_size]
    ours = series_before.MinMaxScaler.fit(train_part)
    theirs = MinMaxScaler().fit(train_part[:, None])
    same("MinMaxScaler.transform, airline", ours.transform(values), theirs.transform(values[:, None])[:, 0])
    scaled = ours.transform(values)
    same("MinMaxScaler.inverse_transform, airline", ours.inverse(scaled), theirs.inverse_transform(scaled[:, None])[:, 0])
    for look_back in (1, 3, 12):
        for history in (False, True):
            windows = series_before.make_windows(series.scaled, 0, series.train_size, look_back, history)
            same(
                f"sliding_window_view, airline look_back {look_back}, history {history}",
                windows.inputs,
                sliding_window_view(series.scaled, look_back)[windows.target_index - look_back],
            )
    rng = np.random.default_rng(0)
    forecasts = [values + rng.normal(0, scale, len(values)) for scale in np.linspace(1, 100, 1000)]
    same(
        "root_mean_squared_error, 1,000 noisy airline forecasts",
        np.array([series_before.rmse(values, forecast) for forecast in forecasts]),
        np.array([root_mean_squared_error(values, forecast) for forecast in forecasts]),
    )


if __name__ == "__main__":
    main()
