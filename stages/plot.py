"""Stage plot: PNG figures a person reads, drawn from the CSV/JSON the other stages wrote.

Per experiment: learning curves (one line per seed); forecasts vs actual with the train/test
split marked; confusion matrices. Across experiments: test RMSE by variant and test accuracy
by experiment, with error bars over seeds and the baselines beside them.
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
from stages.params import load_params

FIGURES_DIR = PLOTS_DIR / "figures"


def save(figure: plt.Figure, path: Path) -> None:
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)


def plot_predictions(name: str, table: pd.DataFrame, path: Path) -> None:
    figure, axes = plt.subplots(figsize=(9, 4.5))
    axes.plot(table["index"], table["actual"], color="black", linewidth=1.5, label="actual")
    for split, color in (("train", "tab:blue"), ("test", "tab:orange")):
        part = table[table["split"] == split]
        axes.plot(part["index"], part["prediction"], color=color, label=f"{split} prediction (mean of seeds)")
    boundary = table.loc[table["split"] == "test", "index"].min()
    axes.axvline(boundary - 0.5, color="gray", linestyle="--", label="train | test")
    ticks = table.iloc[:: max(1, len(table) // 8)]
    axes.set_xticks(ticks["index"], ticks["time"], rotation=30)
    axes.set(title=f"{name}: one-step-ahead forecast", ylabel="value")
    axes.legend()
    save(figure, path)


def plot_test_forecasts(dataset: str, tables: dict[str, pd.DataFrame], metrics: dict[str, dict], path: Path) -> None:
    """Every variant's test forecasts (mean of seeds) over the actual series, with its test RMSE."""
    figure, axes = plt.subplots(figsize=(10, 5))
    first = next(iter(tables.values()))
    axes.plot(first["index"], first["actual"], color="black", linewidth=2.5, label="actual")
    for (name, table), color in zip(tables.items(), plt.cm.tab10.colors * 3, strict=False):
        style = "--" if name.endswith("-seasonal") else "-"
        label = f"{name} (RMSE {metrics[name]['test_rmse']:.1f})"
        axes.plot(table["index"], table["prediction"], style, color=color, linewidth=1.2, label=label)
    ticks = first.iloc[:: max(1, len(first) // 8)]
    axes.set_xticks(ticks["index"], ticks["time"], rotation=30)
    axes.set(title=f"{dataset}: test forecasts of every variant (mean of seeds)", ylabel="value (original units)")
    axes.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1))
    save(figure, path)


def plot_learning(name: str, curves: pd.DataFrame, path: Path) -> None:
    """Loss (solid) and validation loss (dashed) per seed in the seed's colour; the black mean
    only over epochs every seed reached (early stopping ends seeds at different epochs)."""
    figure, axes = plt.subplots(figsize=(7, 4))
    seeds = [column.removeprefix("loss_seed") for column in curves.columns if column.startswith("loss_seed")]
    for key, style in (("loss", "-"), ("val_loss", "--")):
        for index, seed in enumerate(seeds):
            if f"{key}_seed{seed}" in curves:
                label = f"{key}, seed {seed}"
                axes.plot(curves["epoch"], curves[f"{key}_seed{seed}"], style, color=f"C{index}", linewidth=1, alpha=0.7, label=label)
        columns = [f"{key}_seed{seed}" for seed in seeds if f"{key}_seed{seed}" in curves]
        if len(columns) > 1:
            mean = curves[columns].mean(axis=1).where(curves[columns].notna().all(axis=1))
            axes.plot(curves["epoch"], mean, style, color="black", linewidth=2, label=f"{key}, mean of seeds")
    axes.set(title=f"{name}: learning curves", xlabel="epoch", ylabel="loss (log scale)", yscale="log")
    axes.yaxis.set_major_formatter(ticker.FuncFormatter(lambda value, _: f"{value:g}"))
    axes.yaxis.set_minor_formatter(ticker.NullFormatter())
    axes.legend(fontsize="x-small", ncol=2)
    save(figure, path)


