"""Ask a trained experiment a question: classify texts, forecast the next steps, or generate text.

    python -m stages.predict bbc-bilstm "the chancellor raised interest rates again"
    python -m stages.predict tweets-lstm --file tweets.txt        (or texts on stdin)
    python -m stages.predict airline-stateful --steps 12 --plot forecast.png
    python -m stages.predict nursery-bilstm --seed-text "mary had a" --lines 4 --words 6

A forecast runs at most MAX_STEPS (1000) steps, one model call per step and seed, with its
progress on stderr every PROGRESS_EVERY steps.

Every mode loads models/<experiment>/ (all seeds; their outputs are averaged) and applies the
same encoding, scaling and windowing code the pipeline trained with, by the settings saved there
at training time: params.yaml and data/prepared are not read.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import re
import sys

import numpy as np
import pandas as pd
from pydantic import ValidationError

from stages.io import MODELS_DIR, PipelineError, exit_on_error, read_json, write_atomic
from stages.params import ClassifyExperiment, Dataset, Experiment, ForecastExperiment, GenerateExperiment, Sample, load_params, load_trained
from stages.series import SCALING_FILE, PreparedSeries, load_series, make_windows, model_inputs, read_scaling
from stages.text import OOV, Vocabulary

MAX_STEPS = 1000
PROGRESS_EVERY = 100

MODE_OPTIONS = {
    "classify": {"texts", "file"},
    "forecast": {"steps", "values", "plot", "history"},
    "generate": {"seed_text", "lines", "words", "temperature", "seed", "context_words"},
}


def classify_texts(name: str, experiment: ClassifyExperiment, texts: list[str]) -> list[dict]:
    from stages import models
    from stages.classify import class_probabilities, encode

    if not texts or not any(text.strip() for text in texts):
        raise PipelineError("no text to classify: pass texts as arguments, --file, or lines on stdin")
    trained = models.load_seed_models(name, experiment.seeds)
    classes = read_json(MODELS_DIR / name / "labels.json")
    sequences = encode(texts, experiment, Vocabulary.load(MODELS_DIR / name / "vocabulary.json"))
    probabilities = np.mean([class_probabilities(model, experiment, sequences) for model in trained.values()], axis=0)
    return [
        {
            "text": text,
            "label": classes[int(row.argmax())],
            "probabilities": {label: round(float(p), 4) for label, p in zip(classes, row, strict=True)},
        }
        for text, row in zip(texts, probabilities, strict=True)
    ]


def trained_settings(name: str) -> tuple[Experiment, Dataset]:
    """What `name` was trained with; a name params.yaml does not know is named as such first."""
    folder = MODELS_DIR / name
    if not folder.is_dir():
        load_params(only=name).experiment(name)
    return load_trained(folder, name)


def trained_series(name: str) -> PreparedSeries:
    return load_series(MODELS_DIR / name, f"run: dvc checkout {MODELS_DIR / name} or dvc repro train@{name}")


def future_times(times: np.ndarray, steps: int) -> list[str]:
    """The next `steps` time labels when the series has a regular date frequency, else t+1, t+2, ..."""
    for pattern, style in ((r"^\d{4}-\d{2}$", "%Y-%m"), (r"^\d{4}-\d{2}-\d{2}$", "%Y-%m-%d")):
        if len(times) >= 3 and all(re.match(pattern, str(time)) for time in times):
            dates = pd.to_datetime(times, format=style)
            with pd.option_context("future.infer_freq_returns_offset", True):
                frequency = pd.infer_freq(dates)
            if frequency:
                return [date.strftime(style) for date in pd.date_range(dates[-1], periods=steps + 1, freq=frequency)[1:]]
    return [f"t+{step}" for step in range(1, steps + 1)]


def forecast(name: str, experiment: ForecastExperiment, steps: int, values: list[float] | None) -> pd.DataFrame:
    """Recursive multi-step forecast: each prediction becomes the newest input of the next.

    A stateful model first carries its state through the history, at most as many windows as one
    training epoch has (its state was reset every epoch, so it never saw a longer run)."""
    from stages import models

    if steps <= 0:
        raise PipelineError(f"--steps must be > 0, got {steps}")
    if steps > MAX_STEPS:
        raise PipelineError(f"--steps must be at most {MAX_STEPS}, got {steps}")
    if experiment.stateful and experiment.batch_size != 1:
        raise PipelineError(f"experiments.{name}.batch_size: a stateful model forecasts step by step only with batch_size 1")
    scaling = read_scaling(MODELS_DIR / name / SCALING_FILE)  # saved with the model
    longest = read_json(MODELS_DIR / name / SCALING_FILE)["training_windows"]
    series = trained_series(name) if values is None else None
    history = series.values if values is None else np.asarray(values, dtype="float64")
    needed = experiment.look_back + scaling.transform.difference
    if len(history) < needed:
        parts = f"look_back {experiment.look_back} + difference {scaling.transform.difference}"
        raise PipelineError(f"--values: {name} needs at least {needed} values ({parts}), got {len(history)}")
    warm_up = None
    if experiment.stateful and len(history) > needed:
        windows = make_windows(scaling.scale(history), 0, len(history), experiment.look_back, history=True).inputs
        if len(windows) > longest:
            print(f"note: the state is carried through the last {longest} windows only, the run length {name} trained on", file=sys.stderr)
        warm_up = model_inputs(windows[-longest:], experiment.framing)
    runs = []
    for model in models.load_seed_models(name, experiment.seeds).values():
        models.reset_states(model)
        if warm_up is not None:
            model.predict(warm_up, batch_size=1, verbose=0)
        extended = history
        for step in range(1, steps + 1):
            if steps > PROGRESS_EVERY and step % PROGRESS_EVERY == 0:
                print(f"forecast: step {step}/{steps} of seed model {len(runs) + 1}", file=sys.stderr)
            window = scaling.scale(extended)[np.newaxis, -experiment.look_back :]
            scaled = np.asarray(model(model_inputs(window, experiment.framing), training=False))[0]
            extended = np.append(extended, scaling.to_original(scaled, [len(extended)], extended))
        runs.append(extended[len(history) :])
    times = future_times(series.time, steps) if series is not None else [f"t+{step}" for step in range(1, steps + 1)]
    return pd.DataFrame({"time": times, "value": np.round(np.mean(runs, axis=0), 2)})


def plot_forecast(name: str, history: pd.DataFrame, table: pd.DataFrame, path: str, shown: int | None, unit: str) -> None:
    """The forecast after the last `shown` points of history (default: three times the forecast,
    at least 24), so a short forecast is not a speck at the end of a long series; dates on the axis
    when the times are dates."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    history = history.iloc[-(shown or max(3 * len(table), 24)) :]
    times = pd.concat([history["time"], table["time"]]).astype(str)
    dates = pd.to_datetime(times, errors="coerce", format="mixed")
    x = list(dates) if dates.notna().all() else list(range(len(times)))
    figure, axes = plt.subplots(figsize=(9, 4))
    axes.plot(x[: len(history)], history["value"], color="black", marker=".", label="history")
    axes.plot(x[len(history) - 1 :], [history["value"].iloc[-1], *table["value"]], color="tab:orange", marker=".", label="forecast")
    if not dates.notna().all():
        ticks = range(0, len(times), max(1, len(times) // 10))
        axes.set_xticks(list(ticks), [times.iloc[tick] for tick in ticks], rotation=30)
    axes.set(title=f"{name}: {len(table)}-step forecast (mean of seeds)", xlabel="time", ylabel=unit)
    axes.legend()
    figure.autofmt_xdate()
    figure.tight_layout()
    write_atomic(path, lambda temporary: figure.savefig(temporary, dpi=100, format="png"))
    plt.close(figure)


def sample_with(sample: Sample, changes: dict) -> Sample:
    """The experiment's sample with the command line's options, checked as params.yaml's are."""
    try:
        return dataclasses.replace(sample, **changes)
    except ValidationError as error:  # the command line's options are the sample's fields
        field, message = str(error.errors()[0]["ctx"]["error"]).split(": ", 1)
        raise PipelineError(f"--{field.replace('_', '-')}: {message}") from None


def generate(name: str, experiment: GenerateExperiment, sample: Sample) -> list[str]:
    from stages import models
    from stages.generate import encode_lines, generate_text, load_mixture

    first_seed = experiment.seeds[0]
    model = models.load_seed_models(name, [first_seed])[first_seed]
    vocabulary = Vocabulary.load(MODELS_DIR / name / "vocabulary.json")
    context = encode_lines([sample.seed_text], experiment, vocabulary)[0]
    if not context or all(index == OOV for index in context):
        print(f"warning: no word of the seed text {sample.seed_text!r} is in the vocabulary; generating from OOV", file=sys.stderr)
    mixture = load_mixture(name, experiment, vocabulary, first_seed)
    if mixture:
        print(f"serving LSTM + {mixture.ngram.order}-gram, LSTM weight {mixture.weight:g} (chosen on validation)", file=sys.stderr)
    return generate_text(model, experiment, vocabulary, sample, mixture)


def parse_arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("experiment")
    parser.add_argument("texts", nargs="*", help="classify: texts to label (default: --file, or one per line on stdin)")
    parser.add_argument("--file", help="classify: a file with one text per line")
    parser.add_argument("--steps", type=int, help=f"forecast: how many steps ahead (default 12, at most {MAX_STEPS})")
    parser.add_argument("--values", help="forecast: comma-separated recent values to start from instead of the series' end")
    parser.add_argument("--plot", help="forecast: also draw history + forecast into this PNG")
    parser.add_argument("--history", type=int, help="forecast: points of history shown in --plot (default: 3 x steps, >= 24)")
    parser.add_argument("--seed-text", dest="seed_text", help="generate: text to continue (default: the experiment's sample seed text)")
    parser.add_argument("--lines", type=int, help="generate: number of lines")
    parser.add_argument("--words", type=int, help="generate: words per line")
    parser.add_argument("--temperature", type=float, help="generate: 0 = greedy, above 0 samples")
    parser.add_argument("--seed", type=int, help="generate: random seed for sampling")
    parser.add_argument("--context-words", dest="context_words", type=int, help="generate: the model sees only the last N words (0: all)")
    return parser.parse_args(argv)


@exit_on_error
def main(argv: list[str] | None = None) -> None:
    args = parse_arguments(argv)
    experiment, dataset = trained_settings(args.experiment)
    given = {key for key, value in vars(args).items() if value not in (None, [], "") and key != "experiment"}
    wrong = sorted(given - MODE_OPTIONS[experiment.task])
    if wrong:
        option = "texts" if wrong[0] == "texts" else f"--{wrong[0].replace('_', '-')}"
        raise PipelineError(f"{option} does not apply to {args.experiment}, a {experiment.task} experiment")
    if experiment.task == "classify":
        texts = args.texts
        if not texts:
            try:
                texts = (open(args.file, encoding="utf-8") if args.file else sys.stdin).read().splitlines()
            except OSError as error:
                raise PipelineError(f"{args.file}: cannot read ({error.strerror})") from None
        for row in classify_texts(args.experiment, experiment, texts):
            print(json.dumps(row))
    elif experiment.task == "forecast":
        if args.values is not None and not args.values.strip():
            raise PipelineError("--values: empty; give comma-separated numbers, or leave it out to start from the series' end")
        try:
            values = [float(value) for value in args.values.split(",")] if args.values is not None else None
        except ValueError:
            raise PipelineError(f"--values: expected comma-separated numbers, got {args.values!r}") from None
        not_finite = [value for value in values or [] if not math.isfinite(value)]
        if not_finite:
            raise PipelineError(f"--values: {not_finite[0]} is not a finite number; every value must be one")
        table = forecast(args.experiment, experiment, 12 if args.steps is None else args.steps, values)
        print(table.to_string(index=False))
        if args.plot:
            series = trained_series(args.experiment)
            history = (
                pd.DataFrame({"time": series.time, "value": series.values})
                if values is None
                else pd.DataFrame({"time": [f"t-{len(values) - index - 1}" for index in range(len(values))], "value": values})
            )
            plot_forecast(args.experiment, history, table, args.plot, args.history, dataset.value_column)
    else:
        changes = {key: getattr(args, key) for key in MODE_OPTIONS["generate"] if getattr(args, key) is not None}
        for line in generate(args.experiment, experiment, sample_with(experiment.sample, changes)):
            print(line)


if __name__ == "__main__":
    main()
