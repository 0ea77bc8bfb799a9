"""Ask a trained experiment a question: classify texts, forecast the next steps, or generate text.

    python -m stages.predict bbc-bilstm "the chancellor raised interest rates again"
    python -m stages.predict tweets-lstm --file tweets.txt        (or texts on stdin)
    python -m stages.predict airline-stateful-seasonal --steps 12 --plot forecast.png
    python -m stages.predict nursery-bilstm --seed-text "mary had a" --lines 4 --words 6

Every mode loads models/<experiment>/ (all seeds; their outputs are averaged) and applies the
same encoding, scaling and windowing code the pipeline trained with, by the settings saved there
at training time: params.yaml and data/prepared are not read. The options are each task's own
(stages/tasks/<task>.py).
"""

from __future__ import annotations

import argparse

from stages import backend, figures
from stages.io import MODELS_DIR, PipelineError, exit_on_error
from stages.params import load_params, load_trained
from stages.tasks import task, task_names


def parser_with_options() -> tuple[argparse.ArgumentParser, dict[str, set[str]]]:
    """The command line, and each task's own options (their `dest` names)."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("experiment")
    options = {}
    for name in task_names():
        task(name).add_predict_arguments(parser.add_argument_group(f"{name} experiments"))
        alone = argparse.ArgumentParser(add_help=False)
        task(name).add_predict_arguments(alone)
        options[name] = set(vars(alone.parse_args([])))
    return parser, options


@exit_on_error
def main(argv: list[str] | None = None) -> None:
    parser, options = parser_with_options()
    args = parser.parse_args(argv)
    folder = MODELS_DIR / args.experiment
    if not folder.is_dir():
        load_params(only=args.experiment).experiment(args.experiment)  # a name params.yaml does not know is named as such
    experiment, dataset = load_trained(folder, args.experiment)
    given = {key for key, value in vars(args).items() if value not in (None, [], "") and key != "experiment"}
    wrong = sorted(given - options[experiment.task])
    if wrong:
        option = "texts" if wrong[0] == "texts" else f"--{wrong[0].replace('_', '-')}"
        raise PipelineError(f"{option} does not apply to {args.experiment}, a {experiment.task} experiment")
    backend.use(experiment.backend, experiment.deterministic)
    task(experiment.task).predict(args.experiment, experiment, dataset, args, figures)


if __name__ == "__main__":
    main()
