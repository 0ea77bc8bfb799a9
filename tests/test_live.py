"""DVCLive logs every seed's epochs as they end; the learning curves are Keras's own History."""

import json
from types import SimpleNamespace

import numpy as np
import pytest

from stages import fitting, networks
from stages.backend import keras, layers
from stages.io import PipelineError


def test_every_seed_is_logged_and_read_back_as_keras_gave_it(workdir):
    histories = {}

    def fit(seed: int, callbacks: list):
        model = keras.Sequential([keras.Input((3,)), layers.Dense(1)])
        model.compile("adam", "mse", metrics=["mae"])
        data = np.arange(24, dtype="float32").reshape(8, 3) / 24
        targets = data.sum(axis=1)
        history = model.fit(data, targets, validation_data=(data[:4], targets[:4]), epochs=3, verbose=0, callbacks=callbacks)
        histories[seed] = history.history
        return model, history

    (workdir / "models" / "toy").mkdir(parents=True)
    settings = SimpleNamespace(seeds=[1, 2], epochs=3, deterministic=True, mixed_precision=False)
    curves = fitting.train_seeds("toy", settings, workdir / "models" / "toy", workdir / "dvclive" / "toy", fit)
    assert curves.equals(fitting.learning_curves(histories))
    summary = json.loads((workdir / "dvclive" / "toy" / "metrics.json").read_text())
    assert summary["seed-2"]["eval"]["mae"] == histories[2]["val_mae"][-1] and summary["step"] == 2
    assert (workdir / "dvclive" / "toy" / "plots" / "metrics" / "seed-1" / "train" / "loss.tsv").read_text().count("\n") == 4


def test_mixed_precision_computes_in_float16_with_a_float32_output():
    from stages.schema import Network

    network = Network("lstm", [4], False, 8, 0.0, 0.0, 0.0, 0.0, 0)
    keras.config.set_dtype_policy("mixed_float16")
    try:
        model = networks.build_network(network, None, 1, 3, "softmax", 20, mask=True)
    finally:
        keras.config.set_dtype_policy("float32")
    recurrent = next(layer for layer in model.layers if layer.name.startswith("lstm"))
    assert recurrent.compute_dtype == "float16" and model.layers[-1].compute_dtype == "float32"
    assert networks.output_dtype() is None  # float32 models keep the default layer config


def test_mixed_precision_without_a_gpu_is_one_line(workdir):
    settings = SimpleNamespace(seeds=[1], epochs=1, deterministic=True, mixed_precision=True)
    with pytest.raises(PipelineError, match=r"^experiments.toy.mixed_precision: needs a GPU"):
        fitting.train_seeds("toy", settings, workdir, workdir / "dvclive", lambda seed, callbacks: None)
