"""Same numbers on another CPU: stages.backend pins oneDNN (its operations on, its instruction
set at AVX2), so a run gives the same bytes whatever the CPU offers above that, however many
threads it uses and whatever the environment asks of oneDNN.

Each case trains a small text model (Embedding -> SimpleRNN(128) -> Dense over a 2,000-word
vocabulary, the shape of alice-simplernn) in its own process, as a stage would, and prints a
digest of its predictions."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

TRAIN = """
import hashlib
import numpy as np
from stages import fitting
from stages.backend import keras, layers
fitting.seed_everything(1)
rng = np.random.default_rng(0)
words = rng.integers(2, 2000, size=(3000, 11)).astype("int32")
network = [layers.Embedding(2000, 64), layers.SimpleRNN(128), layers.Dense(2000, activation="softmax")]
model = keras.Sequential([keras.Input((10,), dtype="int32"), *network])
model.compile(optimizer="rmsprop", loss="sparse_categorical_crossentropy")
model.fit(words[:, :10], words[:, 10], epochs=2, batch_size=128, verbose=0)
print(hashlib.sha256(model.predict(words[:200, :10], verbose=0).tobytes()).hexdigest())
"""


def digest(**environment: str) -> str:
    settings = ("ONEDNN_MAX_CPU_ISA", "TF_NUM_INTRAOP_THREADS", "TF_ENABLE_ONEDNN_OPTS", "PIN_ISA")
    clean = {key: value for key, value in os.environ.items() if key not in settings}
    result = subprocess.run([sys.executable, "-c", TRAIN], cwd=ROOT, env=clean | environment, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout.strip()


SETTINGS = [
    {"ONEDNN_MAX_CPU_ISA": "AVX2", "TF_NUM_INTRAOP_THREADS": "1"},  # what a CPU offering only AVX2 runs, one thread
    {"TF_ENABLE_ONEDNN_OPTS": "0", "TF_NUM_INTRAOP_THREADS": "1"},  # TensorFlow's default on some platforms
]


@pytest.fixture(scope="module")
def pinned() -> str:
    return digest()


def test_pinned_runs_are_identical_across_instruction_sets_threads_and_onednn_settings(pinned: str):
    assert [digest(**setting) for setting in SETTINGS] == [pinned] * len(SETTINGS)


@pytest.mark.skipif("avx512f" not in Path("/proc/cpuinfo").read_text(), reason="this CPU offers nothing above AVX2")
def test_without_the_pin_this_cpu_computes_differently(pinned: str):
    """What the pin is for: left free, oneDNN uses AVX-512 here and the bytes change, and they
    change again with its operations off."""
    free = digest(PIN_ISA="0")
    assert free != pinned
    assert digest(PIN_ISA="0", TF_ENABLE_ONEDNN_OPTS="0") not in (free, pinned)
