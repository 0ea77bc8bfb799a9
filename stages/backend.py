"""Keras on TensorFlow, imported once for every stage, pinned and quiet.

Pinned: oneDNN picks its kernels by the CPU's instruction set at run time, and the results of
the same run differ between an AVX-512 and an AVX2 machine. AVX2 (every x86-64 CPU since about
2013) is the default here, so committed metrics reproduce on other computers; set
`ONEDNN_MAX_CPU_ISA=ALL` to let oneDNN use everything the CPU has (faster on some CPUs, and
then results are tied to that CPU).

Quiet: TensorFlow's start-up lines (the oneDNN notice, CUDA probes that read as failures on a
CPU-only machine) are sent to /dev/null while it loads; later errors are shown as usual.
"""

import os
import sys

os.environ.setdefault("ONEDNN_MAX_CPU_ISA", "AVX2")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


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
