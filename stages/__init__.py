"""DVC stages of the LSTM experiment pipeline: one module per stage, plus small shared modules."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
