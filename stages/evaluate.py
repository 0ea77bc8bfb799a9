"""Stage evaluate@<experiment>: score every seed's model, and the seed ensemble that predict
serves, on held-out data. The work is done by the task's module (stages/tasks/<task>.py); what
it writes is described in stages/metrics.py."""

from __future__ import annotations

import argparse

from stages import backend
from stages.io import MODELS_DIR, exit_on_error
from stages.params import load_params, load_trained
from stages.tasks import task


@exit_on_error
def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("experiment")
    args = parser.parse_args(argv)
    load_params(only=args.experiment).experiment(args.experiment)  # a known experiment, its entry checked
    experiment, _ = load_trained(MODELS_DIR / args.experiment, args.experiment)  # what it was trained with
    backend.use(experiment.backend, experiment.deterministic)
    summary = task(experiment.task).evaluate(args.experiment, experiment)
    print(f"evaluate@{args.experiment}: {summary}")


if __name__ == "__main__":
    main()
