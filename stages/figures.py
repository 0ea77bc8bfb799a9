"""The figures a person reads, each drawn from a table or metrics another stage wrote: the
drawing only. Which figures an experiment gets is its task's choice (stages/tasks/)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd
from matplotlib import ticker

from stages.io import PLOTS_DIR, write_atomic
from stages.metrics import mean_and_spread

FIGURES_DIR = PLOTS_DIR / "figures"  # plots/figures/<experiment>/: each evaluate stage's own
SUMMARY_DIR = PLOTS_DIR / "summary"  # the plot stage's, across experiments


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


def plot_forecast(name: str, history: pd.DataFrame, table: pd.DataFrame, path: str, shown: int | None, unit: str) -> None:
    """The forecast after the last `shown` points of history (default: three times the forecast,
    at least 24), so a short forecast is not a speck at the end of a long series; dates on the axis
    when the times are dates."""
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
