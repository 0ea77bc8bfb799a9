"""DVC stages of the LSTM experiment pipeline: one module per stage, plus small shared modules."""

import os

# TensorFlow's C++ log prints notes at error level on a CPU (oneDNN's DT_BOOL fallback under the
# AVX2 pin of stages/backend.py, NodeDef attribute notes between TensorFlow and Keras versions);
# real failures reach Python as exceptions and are shown. Set here, before stages/backend.py
# imports TensorFlow; logging only, so no stage output depends on it.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
