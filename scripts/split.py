"""The share of worker K of N in a full run: evaluate targets dealt by cost, longest first.

    dvc repro --pull $(python -m scripts.split 1 2) && dvc push --run-cache   # machine or CI job 1
    dvc repro --pull $(python -m scripts.split 2 2) && dvc push --run-cache   # machine or CI job 2
    dvc repro --pull && dvc push --run-cache                                   # then anywhere: all of it
    python -m scripts.split 4          # every worker's share of 4, with its estimated seconds

An experiment's cost is its train and evaluate seconds in benchmarks/stage_durations.json (the
last full run, written by scripts/timed_repro.py; an experiment not timed yet counts as the
mean of those that were). Experiments go, longest first, to the worker with the least work so
far, so no worker gets both IMDB LSTMs while another idles. Each worker pulls what others
already pushed, runs its experiments and pushes outputs with their run-cache entries; the last
`dvc repro --pull` restores every train and evaluate stage from the remote's run-cache and
draws the figures: the same dvc.lock and metrics as one machine running everything.
"""

from __future__ import annotations

import argparse

from scripts.timed_repro import DURATIONS
from stages.io import read_json
from stages.params import load_params


def experiment_costs(experiments: list[str], durations: dict[str, float]) -> dict[str, float]:
    timed = {
        name: durations[f"train@{name}"] + durations.get(f"evaluate@{name}", 0.0) for name in experiments if f"train@{name}" in durations
    }
    fallback = sum(timed.values()) / len(timed) if timed else 1.0
    return {name: timed.get(name, fallback) for name in experiments}


def assign(costs: dict[str, float], workers: int) -> list[list[str]]:
    """Longest first to the least loaded worker (ties: the lower number, names in params order)."""
    shares, loads = [[] for _ in range(workers)], [0.0] * workers
    for name in sorted(costs, key=lambda name: -costs[name]):
        worker = loads.index(min(loads))
        shares[worker].append(name)
        loads[worker] += costs[name]
    return shares


def share(experiments: list[str], worker: int, workers: int, durations: dict[str, float]) -> list[str]:
    if not 1 <= worker <= workers:
        raise SystemExit(f"error: worker must be between 1 and {workers}, got {worker}")
    return [f"evaluate@{name}" for name in assign(experiment_costs(experiments, durations), workers)[worker - 1]]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("worker", type=int, nargs="?", help="this worker's number, 1 to N (left out: every worker's share)")
    parser.add_argument("workers", type=int, help="N, how many workers share the run")
    args = parser.parse_args(argv)
    durations = read_json(DURATIONS)["stages"] if DURATIONS.is_file() else {}
    experiments = list(load_params().experiments)
    if args.worker is None:
        costs = experiment_costs(experiments, durations)
        for number, names in enumerate(assign(costs, args.workers), start=1):
            print(f"worker {number}: {sum(costs[name] for name in names):.0f} s: {' '.join(names)}")
        return
    print(" ".join(share(experiments, args.worker, args.workers, durations)))


if __name__ == "__main__":
    main()
