"""One command for a machine with a GPU: install, run the whole pipeline, record what it took.

    python benchmarks/device_run.py MIRROR [--no-install]

Installs requirements.lock plus TensorFlow's CUDA libraries (`tensorflow[and-cuda]`, skipped with
--no-install or where no NVIDIA GPU is found), runs `dvc repro` with MIRROR as the data mirror,
timed per stage (scripts/timed_repro.py), and records in benchmarks/results.json under
`device_run`: the devices TensorFlow used, each stage's wall seconds, the total, and `dvc metrics
diff HEAD` (every figure that differs from the committed CPU run). Tested on a CPU on reduced
settings (tests/test_device_run.py).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a file from the project root

from scripts.timed_repro import timed_repro
from stages.io import read_json, write_json

RESULTS = Path("benchmarks/results.json")
DEVICES = "import tensorflow as tf; print(' '.join(d.device_type for d in tf.config.list_physical_devices()))"


def install() -> None:
    pip = [sys.executable, "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    subprocess.run([*pip, "--require-hashes", "-r", "requirements.lock"], check=True)
    if shutil.which("nvidia-smi"):
        subprocess.run([*pip, "tensorflow[and-cuda]==2.21.0"], check=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("mirror", type=Path, help="the data mirror (<dataset>/<file>), e.g. ../shared/data")
    parser.add_argument("--no-install", action="store_true", help="use the packages already installed")
    args = parser.parse_args(argv)
    if not args.no_install:
        install()
    devices = subprocess.run([sys.executable, "-c", DEVICES], capture_output=True, text=True, check=True).stdout.split()
    started = time.monotonic()
    status, stages = timed_repro([], os.environ | {"DATA_MIRROR": str(args.mirror.resolve())})
    total = round(time.monotonic() - started, 1)
    diff = subprocess.run(["dvc", "metrics", "diff", "HEAD", "--json"], capture_output=True, text=True)
    results = read_json(RESULTS) if RESULTS.is_file() else {}
    results["device_run"] = {
        "devices": sorted(set(devices)),
        "repro_status": status,
        "total_s": total,
        "stages_s": stages,
        "metrics_diff_vs_committed": json.loads(diff.stdout or "{}"),
        "date": time.strftime("%Y-%m-%d"),
    }
    write_json(RESULTS, results)
    print(f"device_run: dvc repro exit {status}, {total} s over {len(stages)} stages on {', '.join(sorted(set(devices)))}; {RESULTS}")
    sys.exit(status)


if __name__ == "__main__":
    main()
