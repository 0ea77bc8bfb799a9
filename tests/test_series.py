import numpy as np
import pytest
from sklearn.metrics import root_mean_squared_error as rmse
from sklearn.preprocessing import MinMaxScaler as SklearnMinMaxScaler

from stages.io import PipelineError, read_json
from stages.preprocess import prepare_series
from stages.series import (
    MinMaxScaler,
    Transform,
    load_prepared_series,
    make_windows,
    model_inputs,
    naive_forecast,
    seasonal_naive_forecast,
    train_size,
)


def tutorial_create_dataset(dataset: np.ndarray, look_back: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Verbatim logic of the tutorial's helper (dataset shaped (n, 1))."""
    data_x, data_y = [], []
    for i in range(len(dataset) - look_back - 1):
        data_x.append(dataset[i : (i + look_back), 0])
        data_y.append(dataset[i + look_back, 0])
    return np.array(data_x), np.array(data_y)


@pytest.mark.parametrize("look_back", [1, 2, 3])
def test_windows_match_the_tutorials_create_dataset(look_back: int):
    series = np.array([112.0, 118, 132, 129, 121, 135, 148, 148, 136, 119, 104, 118, 115, 126, 141, 135, 125, 149, 170, 170])
    size = train_size(len(series), 0.67)
    assert size == 13
    for start, stop in ((0, size), (size, len(series))):
        expected_x, expected_y = tutorial_create_dataset(series[start:stop].reshape(-1, 1), look_back)
        windows = make_windows(series, start, stop, look_back)
        np.testing.assert_array_equal(windows.inputs, expected_x)
        np.testing.assert_array_equal(windows.targets, expected_y)
        np.testing.assert_array_equal(series[windows.target_index], expected_y)


def test_tutorial_split_of_the_airline_series():
    assert train_size(144, 0.67) == 96


def test_window_too_long_for_the_part_is_a_clear_error():
    with pytest.raises(PipelineError, match=r"look_back 4 leaves no samples in a part of 5 points \(need look_back <= 3\)"):
        make_windows(np.arange(10.0), 5, 10, 4)


def test_framings_shape_the_window_as_features_or_time_steps():
    inputs = np.arange(6.0).reshape(2, 3)
    assert model_inputs(inputs, "features").shape == (2, 1, 3)
    assert model_inputs(inputs, "timesteps").shape == (2, 3, 1)
    np.testing.assert_array_equal(model_inputs(inputs, "timesteps")[1, :, 0], [3, 4, 5])


def test_scaler_matches_sklearn_and_round_trips():
    train = np.array([[3.0], [7.0], [5.0]])
    ours, theirs = MinMaxScaler.fit(train.ravel()), SklearnMinMaxScaler().fit(train)
    values = np.array([1.0, 3.0, 9.0])
    np.testing.assert_allclose(ours.transform(values), theirs.transform(values.reshape(-1, 1)).ravel())
    np.testing.assert_allclose(ours.inverse(ours.transform(values)), values)


def test_constant_training_series_cannot_be_scaled():
    with pytest.raises(PipelineError, match="constant"):
        MinMaxScaler.fit(np.ones(5))


def test_baselines_against_hand_computed_values():
    values = np.array([10.0, 20, 30, 40, 50, 60, 70])
    targets = np.array([4, 5, 6])
    np.testing.assert_array_equal(naive_forecast(values, targets), [40, 50, 60])
    np.testing.assert_array_equal(seasonal_naive_forecast(values, targets, 3), [20, 30, 40])
    assert rmse(values[targets], naive_forecast(values, targets)) == pytest.approx(10.0)
    assert rmse(values[targets], seasonal_naive_forecast(values, targets, 3)) == pytest.approx(30.0)
    with pytest.raises(PipelineError, match="seasonal_period 5 reaches before the start"):
        seasonal_naive_forecast(values, targets, 5)


def test_rmse_in_original_units_is_the_scaled_error_times_the_range():
    scaler = MinMaxScaler(100.0, 300.0)
    actual = np.array([150.0, 250.0])
    scaled_error = rmse(scaler.transform(actual), scaler.transform(actual) + 0.1)
    assert rmse(actual, scaler.inverse(scaler.transform(actual) + 0.1)) == pytest.approx(scaled_error * 200)
    assert rmse(actual, scaler.inverse(scaler.transform(actual) + 0.1)) == pytest.approx(20.0)


def test_preprocess_fits_the_scaler_on_the_training_part_only(airline_raw, workdir):
    from stages.params import load_params
    from tests.conftest import ROOT

    dataset = load_params(ROOT / "params.yaml").dataset("airline")
    prepare_series("airline", dataset, workdir / "data" / "prepared" / "airline")
    series = load_prepared_series("airline")
    assert series.train_size == 96 and len(series.values) == 144
    assert (series.scaling.scaler.minimum, series.scaling.scaler.maximum) == (104.0, 413.0)
    assert series.values.max() == 622.0 and series.scaled.max() > 1.0
    assert series.scaled[:96].min() == 0.0 and series.scaled[:96].max() == 1.0
    assert list(series.time[:2]) == ["1949-01", "1949-02"] and series.values[0] == 112.0
    assert read_json(workdir / "data" / "prepared" / "airline" / "scaler.json")["train_size"] == 96


def test_log_seasonal_difference_round_trips_to_original_units():
    values = np.array([112.0, 118, 132, 129, 121, 135, 148, 148, 136, 119, 104, 118, 115, 126, 141, 135])
    transform = Transform(log=True, difference=12)
    changes = transform.forward(values)
    assert np.isnan(changes[:12]).all()
    np.testing.assert_allclose(changes[12:], np.log(values[12:] / values[:4]))
    targets = np.arange(12, 16)
    np.testing.assert_allclose(transform.inverse(changes[targets], values, targets), values[targets])
    np.testing.assert_array_equal(Transform().forward(values), values)


def test_windows_with_history_reach_back_and_skip_undefined_points():
    series = np.concatenate([np.full(2, np.nan), np.arange(2.0, 12.0)])
    windows = make_windows(series, 8, 12, 3, history=True)
    np.testing.assert_array_equal(windows.target_index, [8, 9, 10, 11])  # every point of the part, the last included
    np.testing.assert_array_equal(windows.inputs[0], [5, 6, 7])  # from before the part's start
    first = make_windows(series, 0, 8, 3, history=True)
    np.testing.assert_array_equal(first.target_index, [5, 6, 7])  # windows over the undefined start are skipped
    assert np.isfinite(first.inputs).all()


def test_seasonal_dataset_scales_the_training_changes_and_inverts_to_passengers(airline_raw, workdir):
    from stages.params import load_params
    from tests.conftest import ROOT

    dataset = load_params(ROOT / "params.yaml").dataset("airline-seasonal")
    target = workdir / "data" / "raw" / "airline-seasonal"
    target.mkdir(parents=True)
    (target / "airline-passengers.csv").write_bytes((airline_raw / "airline-passengers.csv").read_bytes())
    prepare_series("airline-seasonal", dataset, workdir / "data" / "prepared" / "airline-seasonal")
    series = load_prepared_series("airline-seasonal")
    assert np.isnan(series.scaled[:12]).all()
    assert np.nanmin(series.scaled[:96]) == 0.0 and np.nanmax(series.scaled[:96]) == 1.0
    # Predicting "this month's yearly change = last month's" must give y[t-12] * y[t-1] / y[t-13].
    test_part = make_windows(series.scaled, 96, 144, 12, history=True)
    np.testing.assert_array_equal(test_part.target_index, np.arange(96, 144))
    predicted = series.to_original(test_part.inputs[:, -1], test_part.target_index)
    index, values = test_part.target_index, series.values
    np.testing.assert_allclose(predicted, values[index - 12] * values[index - 1] / values[index - 13])


def test_log_of_a_non_positive_value_is_a_clear_error(workdir):
    from stages.datasets import SourceFile
    from tests.conftest import with_defaults

    folder = workdir / "data" / "raw" / "counts"
    folder.mkdir(parents=True)
    (folder / "counts.csv").write_text("value\n" + "\n".join(["5", "3", "0", "4", "6", "7"]) + "\n")
    source = SourceFile("counts.csv", "file:counts.csv", "0" * 64)
    dataset = with_defaults("datasets", "series", files=[source], value_column="value", train_fraction=0.5, log=True)
    with pytest.raises(PipelineError, match=r"datasets.counts.log: needs positive values, row 3 is 0"):
        prepare_series("counts", dataset, workdir / "data" / "prepared" / "counts")
    assert not (workdir / "data" / "prepared" / "counts" / "series.npz").exists()
