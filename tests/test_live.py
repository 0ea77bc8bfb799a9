"""DVCLive logs every seed's epochs as they end, and the learning curves are read back from it."""

import json

import numpy as np

from stages import models
from stages.backend import keras, layers


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
    curves = models.train_seeds("toy", [1, 2], 3, workdir / "models" / "toy", fit)
    assert curves.equals(models.learning_curves(histories))
    summary = json.loads((workdir / "dvclive" / "toy" / "metrics.json").read_text())
    assert summary["seed-2"]["eval"]["mae"] == histories[2]["val_mae"][-1] and summary["step"] == 2
    assert (workdir / "dvclive" / "toy" / "plots" / "metrics" / "seed-1" / "train" / "loss.tsv").read_text().count("\n") == 4
