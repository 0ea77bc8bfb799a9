import dataclasses
from pathlib import Path

import keras
import numpy as np
import pytest
from keras import layers

from stages.by_hand import lstm_forward, simple_rnn_forward
from stages.params import load_params
from stages.preprocess import prepare_series
from stages.series import load_prepared_series, make_windows, model_inputs
from stages.tasks import forecast
from tests.conftest import ROOT


@pytest.mark.parametrize("return_sequences", [False, True])
@pytest.mark.parametrize(("layer_class", "by_hand"), [(layers.LSTM, lstm_forward), (layers.SimpleRNN, simple_rnn_forward)])
def test_random_weights_and_inputs_match_keras(layer_class, by_hand, return_sequences: bool):
    rng = np.random.default_rng(0)
    inputs = rng.normal(size=(4, 6, 3)).astype("float32")
    layer = layer_class(5, return_sequences=return_sequences)
    layer.build(inputs.shape)
    layer.set_weights([rng.normal(scale=0.5, size=weight.shape).astype("float32") for weight in layer.get_weights()])
    expected = keras.ops.convert_to_numpy(layer(inputs))
    np.testing.assert_allclose(
        by_hand(inputs.astype("float64"), *layer.get_weights(), return_sequences=return_sequences), expected, atol=1e-5
    )


def test_a_trained_pipeline_model_matches_keras(airline_raw, workdir):
    params = load_params(ROOT / "params.yaml")
    prepare_series("airline", params.dataset("airline"), workdir / "data" / "prepared" / "airline")
    experiment = dataclasses.replace(params.experiment("airline-timesteps"), epochs=3, seeds=[2])
    forecast.train("airline-timesteps", experiment, workdir, Path("dvclive") / "airline-timesteps")
    model = keras.models.load_model(workdir / "seed-2.keras", compile=False)
    series = load_prepared_series("airline")
    inputs = model_inputs(make_windows(series.scaled, series.train_size, len(series.scaled), 3).inputs, "timesteps")
    lstm, dense = (layer for layer in model.layers if layer.weights)
    by_hand = lstm_forward(inputs.astype("float64"), *lstm.get_weights()) @ dense.get_weights()[0] + dense.get_weights()[1]
    np.testing.assert_allclose(by_hand, model.predict(inputs, verbose=0), atol=1e-5)
