"""Stage plot: PNG figures a person reads, drawn from the CSV/JSON the other stages wrote.

Per experiment: learning curves (one line per seed); forecasts vs actual with the seeds' band
and the train/test split marked; the served ensemble's confusion matrix. Across experiments:
test RMSE by variant, test accuracy and held-out perplexity by experiment, with error bars over
seeds and the baselines beside them.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd
from matplotlib import ticker

from stages.io import METRICS_DIR, PLOTS_DIR, exit_on_error, read_json, replace_directory
from stages.metrics import mean_and_spread
from stages.params import load_params

FIGURES_DIR = PLOTS_DIR / "figures"


def save(figure: plt.Figure, path: Path) -> None:
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)


def time_axis(table: pd.DataFrame) -> pd.Series:
    """Dates where the time column holds them (ticks then fall on whole years or months),
    else the row positions."""
    dates = pd.to_datetime(table["time"].astype(str), errors="coerce", format="mixed")
    return dates if dates.notna().all() else table["index"]


def seasonal_label(period: int, times: pd.Series) -> str:
    """The seasonal-naive baseline in the data's own terms when its step is a month or a day."""
    dates = pd.to_datetime(times.astype(str), errors="coerce", format="mixed")
    step = dates.diff().median() if dates.notna().all() and len(dates) > 1 else None
    if step is not None and pd.Timedelta(days=28) <= step <= pd.Timedelta(days=31) and period == 12:
        return "seasonal naive (same month last year)"
    if step == pd.Timedelta(days=1) and period in (7, 365):
        return f"seasonal naive (same day last {'week' if period == 7 else 'year'})"
    return f"seasonal naive ({period} steps back)"


def plot_predictions(name: str, table: pd.DataFrame, unit: str, path: Path) -> None:
    """The mean of seeds (what predict serves) with the band of the seeds' lowest and highest."""
    figure, axes = plt.subplots(figsize=(9, 4.5))
    x = time_axis(table)
    axes.plot(x, table["actual"], color="black", linewidth=1.5, label="actual")
    for split, color in (("train", "tab:blue"), ("test", "tab:orange")):
        part = table["split"] == split
        axes.plot(x[part], table.loc[part, "prediction"], color=color, label=f"{split} prediction (mean of seeds)")
        axes.fill_between(x[part], table.loc[part, "lowest"], table.loc[part, "highest"], color=color, alpha=0.25, linewidth=0)
    axes.fill_between([], [], [], color="gray", alpha=0.25, label="lowest to highest seed")
    test = table["split"] == "test"
    axes.axvline(x[test].iloc[0], color="gray", linestyle="--", label="train | test")
    axes.set(title=f"{name}: one-step-ahead forecast", xlabel="time", ylabel=unit)
    axes.legend(fontsize="small")
    save(figure, path)


def plot_test_forecasts(
    dataset: str, tables: dict[str, pd.DataFrame], metrics: dict[str, dict], dashed: set[str], unit: str, path: Path
) -> None:
    """Every variant's test forecasts (mean of seeds) over the actual series, with its test RMSE;
    `dashed`: the variants that model a transformed series (log or differenced), told apart."""
    figure, axes = plt.subplots(figsize=(10, 5))
    first = next(iter(tables.values()))
    axes.plot(time_axis(first), first["actual"], color="black", linewidth=2.5, label="actual")
    for (name, table), color in zip(tables.items(), plt.cm.tab10.colors * 3, strict=False):
        style = "--" if name in dashed else "-"
        label = f"{name} (RMSE {metrics[name]['test_rmse']:.1f})"
        axes.plot(time_axis(table), table["prediction"], style, color=color, linewidth=1.2, label=label)
    axes.set(title=f"{dataset}: test forecasts of every variant (mean of seeds)", xlabel="time", ylabel=unit)
    axes.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1))
    save(figure, path)


def plot_pair(first: str, second: str, tables: dict[str, pd.DataFrame], metrics: dict[str, dict], unit: str, path: Path) -> None:
    """Two experiments' test forecasts over the actual series, each the mean of its seeds with the
    band from its lowest to its highest seed, after a year of training months for context."""
    figure, axes = plt.subplots(figsize=(10, 5))
    table = tables[first]
    context = table[table["split"] == "train"].tail(12)
    history = pd.concat([context, table[table["split"] == "test"]])
    axes.plot(time_axis(history), history["actual"], color="black", linewidth=2, label="actual")
    for name, color in ((first, "tab:blue"), (second, "tab:orange")):
        test = tables[name][tables[name]["split"] == "test"]
        x = time_axis(test)
        label = f"{name}: test RMSE {mean_and_spread(metrics[name], 'test_rmse', 1)}"
        axes.plot(x, test["prediction"], color=color, linewidth=1.5, label=label)
        axes.fill_between(x, test["lowest"], test["highest"], color=color, alpha=0.2, linewidth=0)
    axes.axvline(time_axis(history).iloc[len(context)], color="gray", linestyle="--", label="train | test")
    axes.set(title=f"{first} vs {second}: test forecasts (line: mean of seeds, band: lowest to highest seed)", xlabel="time", ylabel=unit)
    axes.legend(fontsize="small")
    save(figure, path)


