"""Keras on the experiment's backend (params.yaml `backend:`, tensorflow or jax), pinned and quiet,
and the backend's own determinism and device probes: the one module that knows which it is.

A stage calls `use(backend)` once its params are checked; `keras` and `layers` load on the first
`from stages.backend import keras`, on that backend (TensorFlow when nothing chose one).

Pinned: TensorFlow's oneDNN and JAX's XLA pick their CPU kernels by the instruction set at run
time, and the same run gives other last digits on an AVX-512 than on an AVX2 machine. So both run
on at most AVX2 (every x86-64 CPU since about 2013), and committed metrics reproduce on other
computers of the same vendor: benchmarks/portability.py measures oneDNN, benchmarks/xla_isa.py
XLA (there AVX2 and AVX-512 gave identical bits, SSE4.2 others). `PIN_ISA=0` leaves both to the
machine. TensorFlow's start-up lines (the oneDNN notice, CUDA probes that read as failures on a
CPU-only machine) go to /dev/null while it loads; real failures reach Python as exceptions. On
another backend TensorFlow is never loaded, even when installed: Keras would import it only to
seed its generators and to check types when saving (seconds per stage, and its banner), and
nothing a JAX stage runs uses it.
"""

from __future__ import annotations

import importlib
import os
import sys
from typing import Any

from stages.io import PipelineError

BACKENDS = ("tensorflow", "jax")
PINNED_ONEDNN = {"ONEDNN_MAX_CPU_ISA": "AVX2", "TF_ENABLE_ONEDNN_OPTS": "1"}
PINNED_XLA = "--xla_cpu_max_isa=AVX2"


def use(backend: str, deterministic: bool = True) -> None:
    """Run Keras on `backend` (XLA told to be deterministic on a GPU too, unless `deterministic`
    is false); once Keras is loaded (a test running stages in one process), only on the backend it has."""
    loaded = sys.modules.get("keras")
    if loaded is not None and loaded.backend.backend() != backend:
        raise PipelineError(f"backend: Keras is already running on {loaded.backend.backend()} in this process, not {backend}")
    os.environ["KERAS_BACKEND"] = backend
    if backend == "jax" and deterministic:
        _add_xla_flag("--xla_gpu_deterministic_ops=true")


def _add_xla_flag(flag: str) -> None:
    flags = os.environ.get("XLA_FLAGS", "").split()
    os.environ["XLA_FLAGS"] = " ".join(flags if flag in flags else [*flags, flag])


def name() -> str:
    return os.environ.get("KERAS_BACKEND", "tensorflow")


def _quietly(load: Any) -> None:
    sys.stderr.flush()
    saved, devnull = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    try:
        load()
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def _load_tensorflow() -> None:
    import tensorflow

    tensorflow.config.list_physical_devices()  # the CUDA probe, while stderr is closed
    tensorflow.get_logger().setLevel("ERROR")  # retracing notes when several seed models each run once: expected here


def _load() -> None:
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    if os.environ.get("PIN_ISA") != "0":
        os.environ.update(PINNED_ONEDNN) if name() == "tensorflow" else _add_xla_flag(PINNED_XLA)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    if name() == "tensorflow":
        _quietly(_load_tensorflow)
    else:
        sys.modules.setdefault("tensorflow", None)  # Python's way of saying "not installed": Keras then skips it
    globals()["keras"] = importlib.import_module("keras")
    globals()["layers"] = importlib.import_module("keras.layers")


def __getattr__(attribute: str) -> Any:
    """`keras` and `layers`, loaded on first use on the chosen backend."""
    if attribute not in ("keras", "layers"):
        raise AttributeError(f"module {__name__!r} has no attribute {attribute!r}")
    _load()
    return globals()[attribute]


def make_deterministic() -> None:
    """Same seed, same data -> the same bits: TensorFlow's op determinism (XLA's was set by `use`)."""
    if name() == "tensorflow":
        import tensorflow

        tensorflow.config.experimental.enable_op_determinism()


def has_gpu() -> bool:
    if name() == "tensorflow":
        import tensorflow

        return bool(tensorflow.config.list_physical_devices("GPU"))
    import jax

    return any(device.platform == "gpu" for device in jax.devices())


def length_step() -> int:
    """What a batch of texts is right-padded to a multiple of: XLA compiles a step for every input
    shape, so under JAX lengths are rounded up to 32 (a masking Embedding makes the padding
    irrelevant); TensorFlow runs any shape as it comes."""
    return 1 if name() == "tensorflow" else 32


def feed(batches: Any) -> Any:
    """A keras.utils.PyDataset of batches whose length varies, as this backend's Keras reads it:
    itself on JAX; on TensorFlow, whose Keras fixes a PyDataset's shapes from its first two
    batches, a tf.data pipeline of any length that plans the next epoch at the end of each."""
    if name() != "tensorflow":
        return batches
    import tensorflow

    def epoch() -> Any:
        for index in range(len(batches)):
            yield batches[index]
        batches.on_epoch_end()

    signature = tuple(tensorflow.TensorSpec((None,) * array.ndim, tensorflow.as_dtype(array.dtype)) for array in batches[0])
    dataset = tensorflow.data.Dataset.from_generator(epoch, output_signature=signature)
    return dataset.apply(tensorflow.data.experimental.assert_cardinality(len(batches))).prefetch(tensorflow.data.AUTOTUNE)
