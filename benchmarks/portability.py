"""One experiment trained and evaluated under the settings that made results differ between
machines, each in its own process, as the stages run: with the pin of stages/backend.py every
row should give the same figure.

    python benchmarks/portability.py                          # alice-simplernn, 7 settings
    python benchmarks/portability.py --experiment nursery-bilstm-short --free   # also unpinned

The settings are the CPU's own (every instruction set, 2 threads), one thread, an AVX2-only CPU
(`ONEDNN_MAX_CPU_ISA=AVX2`) and oneDNN's operations off (`TF_ENABLE_ONEDNN_OPTS=0`, TensorFlow's
default on some platforms), alone and combined. `--free` adds each row with `PIN_ISA=0`.
Needs the experiment's prepared data (`dvc repro preprocess@<dataset>`); runs in a scratch
folder, so the checkout's models and metrics are left alone.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from stages.params import load_params
from stages.tasks import task

ROOT = Path(__file__).resolve().parents[1]
SETTINGS = {
    "defaults (every instruction set, 2 threads)": {},
    "1 thread": {"TF_NUM_INTRAOP_THREADS": "1"},
    "ONEDNN_MAX_CPU_ISA=AVX2 (an AVX2-only CPU)": {"ONEDNN_MAX_CPU_ISA": "AVX2"},
    "ONEDNN_MAX_CPU_ISA=AVX2, 1 thread": {"ONEDNN_MAX_CPU_ISA": "AVX2", "TF_NUM_INTRAOP_THREADS": "1"},
    "TF_ENABLE_ONEDNN_OPTS=0": {"TF_ENABLE_ONEDNN_OPTS": "0"},
    "TF_ENABLE_ONEDNN_OPTS=0, 1 thread": {"TF_ENABLE_ONEDNN_OPTS": "0", "TF_NUM_INTRAOP_THREADS": "1"},
    "TF_ENABLE_ONEDNN_OPTS=0, ONEDNN_MAX_CPU_ISA=AVX2": {"TF_ENABLE_ONEDNN_OPTS": "0", "ONEDNN_MAX_CPU_ISA": "AVX2"},
}
KNOBS = {"PIN_ISA", "ONEDNN_MAX_CPU_ISA", "TF_ENABLE_ONEDNN_OPTS", "TF_NUM_INTRAOP_THREADS"}


def run(experiment: str, environment: dict, folder: Path) -> tuple[float, float]:
    """The experiment's headline metric and the seconds train + evaluate took."""
    for output in ("models", "metrics", "reports", "plots"):
        shutil.rmtree(folder / output, ignore_errors=True)
    clean = {key: value for key, value in os.environ.items() if key not in KNOBS}
    start = time.perf_counter()
    for stage in ("train", "evaluate"):
        command = [sys.executable, "-m", f"stages.{stage}", experiment]
        result = subprocess.run(command, cwd=folder, env=clean | environment, capture_output=True, text=True)
        if result.returncode:
            sys.exit(f"error: {stage}@{experiment} failed:\n{result.stderr[-2000:]}")
    metrics = json.loads((folder / "metrics" / f"{experiment}.json").read_text())
    return metrics[task(load_params(folder / "params.yaml").experiment(experiment).task).PRIMARY.key], time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--experiment", default="alice-simplernn")
    parser.add_argument("--free", action="store_true", help="also run every setting with PIN_ISA=0")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        shutil.copytree(ROOT / "stages", folder / "stages")
        shutil.copy(ROOT / "params.yaml", folder / "params.yaml")
        (folder / "data").symlink_to(ROOT / "data")
        rows = []
        for pin in ["pinned", "free"] if args.free else ["pinned"]:
            for label, setting in SETTINGS.items():
                value, seconds = run(args.experiment, setting | ({"PIN_ISA": "0"} if pin == "free" else {}), folder)
                rows.append({"pin": pin, "setting": label, "value": value, "seconds": round(seconds, 1)})
                print(json.dumps(rows[-1]), flush=True)
    print(f"\n| {args.experiment} | pin | figure | seconds |\n|---|---|---|---|")
    for row in rows:
        print(f"| {row['setting']} | {row['pin']} | {row['value']} | {row['seconds']} |")


if __name__ == "__main__":
    main()
