"""Keras on TensorFlow, imported once for every stage, pinned and quiet.

Pinned: oneDNN picks its kernels by the CPU's instruction set at run time, and the results of
the same run differ between an AVX-512 and an AVX2 machine; with oneDNN's own operations off
(TensorFlow's default on some platforms) they differ again, and then also with the thread
count. So every stage runs oneDNN's operations on at most AVX2 (every x86-64 CPU since about
2013), whatever the environment says, and committed metrics reproduce on other computers. Set
`PIN_ONEDNN=0` to leave both to the machine and the environment (faster on some CPUs, and then
results are tied to that CPU); benchmarks/pinning.py measures both.

Quiet: TensorFlow's start-up lines (the oneDNN notice, CUDA probes that read as failures on a
CPU-only machine) are sent to /dev/null while it loads. Its C++ log prints notes at error level
on a CPU (oneDNN's DT_BOOL fallback under the AVX2 pin, NodeDef attribute notes between
TensorFlow and Keras versions), so that level is hidden too; real failures reach Python as
exceptions and are shown.
"""

import os
import sys

PINNED = {"ONEDNN_MAX_CPU_ISA": "AVX2", "TF_ENABLE_ONEDNN_OPTS": "1"}
if os.environ.get("PIN_ONEDNN") != "0":
    os.environ.update(PINNED)
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def _import_quietly() -> None:
    sys.stderr.flush()
    saved, devnull = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    try:
        import tensorflow

        tensorflow.config.list_physical_devices()  # the CUDA probe, while stderr is closed
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


_import_quietly()

import keras  # noqa: E402
import tensorflow as tf  # noqa: E402
from keras import layers  # noqa: E402

tf.get_logger().setLevel("ERROR")  # retracing notes when several seed models each run once: expected here

__all__ = ["keras", "layers", "tf"]
