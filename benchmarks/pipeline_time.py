"""Wall time of a full `dvc repro` from a clean clone, its peak RSS, and the no-op repro/status times.

    python benchmarks/pipeline_time.py                 # clone HEAD to a temp folder, full repro (long)
    python benchmarks/pipeline_time.py --noop-only     # no-op `dvc repro` / `dvc status` here (seconds)

Data comes from DATA_MIRROR (default ../shared/data). Peak RSS is the largest of any process the
repro started (getrusage of the children), i.e. of the hungriest stage.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def timed(command: list[str], cwd: Path, env: dict) -> float:
    start = time.perf_counter()
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True)
    if result.returncode:
        sys.exit(f"error: {' '.join(command)} failed in {cwd}:\n{result.stdout[-2000:]}{result.stderr[-2000:]}")
    return time.perf_counter() - start


def noop_times(project: Path, env: dict, repeats: int = 3) -> dict:
    """Best of `repeats`: what a user waits for when nothing changed."""
    return {
        "noop_repro_s": min(timed(["dvc", "repro"], project, env) for _ in range(repeats)),
        "status_s": min(timed(["dvc", "status"], project, env) for _ in range(repeats)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--noop-only", action="store_true")
    args = parser.parse_args()
    mirror = Path(os.environ.get("DATA_MIRROR") or ROOT.parent / "shared" / "data").resolve()
    env = os.environ | {"DATA_MIRROR": str(mirror), "TF_CPP_MIN_LOG_LEVEL": "3"}
    if args.noop_only:
        print(json.dumps(noop_times(ROOT, env)))
        return
    with tempfile.TemporaryDirectory() as folder:
        project = Path(folder) / "project"
        subprocess.run(["git", "clone", "-q", str(ROOT), str(project)], check=True)
        full = timed(["dvc", "repro"], project, env)
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 2**20
        print(json.dumps({"full_repro_s": round(full, 1), "peak_rss_gib": round(peak, 2)} | noop_times(project, env)))


if __name__ == "__main__":
    main()
