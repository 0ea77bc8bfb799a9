"""Stage evaluate@<experiment>: score every seed's model on held-out data. The work is done
by the task's module (stages/<task>.py); every task writes the same three outputs:

- metrics/<experiment>.json: flat keys, means over seeds with `_std` beside them (none for a
  single seed: a spread of one run would read as a measured one);
- plots/<task>/<experiment>.csv: the table behind the task's DVC plot;
- reports/<experiment>/: per-seed values (seeds.json) and, for generation, sample.txt.
"""

from __future__ import annotations

import argparse
import importlib

import numpy as np
import pandas as pd

from stages.io import METRICS_DIR, PLOTS_DIR, exit_on_error, write_atomic, write_json
from stages.params import load_params

REPORTS_DIR = "reports"


def summarise(key: str, per_seed: list[dict]) -> dict[str, float]:
    """`key` as its mean over seeds, and `<key>_std` (sample standard deviation) from two seeds on."""
    values = [row[key] for row in per_seed]
    summary = {key: float(np.mean(values))}
    if len(values) > 1:
        summary[f"{key}_std"] = float(np.std(values, ddof=1))
    return summary


def mean_and_spread(metrics: dict, key: str, digits: int) -> str:
    """`0.8747 ± 0.0036` over several seeds, `0.8747` for one."""
    std = metrics.get(f"{key}_std")
    return f"{metrics[key]:.{digits}f}" + ("" if std is None else f" ± {std:.{digits}f}")


def rounded(row: dict) -> dict:
    return {key: round(value, 4) if isinstance(value, float) else value for key, value in row.items()}


def write_evaluation(name: str, task: str, metrics: dict, per_seed: list[dict], table: pd.DataFrame) -> None:
    write_json(METRICS_DIR / f"{name}.json", rounded(metrics))
    write_json(f"{REPORTS_DIR}/{name}/seeds.json", [rounded(row) for row in per_seed])
    write_atomic(PLOTS_DIR / task / f"{name}.csv", lambda path: table.round(4).to_csv(path, index=False))


@exit_on_error
def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("experiment")
    args = parser.parse_args(argv)
    params = load_params(only=args.experiment)
    experiment = params.experiment(args.experiment)
    task = importlib.import_module(f"stages.{experiment.task}")
    summary = task.evaluate(args.experiment, experiment, params.dataset(experiment.dataset))
    print(f"evaluate@{args.experiment}: {summary}")


if __name__ == "__main__":
    main()