def plot_learning(name: str, curves: pd.DataFrame, path: Path) -> None:
    """Loss, and accuracy where logged: per seed (solid: training, dashed: validation, in the
    seed's colour) and the black mean only over epochs every seed reached (early stopping ends
    seeds at different epochs)."""
    seeds = [column.removeprefix("loss_seed") for column in curves.columns if column.startswith("loss_seed")]
    panels = ["loss"] + (["accuracy"] if any(column.startswith("accuracy_seed") for column in curves.columns) else [])
    figure, all_axes = plt.subplots(1, len(panels), figsize=(7 * len(panels), 4), squeeze=False)
    for panel, axes in zip(panels, all_axes[0], strict=True):
        for key, style in ((panel, "-"), (f"val_{panel}", "--")):
            columns = [f"{key}_seed{seed}" for seed in seeds if f"{key}_seed{seed}" in curves]
            for index, seed in enumerate(seeds):
                if f"{key}_seed{seed}" in curves:
                    label = f"{key}, seed {seed}"
                    axes.plot(curves["epoch"], curves[f"{key}_seed{seed}"], style, color=f"C{index}", linewidth=1, alpha=0.7, label=label)
            if len(columns) > 1:
                mean = curves[columns].mean(axis=1).where(curves[columns].notna().all(axis=1))
                axes.plot(curves["epoch"], mean, style, color="black", linewidth=2, label=f"{key}, mean of seeds")
        if panel == "loss":
            axes.set(ylabel="loss (log scale)", yscale="log")
            axes.yaxis.set_major_formatter(ticker.FuncFormatter(lambda value, _: f"{value:g}"))
            axes.yaxis.set_minor_formatter(ticker.NullFormatter())
        else:
            axes.set(ylabel="accuracy")
        axes.set(title=f"{name}: {panel}", xlabel="epoch")
        axes.legend(fontsize="x-small", ncol=2)
    save(figure, path)


def plot_confusion(name: str, table: pd.DataFrame, path: Path) -> None:
    """The served ensemble's test confusion (evaluate writes one row per cell with its count)."""
    classes = list(dict.fromkeys(table["actual"]))
    counts = table.pivot(index="actual", columns="predicted", values="count").reindex(index=classes, columns=classes)
    rates = counts.div(counts.sum(axis=1).replace(0, 1), axis=0)
    figure, axes = plt.subplots(figsize=(1.3 * len(counts) + 3, 1.0 * len(counts) + 2))
    axes.imshow(rates, cmap="Blues", vmin=0, vmax=1)
    for row in range(len(counts)):
        for column in range(len(counts)):
            color = "white" if rates.iat[row, column] > 0.5 else "black"
            text = f"{int(counts.iat[row, column])}\n{rates.iat[row, column]:.2f}"
            axes.text(column, row, text, ha="center", va="center", color=color, fontsize="small")
    axes.set_xticks(range(len(counts)), counts.columns, rotation=30, ha="right")
    axes.set_yticks(range(len(counts)), counts.index)
    axes.set(title=f"{name}: test confusion of the served ensemble\n(count, share of the row)", xlabel="predicted", ylabel="actual")
    save(figure, path)


def plot_bars_with_baselines(
    metrics: dict[str, dict],
    key: str,
    baselines: dict[str, str],
    labels: list[str],
    title: str,
    ylabel: str,
    path: Path,
    log: bool = False,
) -> None:
    """Mean ± std over seeds per experiment, the served seed ensemble as a diamond beside it where
    there is one, each baseline as a dashed mark across its bar; the axis spans the data (a log
    axis for figures that span orders of magnitude, such as perplexity)."""
    names = list(metrics)
    figure, axes = plt.subplots(figsize=(min(0.9 * len(names) + 3, 12) + 2.5, 4.5))  # + the legend beside it
    positions = range(len(names))
    means = [metrics[name][key] for name in names]
    errors = [metrics[name].get(f"{key}_std", 0.0) for name in names]
    axes.bar(positions, means, yerr=errors, capsize=4, color="tab:blue", label=f"{key} (mean ± std over seeds)")
    shown = list(means)
    ensemble = [
        (position, metrics[name][f"ensemble_{key}"])
        for position, name in zip(positions, names, strict=True)
        if f"ensemble_{key}" in metrics[name]
    ]
    if ensemble:
        axes.scatter(
            [position + 0.3 for position, _ in ensemble],
            [value for _, value in ensemble],
            marker="D",
            color="black",
            zorder=3,
            label="served ensemble",
        )
        shown += [value for _, value in ensemble]
    for (baseline, label), color in zip(baselines.items(), ("tab:red", "tab:green"), strict=False):
        for position, name in zip(positions, names, strict=True):
            mark_label = label if position == 0 else None
            axes.hlines(metrics[name][baseline], position - 0.45, position + 0.45, colors=color, linestyles="--", label=mark_label)
            shown.append(metrics[name][baseline])
    low, high = min(shown), max(*shown, *(mean + error for mean, error in zip(means, errors, strict=True)))
    if log:
        axes.set_yscale("log")
        axes.yaxis.set_major_formatter(ticker.FuncFormatter(lambda value, _: f"{value:g}"))
        axes.set_ylim(low / 1.3, high * 1.3)
    else:
        margin = 0.08 * (high - low or 1)
        axes.set_ylim(max(0.0, low - margin), high + margin)
    axes.set_xticks(list(positions), labels, rotation=30, ha="right")
    axes.set(title=title, ylabel=ylabel)
    axes.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1))
    save(figure, path)


