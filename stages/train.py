"""Stage train@<experiment>: fit one model per seed into models/<experiment>/ and log the
per-epoch loss to plots/learning/<experiment>.csv. The work is done by the task's module
(stages/<task>.py)."""

from __future__ import annotations

import argparse

from stages.io import MODELS_DIR, PLOTS_DIR, exit_on_error, replace_directory, write_atomic
from stages.params import load_params


@exit_on_error
def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("experiment")
    args = parser.parse_args(argv)
    experiment = load_params(only=args.experiment).experiment(args.experiment)
    from stages.tasks import TASKS  # TensorFlow loads here, after the arguments and params are checked

    task = TASKS[experiment.task]
    curves = replace_directory(MODELS_DIR / args.experiment, lambda folder: task.train(args.experiment, experiment, folder))
    write_atomic(PLOTS_DIR / "learning" / f"{args.experiment}.csv", lambda path: curves.to_csv(path, index=False))


if __name__ == "__main__":
    main()
