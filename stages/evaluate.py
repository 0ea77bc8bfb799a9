"""Stage evaluate@<experiment>: score every seed's model, and the seed ensemble that predict
serves, on held-out data. The work is done by the task's module (stages/<task>.py); what it
writes is described in stages/metrics.py."""

from __future__ import annotations

import argparse

from stages.io import exit_on_error
from stages.params import load_params


@exit_on_error
def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("experiment")
    args = parser.parse_args(argv)
    experiment = load_params(only=args.experiment).experiment(args.experiment)
    from stages.tasks import TASKS  # TensorFlow loads here, after the arguments and params are checked

    summary = TASKS[experiment.task].evaluate(args.experiment, experiment)
    print(f"evaluate@{args.experiment}: {summary}")


if __name__ == "__main__":
    main()