def draw_figures(folder: Path) -> int:
    params = load_params()
    forecasts: dict[str, dict[str, dict]] = {}  # one RMSE chart per series file, named after its first dataset
    charts: dict[str, str] = {}
    seasonal: dict[str, str] = {}
    classifiers: dict[str, dict] = {}
    generators: dict[str, dict] = {}
    test_forecasts: dict[str, dict[str, pd.DataFrame]] = {}
    forecast_tables: dict[str, pd.DataFrame] = {}
    forecast_units: dict[str, str] = {}
    transformed: set[str] = set()
    not_here = []
    for name, experiment in params.experiments.items():
        metrics_path = METRICS_DIR / f"{name}.json"
        learning_path, table_path = PLOTS_DIR / "learning" / f"{name}.csv", PLOTS_DIR / experiment.task / f"{name}.csv"
        if not metrics_path.is_file():
            continue
        if not (learning_path.is_file() and table_path.is_file()):  # committed metrics, outputs not run or pulled here
            not_here.append(name)
            continue
        plot_learning(name, pd.read_csv(learning_path), folder / f"{name}-learning.png")
        if experiment.task == "forecast":
            dataset = params.dataset(experiment.dataset)
            table = forecast_tables[name] = pd.read_csv(table_path)
            forecast_units[name] = dataset.value_column
            if dataset.log or dataset.difference:
                transformed.add(name)
            plot_predictions(name, table, dataset.value_column, folder / f"{name}-predictions.png")
            chart = charts.setdefault(dataset.files[0].sha256, experiment.dataset)
            seasonal.setdefault(chart, seasonal_label(dataset.seasonal_period, table["time"]))
            forecasts.setdefault(chart, {})[name] = read_json(metrics_path)
            test_forecasts.setdefault(chart, {})[name] = table[table["split"] == "test"]
        elif experiment.task == "classify":
            plot_confusion(
                name,
                pd.read_csv(table_path, dtype={"actual": str, "predicted": str}, keep_default_na=False),
                folder / f"{name}-confusion.png",
            )
            classifiers[name] = read_json(metrics_path)
        else:
            generators[name] = read_json(metrics_path)
    for dataset, metrics in forecasts.items():
        unit = forecast_units[next(iter(metrics))]
        plot_bars_with_baselines(
            metrics,
            "test_rmse",
            {"naive_test_rmse": "naive (last value)", "seasonal_naive_test_rmse": seasonal[dataset]},
            [name.removeprefix(f"{dataset}-") for name in metrics],
            f"{dataset}: test RMSE by variant",
            f"RMSE ({unit})",
            folder / f"{dataset}-rmse-by-variant.png",
        )
        plot_test_forecasts(dataset, test_forecasts[dataset], metrics, transformed, unit, folder / f"{dataset}-test-forecasts.png")
    for first, experiment in params.experiments.items():
        second = getattr(experiment, "compare_with", None)
        if first in forecast_tables and second in forecast_tables:  # drawn when both have run
            pair = {name: forecast_tables[name] for name in (first, second)}
            metrics = {name: read_json(METRICS_DIR / f"{name}.json") for name in pair}
            plot_pair(first, second, pair, metrics, forecast_units[first], folder / f"{first}-vs-{second}.png")
    if not_here:
        missing = f"{len(not_here)} experiment(s) whose outputs are not here: {', '.join(not_here)}"
        print(f"plot: no figures for {missing} (dvc pull or dvc repro)")
    if classifiers:
        plot_bars_with_baselines(
            classifiers,
            "accuracy",
            {"majority_accuracy": "majority class", "tfidf_logreg_accuracy": "TF-IDF + logistic regression"},
            list(classifiers),
            "test accuracy by experiment",
            "accuracy",
            folder / "accuracy-by-experiment.png",
        )
    if generators:
        plot_bars_with_baselines(
            generators,
            "perplexity",
            {"ngram_perplexity": "n-gram (Witten-Bell) on the same text"},
            list(generators),
            "held-out perplexity by generator (lower is better)",
            "perplexity (log scale)",
            folder / "perplexity-by-experiment.png",
            log=True,
        )
    return len(list(folder.glob("*.png")))


@exit_on_error
def main(argv: list[str] | None = None) -> None:
    argparse.ArgumentParser(description=__doc__).parse_args(argv)
    count = replace_directory(FIGURES_DIR, draw_figures)
    print(f"plot: {count} figures in {FIGURES_DIR}")


if __name__ == "__main__":
    main()
