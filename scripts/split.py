"""The share of worker K of N in a full run: the evaluate targets of every Nth experiment.

    dvc repro --pull $(python -m scripts.split 1 2) && dvc push --run-cache   # machine or CI job 1
    dvc repro --pull $(python -m scripts.split 2 2) && dvc push --run-cache   # machine or CI job 2
    dvc repro --pull && dvc push --run-cache                                   # then anywhere: all of it

Each worker pulls what others already pushed (data stages, run-cache), runs its experiments and
pushes outputs with their run-cache entries to the shared DVC remote. The last `dvc repro --pull`
finds every train and evaluate stage in the remote's run-cache, restores instead of rerunning,
and draws the figures: the same dvc.lock and metrics as one machine running everything.
"""

from __future__ import annotations

import argparse

from stages.params import load_params


def share(experiments: list[str], worker: int, workers: int) -> list[str]:
    """Every `workers`-th experiment from the `worker`-th (1-based), in params.yaml order."""
    if not 1 <= worker <= workers:
        raise SystemExit(f"error: worker must be between 1 and {workers}, got {worker}")
    return [f"evaluate@{name}" for name in experiments[worker - 1 :: workers]]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("worker", type=int, help="this worker's number, 1 to N")
    parser.add_argument("workers", type=int, help="N, how many workers share the run")
    args = parser.parse_args(argv)
    print(" ".join(share(list(load_params().experiments), args.worker, args.workers)))


if __name__ == "__main__":
    main()
