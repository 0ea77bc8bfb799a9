"""Stage plot: PNG figures a person reads, drawn from the CSV/JSON the other stages wrote.

Per experiment its learning curves (one line per seed), then whatever its task draws from its
evaluation (stages/tasks/<task>.py: forecasts vs actual, a confusion matrix, charts across the
task's experiments with error bars over seeds and the baselines beside them).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from stages import figures
from stages.io import METRICS_DIR, PLOTS_DIR, exit_on_error, read_json, replace_directory
from stages.params import load_params
from stages.tasks import Run, task

FIGURES_DIR = PLOTS_DIR / "figures"


def draw_figures(folder: Path) -> int:
    params = load_params()
    runs: dict[str, list[Run]] = {}  # per task, in params.yaml's order
    not_here = []
    for name, experiment in params.experiments.items():
        metrics_path = METRICS_DIR / f"{name}.json"
        learning_path, table_path = PLOTS_DIR / "learning" / f"{name}.csv", PLOTS_DIR / experiment.task / f"{name}.csv"
        if not metrics_path.is_file():
            continue
        if not (learning_path.is_file() and table_path.is_file()):  # committed metrics, outputs not run or pulled here
            not_here.append(name)
            continue
        figures.plot_learning(name, pd.read_csv(learning_path), folder / f"{name}-learning.png")
        table = task(experiment.task).read_table(table_path)
        run = Run(name, experiment, params.dataset(experiment.dataset), read_json(metrics_path), table)
        runs.setdefault(experiment.task, []).append(run)
    for name, task_runs in runs.items():
        task(name).draw_figures(task_runs, figures, folder)
    if not_here:
        missing = f"{len(not_here)} experiment(s) whose outputs are not here: {', '.join(not_here)}"
        print(f"plot: no figures for {missing} (dvc pull or dvc repro)")
    return len(list(folder.glob("*.png")))


@exit_on_error
def main(argv: list[str] | None = None) -> None:
    argparse.ArgumentParser(description=__doc__).parse_args(argv)
    count = replace_directory(FIGURES_DIR, draw_figures)
    print(f"plot: {count} figures in {FIGURES_DIR}")


if __name__ == "__main__":
    main()
