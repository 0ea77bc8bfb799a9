"""`dvc repro` that records how long each stage ran, for scripts/split.py and the PR report's budget.

    python -m scripts.timed_repro [dvc repro arguments ...]

Streams DVC's output as it comes and times each stage from DVC's own lines ("Running stage 'X'"
until "Updating lock file" or the next stage), then merges the stages that ran into
benchmarks/stage_durations.json (wall seconds on this machine; restored stages keep their
earlier figure). Exits with dvc repro's status.
"""

from __future__ import annotations

import os
import platform
import re
import subprocess
import sys
import time
from pathlib import Path

from stages.io import read_json, write_json

DURATIONS = Path("benchmarks/stage_durations.json")
STARTED = re.compile(r"^Running stage '([^']+)'")
ENDED = re.compile(r"^(Updating lock file|Running stage|Stage '[^']+' didn't change|Use `dvc push`)")


def stage_times(lines: list[tuple[float, str]]) -> dict[str, float]:
    """Seconds per stage from (time, line) pairs of dvc repro's output."""
    times, running, started = {}, None, 0.0
    for moment, line in lines:
        if running and ENDED.match(line):
            times[running] = round(moment - started, 1)
            running = None
        if match := STARTED.match(line):
            running, started = match.group(1), moment
    if running:
        times[running] = round(lines[-1][0] - started, 1)
    return times


def timed_repro(arguments: list[str], environment: dict | None = None) -> tuple[int, dict[str, float]]:
    """Run `dvc repro ARGUMENTS`, echoing its output: its exit status and each stage's seconds."""
    command = ["dvc", "repro", *arguments]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1, env=environment)
    lines = []
    for line in process.stdout:
        print(line, end="", flush=True)
        lines.append((time.monotonic(), line.strip()))
    return process.wait(), stage_times(lines) if lines else {}


def main(argv: list[str] | None = None) -> None:
    status, ran = timed_repro(sys.argv[1:] if argv is None else argv)
    if ran:
        recorded = read_json(DURATIONS) if DURATIONS.is_file() else {"stages": {}}
        recorded["stages"] = dict(sorted((recorded["stages"] | ran).items()))
        recorded["machine"] = f"{platform.machine()}, {len(os.sched_getaffinity(0))} cores"
        write_json(DURATIONS, recorded)
        print(f"timed_repro: {len(ran)} stages timed into {DURATIONS}", file=sys.stderr)
    sys.exit(status)


if __name__ == "__main__":
    main()
