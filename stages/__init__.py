"""DVC stages of the LSTM experiment pipeline: one module per stage, plus small shared modules."""
