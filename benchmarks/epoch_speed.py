"""Per-epoch training speed of the write-ups' way vs ours, or of the CPU pinning's cost, side by
side in one run.

    python benchmarks/epoch_speed.py                  # IMDB- and Rotten-shaped, 1 epoch each way
    python benchmarks/epoch_speed.py --shape imdb --epochs 3 --limit 5000
    python benchmarks/epoch_speed.py --shape imdb --epochs 3 --seeds 1 2 3   # accuracy needs seeds
    python benchmarks/epoch_speed.py --compare pinning --epochs 2   # ours, oneDNN left free vs pinned

`--compare pinning`: both ways are ours; "free" runs with PIN_ISA=0 (oneDNN uses every
instruction set the CPU has), "pinned" as every stage runs (stages/backend.py).

The write-ups' way: every text pre-padded to max_length (`batching: padded`, Keras's
`pad_sequences` default, as both write-ups do), padding fed to the LSTM, Adam without
clipping. Ours: `batching: by_length` (length-bucketed batches, right padding, masking) with the
experiment's `clipnorm`. Otherwise both use the experiment's own params (imdb-lstm,
rotten-lstm), the pipeline's encoding and model code, and its prepared data, so run
`DATA_MIRROR=../shared/data dvc repro preprocess@imdb preprocess@rotten` first. Each
(shape, way) runs in a fresh process, so peak RSS is its own.
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHAPES = {"imdb": "imdb-lstm", "rotten": "rotten-lstm"}
WAYS = {"write-up": {"batching": "padded", "padding": "pre", "clipnorm": 0.0}, "ours": {"batching": "by_length", "padding": "post"}}
PINNING = {"free": {"PIN_ISA": "0"}, "pinned": {}}  # environment of each way; params as "ours"


def measure(shape: str, way: str, epochs: int, limit: int | None, seed: int) -> dict:
    """Train one model `epochs` epochs; wall time per epoch, samples/s, peak RSS, validation accuracy."""
    import keras
    import numpy as np

    from stages.fitting import seed_everything
    from stages.params import load_params
    from stages.tasks import classify
    from stages.text import Vocabulary, tokenize_all

    name = SHAPES[shape]
    experiment = dataclasses.replace(load_params(ROOT / "params.yaml").experiment(name), **WAYS.get(way, WAYS["ours"]), epochs=epochs)
    table, classes = classify.load_texts(experiment.dataset)
    train_rows, validation_rows = table[table.split == "train"], table[table.split == "validation"]
    if limit:
        train_rows, validation_rows = train_rows.sample(limit, random_state=0), validation_rows.sample(limit // 10, random_state=0)
    vocabulary = Vocabulary.build(tokenize_all(train_rows.text, experiment.encoding), experiment.encoding.vocab_size)
    train_sequences = classify.encode(train_rows.text, experiment, vocabulary)
    validation_sequences = classify.encode(validation_rows.text, experiment, vocabulary)
    seed_everything(seed)
    model = classify.compile_classifier(name, experiment, vocabulary.size, len(classes))
    epoch_times = []

    class EpochTimer(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
            self.start = time.perf_counter()

        def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
            epoch_times.append(time.perf_counter() - self.start)

    data = classify.training_data(experiment, train_sequences, train_rows.label.to_numpy(), seed=seed)
    model.fit(**data, epochs=epochs, callbacks=[EpochTimer()], verbose=0)
    predicted = classify.class_probabilities(model, experiment, validation_sequences).argmax(axis=1)
    return {
        "shape": shape,
        "way": way,
        "seed": seed,
        "train_texts": len(train_rows),
        "epochs": epochs,
        "epoch_s": float(np.mean(epoch_times[1:] if len(epoch_times) > 1 else epoch_times)),
        "first_epoch_s": epoch_times[0],
        "samples_per_s": len(train_rows) / float(np.mean(epoch_times)),
        "peak_rss_gib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20,
        "val_accuracy": float(np.mean(predicted == validation_rows.label.to_numpy())),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shape", choices=[*SHAPES, "all"], default="all")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--limit", type=int, help="train on a sample of this many texts (quick runs)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[1], help="one run per seed and way")
    parser.add_argument("--compare", choices=["batching", "pinning"], default="batching")
    parser.add_argument("--one", nargs=3, metavar=("SHAPE", "WAY", "SEED"), help=argparse.SUPPRESS)
    parser.add_argument("--json", help="also write the rows to this JSON file")
    args = parser.parse_args()
    if args.one:
        shape, way, seed = args.one
        print(json.dumps(measure(shape, way, args.epochs, args.limit, int(seed))))
        return
    ways = {way: {} for way in WAYS} if args.compare == "batching" else PINNING
    rows = []
    for shape in SHAPES if args.shape == "all" else [args.shape]:
        for seed, way in itertools.product(args.seeds, ways):
            command = [sys.executable, __file__, "--one", shape, way, str(seed), "--epochs", str(args.epochs)]
            command += ["--limit", str(args.limit)] if args.limit else []
            environment = {"TF_CPP_MIN_LOG_LEVEL": "3"} | dict(os.environ) | ways[way]
            result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, env=environment)
            if result.returncode:
                sys.exit(f"error: {shape}/{way} failed:\n{result.stderr[-2000:]}")
            rows.append(json.loads(result.stdout.strip().splitlines()[-1]))
            print(json.dumps(rows[-1]), flush=True)
    print()
    header = f"{'shape':8} {'way':9} {'seed':>4} {'texts':>7} {'s/epoch':>8} {'samples/s':>10}"
    print(f"{header} {'peak RSS GiB':>13} {'val acc':>8} {'speedup':>8}")
    for row in rows:
        first = next(iter(ways))
        base = next(other for other in rows if (other["shape"], other["seed"], other["way"]) == (row["shape"], row["seed"], first))
        speedup = base["epoch_s"] / row["epoch_s"]
        print(
            f"{row['shape']:8} {row['way']:9} {row['seed']:>4} {row['train_texts']:>7} {row['epoch_s']:>8.1f} {row['samples_per_s']:>10.0f}"
            f" {row['peak_rss_gib']:>13.2f} {row['val_accuracy']:>8.4f} {speedup:>7.2f}x"
        )
    if len(args.seeds) > 1:
        print()
        for shape, way in dict.fromkeys((row["shape"], row["way"]) for row in rows):
            accuracies = [row["val_accuracy"] for row in rows if (row["shape"], row["way"]) == (shape, way)]
            spread = f"{statistics.mean(accuracies):.4f} ± {statistics.stdev(accuracies):.4f}"
            print(f"{shape:8} {way:9} val acc {spread} over {len(accuracies)} seeds")
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2) + "\n")


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()
