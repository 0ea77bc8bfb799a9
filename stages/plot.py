"""Stage plot: the PNG figures across experiments (stages/tasks/<task>.py: each task's charts
with error bars over seeds and the baselines beside them). Each experiment's own figures are its
evaluate stage's (plots/figures/<experiment>/).

A chart is redrawn only when the outputs of every experiment on it are here; in a clone where
some experiments were not run or pulled, the ones it cannot redraw are kept as they were (DVC
leaves plots/summary in place: `persist`), and the stage says which and why."""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

from stages import figures
from stages.io import METRICS_DIR, PLOTS_DIR, exit_on_error, read_json, replace_directory
from stages.params import load_params
from stages.tasks import Run, task


def draw_figures(folder: Path, earlier: Path = figures.SUMMARY_DIR) -> int:
    params = load_params()
    runs: dict[str, list[Run]] = {}  # per task, in params.yaml's order
    not_here = []
    for name, experiment in params.experiments.items():
        metrics_path, table_path = METRICS_DIR / f"{name}.json", PLOTS_DIR / experiment.task / f"{name}.csv"
        if not metrics_path.is_file():
            continue
        table = task(experiment.task).read_table(table_path) if table_path.is_file() else None
        if table is None:  # committed metrics, the outputs not run or pulled here
            not_here.append(name)
        run = Run(name, experiment, params.dataset(experiment.dataset), read_json(metrics_path), table)
        runs.setdefault(experiment.task, []).append(run)
    for name, task_runs in runs.items():
        task(name).draw_summary(task_runs, figures, folder)
    if not_here:
        kept = [path.name for path in sorted(earlier.glob("*.png")) if not (folder / path.name).exists()]
        for kept_name in kept:
            shutil.copy2(earlier / kept_name, folder / kept_name)
        missing = f"the outputs of {len(not_here)} experiment(s) are not here ({', '.join(not_here)}; dvc pull or dvc repro)"
        print(f"plot: kept {len(kept)} figure(s) as they were, {missing}")
    return len(list(folder.glob("*.png")))


@exit_on_error
def main(argv: list[str] | None = None) -> None:
    argparse.ArgumentParser(description=__doc__).parse_args(argv)
    count = replace_directory(figures.SUMMARY_DIR, draw_figures)
    print(f"plot: {count} figures in {figures.SUMMARY_DIR}")


if __name__ == "__main__":
    main()
