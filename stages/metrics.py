"""What every task's evaluation writes, and the one way a figure over seeds is summarised:

- metrics/<experiment>.json: flat keys, means over seeds with `_std` beside them (none for a
  single seed: a spread of one run would read as a measured one);
- plots/<task>/<experiment>.csv: the table behind the task's DVC plot;
- reports/<experiment>/: per-seed values (seeds.json) and, for generation, sample.txt.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from stages.io import METRICS_DIR, PLOTS_DIR, write_atomic, write_json

REPORTS_DIR = "reports"


def summarise_seeds(per_seed: list[dict]) -> dict[str, float]:
    """Every per-seed figure (all keys but `seed`) as its mean over seeds, with `<key>_std`
    (sample standard deviation) beside it from two seeds on."""
    summary = {}
    for key in (key for key in per_seed[0] if key != "seed"):
        values = [row[key] for row in per_seed]
        summary[key] = float(np.mean(values))
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
