"""Two experiments' metrics side by side with the change, in the shape of `dvc metrics diff`.

    python -m stages.compare airline-stateful airline-stacked
    python -m stages.compare airline-stateful airline-stacked --md     (Markdown, for a PR comment)

`dvc metrics diff` compares one file across two revisions; this compares two experiments of one
task at the same revision, from their committed metrics/<experiment>.json.
"""

from __future__ import annotations

import argparse
import json

from stages.io import METRICS_DIR, PipelineError, exit_on_error
from stages.params import load_params


def read_metrics(name: str) -> dict:
    path = METRICS_DIR / f"{name}.json"
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise PipelineError(f"{path}: not found (run: dvc repro evaluate@{name})") from None


def comparison_rows(first: dict, second: dict) -> list[list[str]]:
    """[metric, first, second, change] for every metric of either, `-` where one lacks it."""
    rows = []
    for key in sorted(first.keys() | second.keys()):
        a, b = first.get(key), second.get(key)
        change = "-" if a is None or b is None else f"{round(b - a, 4):g}"
        rows.append([key, "-" if a is None else f"{a:g}", "-" if b is None else f"{b:g}", change])
    return rows


def render(header: list[str], rows: list[list[str]], markdown: bool) -> str:
    if markdown:
        lines = [header, ["---"] * len(header), *rows]
        return "\n".join("| " + " | ".join(row) + " |" for row in lines)
    widths = [max(len(row[column]) for row in [header, *rows]) for column in range(len(header))]
    return "\n".join("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in [header, *rows])


@exit_on_error
def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("first", help="an experiment name from params.yaml")
    parser.add_argument("second", help="another experiment of the same task")
    parser.add_argument("--md", action="store_true", help="print a Markdown table")
    args = parser.parse_args(argv)
    tasks = {name: load_params(only=name).experiment(name).task for name in (args.first, args.second)}
    if tasks[args.first] != tasks[args.second]:
        kinds = f"{args.first} is a {tasks[args.first]} experiment, {args.second} a {tasks[args.second]} one"
        raise PipelineError(f"{kinds}: compare two experiments of one task")
    rows = comparison_rows(read_metrics(args.first), read_metrics(args.second))
    print(render(["Metric", args.first, args.second, "Change"], rows, args.md))


if __name__ == "__main__":
    main()
