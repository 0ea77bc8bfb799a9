"""Stage train@<experiment>: fit one model per seed into models/<experiment>/ and write the
per-epoch learning curves to plots/learning/<experiment>.csv. The work is done by the task's
module (stages/tasks/<task>.py); the folder also gets the settings it was trained with
(settings.json), so predict and evaluate never read a later params.yaml.

DVCLive's log of the epochs (dvclive/<experiment>/, read by `dvc exp show` while the stage runs)
is built beside the models and both are swapped in only when training has succeeded: an
interrupted run leaves the last good ones."""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from stages import backend
from stages.io import LIVE_DIR, MODELS_DIR, PLOTS_DIR, exit_on_error, replace_directory, write_atomic, write_json
from stages.params import load_params, save_trained
from stages.tasks import task


@exit_on_error
def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("experiment")
    args = parser.parse_args(argv)
    params = load_params(only=args.experiment)
    experiment = params.experiment(args.experiment)
    backend.use(experiment.backend, experiment.deterministic)
    print(f"train@{args.experiment}: Keras on {experiment.backend}", flush=True)

    def train_into(live: Path) -> pd.DataFrame:
        def fill(folder: Path) -> pd.DataFrame:
            save_trained(folder, experiment, params.dataset(experiment.dataset))
            return task(experiment.task).train(args.experiment, experiment, folder, live)

        curves = replace_directory(MODELS_DIR / args.experiment, fill)
        (live / "plots").mkdir(exist_ok=True)  # dvc.yaml's outputs, also for a task that logs no epochs
        if not (live / "metrics.json").is_file():
            write_json(live / "metrics.json", {})
        return curves

    curves = replace_directory(LIVE_DIR / args.experiment, train_into)
    write_atomic(PLOTS_DIR / "learning" / f"{args.experiment}.csv", lambda path: curves.to_csv(path, index=False))


if __name__ == "__main__":
    main()