def plot_confusion(name: str, table: pd.DataFrame, path: Path) -> None:
    counts = pd.crosstab(table["actual"], table["predicted"]).reindex(columns=sorted(set(table["actual"]) | set(table["predicted"])))
    counts = counts.reindex(index=counts.columns).fillna(0)
    rates = counts.div(counts.sum(axis=1).replace(0, 1), axis=0)
    figure, axes = plt.subplots(figsize=(1.1 * len(counts) + 3, 1.0 * len(counts) + 2))
    axes.imshow(rates, cmap="Blues", vmin=0, vmax=1)
    for row in range(len(counts)):
        for column in range(len(counts)):
            color = "white" if rates.iat[row, column] > 0.5 else "black"
            text = f"{int(counts.iat[row, column])}\n{rates.iat[row, column]:.2f}"
            axes.text(column, row, text, ha="center", va="center", color=color, fontsize="small")
    axes.set_xticks(range(len(counts)), counts.columns, rotation=30)
    axes.set_yticks(range(len(counts)), counts.index)
    axes.set(title=f"{name}: test confusion, all seeds pooled (count, share of the row)", xlabel="predicted", ylabel="actual")
    save(figure, path)


def plot_bars_with_baselines(
    metrics: dict[str, dict], key: str, baselines: dict[str, str], labels: list[str], title: str, ylabel: str, path: Path
) -> None:
    """Mean ± std over seeds per experiment, the served seed ensemble as a diamond beside it where
    there is one, each baseline as a dashed mark across its bar; the axis spans the data."""
    names = list(metrics)
    figure, axes = plt.subplots(figsize=(min(0.9 * len(names) + 3, 12), 4.5))
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
    margin = 0.08 * (high - low or 1)
    axes.set_ylim(max(0.0, low - margin), high + margin)
    axes.set_xticks(list(positions), labels, rotation=30, ha="right")
    axes.set(title=title, ylabel=ylabel)
    axes.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1))
    save(figure, path)


def draw_figures(folder: Path) -> int:
    params = load_params()
    experiments = params.experiments
    forecasts: dict[str, dict[str, dict]] = {}  # one RMSE chart per series file, named after its first dataset
    charts: dict[str, str] = {}
    classifiers: dict[str, dict] = {}
    test_forecasts: dict[str, dict[str, pd.DataFrame]] = {}
    not_here = []
    for name, experiment in experiments.items():
        metrics_path = METRICS_DIR / f"{name}.json"
        learning_path, table_path = PLOTS_DIR / "learning" / f"{name}.csv", PLOTS_DIR / experiment.task / f"{name}.csv"
        if not metrics_path.is_file():
            continue
        if not (learning_path.is_file() and table_path.is_file()):  # committed metrics, outputs not run or pulled here
            not_here.append(name)
            continue
        plot_learning(name, pd.read_csv(learning_path), folder / f"{name}-learning.png")
        if experiment.task == "forecast":
            table = pd.read_csv(table_path)
            plot_predictions(name, table, folder / f"{name}-predictions.png")
            chart = charts.setdefault(params.dataset(experiment.dataset).files[0].sha256, experiment.dataset)
            forecasts.setdefault(chart, {})[name] = read_json(metrics_path)
            test_forecasts.setdefault(chart, {})[name] = table[table["split"] == "test"]
        elif experiment.task == "classify":
            plot_confusion(name, pd.read_csv(table_path, dtype=str, keep_default_na=False), folder / f"{name}-confusion.png")
            classifiers[name] = read_json(metrics_path)
    for dataset, metrics in forecasts.items():
        plot_bars_with_baselines(
            metrics,
            "test_rmse",
            {"naive_test_rmse": "naive (last value)", "seasonal_naive_test_rmse": "seasonal naive (same month last year)"},
            [name.removeprefix(f"{dataset}-") for name in metrics],
            f"{dataset}: test RMSE by variant",
            "RMSE (original units)",
            folder / f"{dataset}-rmse-by-variant.png",
        )
    for dataset, tables in test_forecasts.items():
        plot_test_forecasts(dataset, tables, forecasts[dataset], folder / f"{dataset}-test-forecasts.png")
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
    return len(list(folder.glob("*.png")))


@exit_on_error
def main(argv: list[str] | None = None) -> None:
    argparse.ArgumentParser(description=__doc__).parse_args(argv)
    count = replace_directory(FIGURES_DIR, draw_figures)
    print(f"plot: {count} figures in {FIGURES_DIR}")


if __name__ == "__main__":
    main()
