"""Stage evaluate@<experiment>: score every seed's model, and the seed ensemble that predict
serves, on held-out data, and draw the experiment's own figures. The work is done by the task's
module (stages/tasks/<task>.py); what it writes is described in stages/metrics.py."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import pandas as pd

from stages import backend, figures
from stages.io import METRICS_DIR, MODELS_DIR, PLOTS_DIR, exit_on_error, read_json, replace_directory
from stages.params import load_params, load_trained
from stages.tasks import Run, task


def draw_figures(name: str, experiment: Any, dataset: Any, folder: Path) -> int:
    """Its learning curves (one line per seed) and what its task draws of its evaluation, in a
    folder of its own: evaluating one experiment redraws its figures and nobody else's."""
    figures.plot_learning(name, pd.read_csv(PLOTS_DIR / "learning" / f"{name}.csv"), folder / f"{name}-learning.png")
    experiment_task = task(experiment.task)
    table = experiment_task.read_table(PLOTS_DIR / experiment.task / f"{name}.csv")
    experiment_task.draw_experiment(Run(name, experiment, dataset, read_json(METRICS_DIR / f"{name}.json"), table), figures, folder)
    return len(list(folder.glob("*.png")))


@exit_on_error
def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("experiment")
    args = parser.parse_args(argv)
    params = load_params(only=args.experiment)
    params.experiment(args.experiment)  # a known experiment, its entry checked
    experiment, _ = load_trained(MODELS_DIR / args.experiment, args.experiment)  # what it was trained with
    backend.use(experiment.backend, experiment.deterministic)
    summary = task(experiment.task).evaluate(args.experiment, experiment)
    dataset = params.dataset(experiment.dataset)
    count = replace_directory(
        figures.FIGURES_DIR / args.experiment, lambda folder: draw_figures(args.experiment, experiment, dataset, folder)
    )
    print(f"evaluate@{args.experiment}: {summary}; {count} figures in {figures.FIGURES_DIR / args.experiment}")


if __name__ == "__main__":
    main()
