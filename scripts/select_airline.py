"""How the improved airline settings were chosen: on validation data only.

    python -m scripts.select_airline        # after `dvc repro preprocess@airline`; about 3 minutes

Each candidate (transform, look_back) is the write-up's LSTM(4) -> Dense(1), 100 epochs,
batch 1, fitted on the training months before 1956 and scored on the 12 months of 1956, the
end of the training part; the test years 1957-1960 are never read. Windows may reach back
into earlier months (`context: series`). Prints validation RMSE (passengers), mean ± std
over three seeds, best first.
"""

from __future__ import annotations

import dataclasses
import itertools

import numpy as np
import yaml
from sklearn.metrics import root_mean_squared_error

from stages.fitting import seed_everything
from stages.params import PARAMS_FILE, parse_params
from stages.series import MinMaxScaler, Transform, load_prepared_series, make_windows, model_inputs
from stages.tasks.forecast import ForecastExperiment, build

VALIDATION_MONTHS = 12
SEEDS = [1, 2, 3]
TRANSFORMS = {"level": Transform(), "log": Transform(log=True), "difference 12": Transform(difference=12)}
TRANSFORMS["log + difference 12"] = Transform(log=True, difference=12)


def validation_rmse(values: np.ndarray, transform: Transform, experiment: ForecastExperiment, seed: int) -> float:
    fit_end = len(values) - VALIDATION_MONTHS
    modelled = transform.forward(values)
    scaler = MinMaxScaler.fit(modelled[:fit_end])
    scaled = scaler.transform(modelled)
    fit_part = make_windows(scaled, 0, fit_end, experiment.look_back, history=True)
    validation = make_windows(scaled, fit_end, len(values), experiment.look_back, history=True)
    seed_everything(seed)
    model = build(experiment, steps_per_execution=len(fit_part.targets))
    model.fit(model_inputs(fit_part.inputs, experiment.framing), fit_part.targets, epochs=experiment.epochs, batch_size=1, verbose=0)
    predicted = model.predict(model_inputs(validation.inputs, experiment.framing), verbose=0).ravel()
    forecast = transform.inverse(scaler.inverse(predicted), values, validation.target_index)
    return root_mean_squared_error(values[validation.target_index], forecast)


def main() -> None:
    series = load_prepared_series("airline")
    training_values = series.values[: series.train_size]
    data = yaml.safe_load(PARAMS_FILE.read_text())  # the forecast defaults: LSTM(4) -> Dense(1), 100 epochs, batch 1
    data["experiments"] = {"selection": {"task": "forecast", "dataset": "airline", "look_back": 1, "framing": "features"}}
    base = dataclasses.replace(parse_params(data).experiment("selection"), seeds=SEEDS, context="series")
    rows = []
    for (name, transform), look_back in itertools.product(TRANSFORMS.items(), [1, 3, 12]):
        experiment = dataclasses.replace(base, look_back=look_back)
        scores = [validation_rmse(training_values, transform, experiment, seed) for seed in SEEDS]
        rows.append((float(np.mean(scores)), float(np.std(scores, ddof=1)), name, look_back))
        print(f"{name:>20}  look_back {look_back:>2}: {rows[-1][0]:6.2f} ± {rows[-1][1]:5.2f}", flush=True)
    print("\nbest first (validation RMSE, 1956, passengers):")
    for mean, std, name, look_back in sorted(rows):
        print(f"{name:>20}  look_back {look_back:>2}: {mean:6.2f} ± {std:5.2f}")


if __name__ == "__main__":
    main()
