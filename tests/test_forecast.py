import dataclasses
from pathlib import Path

import keras
import numpy as np
import pytest

from stages import fitting
from stages.params import load_params
from stages.preprocess import prepare_series
from stages.series import load_prepared_series, make_windows, model_inputs
from stages.tasks import forecast
from tests.conftest import ROOT


@pytest.fixture
def airline(airline_raw, workdir):
    params = load_params(ROOT / "params.yaml")
    prepare_series("airline", params.dataset("airline"), workdir / "data" / "prepared" / "airline")
    return params


def short(params, name: str, **changes):
    return dataclasses.replace(params.experiment(name), **({"epochs": 2, "seeds": [7]} | changes))


@pytest.mark.parametrize("name", ["airline-window", "airline-stacked"])
def test_same_seed_gives_identical_predictions(airline, workdir, name: str):
    experiment = short(airline, name)
    series = load_prepared_series("airline")
    test_part = make_windows(series.scaled, series.train_size, len(series.scaled), experiment.look_back)
    predictions = []
    for run in ("first", "second"):
        keras.utils.clear_session()  # layer names restart, as in the fresh process each stage runs in
        (workdir / run).mkdir()
        forecast.train(name, experiment, workdir / run, workdir / "dvclive" / run)
        model = keras.models.load_model(workdir / run / "seed-7.keras")
        predictions.append(forecast.predict_parts(model, experiment, [test_part])[0])
    np.testing.assert_array_equal(predictions[0], predictions[1])
    assert np.all(np.isfinite(predictions[0])) and np.ptp(predictions[0]) > 0
    # byte for byte, so a retrain that changes nothing leaves dvc.lock unchanged
    assert (workdir / "first" / "seed-7.keras").read_bytes() == (workdir / "second" / "seed-7.keras").read_bytes()


def test_reset_callback_equals_the_tutorials_fit_per_epoch_loop(airline):
    experiment = short(airline, "airline-stateful", epochs=3)
    series = load_prepared_series("airline")
    windows = make_windows(series.scaled, 0, series.train_size, experiment.look_back)
    inputs, targets = model_inputs(windows.inputs, "timesteps"), windows.targets.astype("float32")

    fitting.seed_everything(3)
    ours = forecast.build(experiment, steps_per_execution=len(targets))
    ours.fit(inputs, targets, epochs=3, batch_size=1, shuffle=False, callbacks=[fitting.ResetStatesEachEpoch()], verbose=0)

    fitting.seed_everything(3)
    tutorial = forecast.build(experiment)
    for _ in range(3):
        tutorial.fit(inputs, targets, epochs=1, batch_size=1, shuffle=False, verbose=0)
        fitting.reset_states(tutorial)

    for mine, theirs in zip(ours.get_weights(), tutorial.get_weights(), strict=True):
        np.testing.assert_allclose(mine, theirs, rtol=1e-5, atol=1e-6)


def test_stateful_batch_size_must_divide_the_samples(airline, workdir):
    from stages.io import PipelineError

    experiment = short(airline, "airline-stateful", batch_size=5)
    with pytest.raises(
        PipelineError, match=r"experiments.airline-stateful.batch_size: a stateful model needs it to divide the 92 training samples"
    ):
        forecast.train("airline-stateful", experiment, workdir, Path("dvclive") / "airline-stateful")
