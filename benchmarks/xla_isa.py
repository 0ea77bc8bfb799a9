"""Does Keras on JAX give other numbers when XLA's CPU code uses another instruction set?

    python benchmarks/xla_isa.py [--isas default,AVX2,SSE4_2] [--onednn default,AVX2] [--repeats 2]

TensorFlow's oneDNN kernels differ by instruction set, which the stages pin to AVX2
(stages/backend.py, measured by benchmarks/portability.py). XLA compiles for the CPU it runs on
up to `--xla_cpu_max_isa`, so the same question stands for the JAX backend: each run here fits
the same seeded models (a stacked stateful LSTM(4) forecaster and an embedding + BiLSTM
classifier, the shapes of airline-stacked and the BBC model, on fixed random data) in a fresh
process with KERAS_BACKEND=jax and `XLA_FLAGS=--xla_cpu_max_isa=<isa>`, and prints a digest of
every weight and loss. Same digest: that setting does not change the numbers on this CPU.
XLA's CPU code also calls oneDNN, whose instruction set `ONEDNN_MAX_CPU_ISA` caps and the XLA
flag does not (a vmapped step changed under it: benchmarks/seeds_together.py's notes);
`--onednn` crosses each XLA setting with those caps. Needs jax installed beside keras.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import subprocess
import sys

FIT = """
import numpy as np, keras
from keras import layers
keras.utils.set_random_seed(1)
series = np.random.default_rng(0).random((96, 3, 1)).astype("float32")
forecaster = keras.Sequential([
    keras.Input(batch_shape=(1, 3, 1)),
    layers.LSTM(4, stateful=True, return_sequences=True),
    layers.LSTM(4, stateful=True),
    layers.Dense(1),
])
forecaster.compile(optimizer="adam", loss="mean_squared_error")
losses = forecaster.fit(series, series[:, -1], epochs=5, batch_size=1, shuffle=False, verbose=0).history["loss"]
texts = np.random.default_rng(1).integers(1, 500, (256, 64))
classifier = keras.Sequential([
    keras.Input(shape=(64,)),
    layers.Embedding(500, 16),
    layers.Bidirectional(layers.LSTM(16)),
    layers.Dense(5, activation="softmax"),
])
classifier.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
losses += classifier.fit(texts, texts[:, 0] % 5, epochs=3, batch_size=32, verbose=0).history["loss"]
weights = forecaster.get_weights() + classifier.get_weights()
print(np.float64(losses).tobytes().hex() + "".join(np.asarray(w).tobytes().hex() for w in weights))
"""


def digest(isa: str, onednn: str) -> str:
    environment = {key: value for key, value in os.environ.items() if not key.startswith("ONEDNN")}
    environment |= {"KERAS_BACKEND": "jax", "XLA_FLAGS": "" if isa == "default" else f"--xla_cpu_max_isa={isa}"}
    if onednn != "default":
        environment["ONEDNN_MAX_CPU_ISA"] = onednn
    result = subprocess.run([sys.executable, "-c", FIT], env=environment, capture_output=True, text=True)
    if result.returncode:
        sys.exit(f"error: the fit under --xla_cpu_max_isa={isa}, oneDNN {onednn} failed: {result.stderr.strip().splitlines()[-1]}")
    return hashlib.sha256(result.stdout.encode()).hexdigest()[:16]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--isas", default="default,AVX2,SSE4_2", help="XLA ISA names, comma-separated; `default`: no flag")
    parser.add_argument("--onednn", default="default", help="ONEDNN_MAX_CPU_ISA values, comma-separated; `default`: unset")
    parser.add_argument("--repeats", type=int, default=2, help="runs per setting (default 2)")
    args = parser.parse_args(argv)
    settings = [(isa, onednn) for isa in args.isas.split(",") for onednn in args.onednn.split(",")]
    found = {setting: [digest(*setting) for _ in range(args.repeats)] for setting in settings}
    for (isa, onednn), digests in found.items():
        print(f"XLA {isa:>8}, oneDNN {onednn:>8}: {' '.join(digests)}")
    same = len({value for digests in found.values() for value in digests}) == 1
    print(f"xla_isa: {'the same numbers under every ISA' if same else 'the numbers differ'}")


if __name__ == "__main__":
    main()
