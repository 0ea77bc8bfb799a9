"""One machine running a set of experiments vs two workers sharing it through a DVC remote, and
the newcomer's path: clone, `dvc pull`, first prediction.

    python benchmarks/split_time.py                     # 4 airline experiments (and airline-stacked), full settings
    python benchmarks/split_time.py --experiments airline-regression airline-window
    python benchmarks/split_time.py --one-core       # each worker on a core of its own (taskset), as machines would be
    python benchmarks/split_time.py --clone-to-predict  # needs the default remote filled (dvc push)

Split: clones of HEAD in a temporary folder with params.yaml cut to the chosen experiments (and
any experiment one of them is drawn beside, its `compare_with`) and a shared local-folder
remote. "one": a clone runs `dvc repro`. "two": two clones run their `scripts/split.py` shares
side by side (`dvc repro --pull`, then `dvc push --run-cache`), then a third runs `dvc repro
--pull` (restores their training and evaluation, runs the data stages and draws the figures):
wall time from the workers' start to the end of the third, of which the third's is
`of_which_gather_s`. The metrics files of "one" and "two" are compared byte for byte. With
--one-core, "one" and each worker run pinned to one core of their own (taskset -c 0, -c 1), so
two workers measure scale-out rather than two processes sharing both cores. Data comes from
DATA_MIRROR (default ../shared/data).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
DEFAULT = ["airline-regression", "airline-window", "airline-timesteps", "airline-stateful"]


def sh(command: list[str], cwd: Path, env: dict) -> str:
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True)
    if result.returncode:
        sys.exit(f"error: {' '.join(command)} failed in {cwd}:\n{result.stdout[-2000:]}{result.stderr[-2000:]}")
    return result.stdout


def clone(origin: Path, target: Path, storage: Path, env: dict) -> Path:
    sh(["git", "clone", "-q", str(origin), str(target)], target.parent, env)
    sh(["dvc", "remote", "add", "--local", "--default", "shared", str(storage)], target, env)
    return target


def split(experiments: list[str], env: dict, folder: Path, one_core: bool) -> dict:
    origin = folder / "origin"
    sh(["git", "clone", "-q", str(ROOT), str(origin)], folder, env)
    params = yaml.safe_load((origin / "params.yaml").read_text())
    partners = [params["experiments"][name].get("compare_with") for name in experiments]
    experiments = experiments + [name for name in dict.fromkeys(partners) if name and name not in experiments]  # plot draws the pair
    params["experiments"] = {name: params["experiments"][name] for name in experiments}
    (origin / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    identity = ["-c", "user.name=benchmark", "-c", "user.email=benchmark@localhost"]
    sh(["git", *identity, "commit", "-q", "-am", "benchmark experiments"], origin, env)
    one = clone(origin, folder / "one", folder / "storage-one", env)
    start = time.perf_counter()
    pin = (lambda core: ["taskset", "-c", str(core)]) if one_core else (lambda core: [])
    sh([*pin(0), "dvc", "repro"], one, env)
    one_s = time.perf_counter() - start
    workers = [clone(origin, folder / f"worker-{number}", folder / "storage-two", env) for number in (1, 2)]
    final = clone(origin, folder / "final", folder / "storage-two", env)
    start = time.perf_counter()
    running, shares = [], []
    for number, worker in enumerate(workers, 1):
        shares.append(sh([sys.executable, "-m", "scripts.split", str(number), "2"], worker, env).strip())
        command = f"dvc repro --pull {shares[-1]} && dvc push --run-cache"
        running.append(subprocess.Popen([*pin(number - 1), "bash", "-c", command], cwd=worker, env=env))
    if any(process.wait() for process in running):
        sys.exit("error: a worker failed")
    workers_s = time.perf_counter() - start
    sh([*pin(0), "dvc", "repro", "--pull"], final, env)
    two_s = time.perf_counter() - start
    same = all((one / "metrics" / f"{name}.json").read_bytes() == (final / "metrics" / f"{name}.json").read_bytes() for name in experiments)
    times = {"one_worker_s": round(one_s, 1), "two_workers_s": round(two_s, 1), "of_which_gather_s": round(two_s - workers_s, 1)}
    times["two_worker_speedup"] = round(one_s / two_s, 2)
    return {"experiments": experiments, "shares": shares, "one_core_per_worker": one_core, **times, "metrics_identical": same}


def clone_to_predict(env: dict, folder: Path) -> dict:
    """A clone beside this checkout (so the default remote ../dvc-storage is the same folder)."""
    target = ROOT.parent / f".newcomer-{os.getpid()}"
    start = time.perf_counter()
    try:
        sh(["git", "clone", "-q", str(ROOT), str(target)], folder, env)
        sh(["dvc", "pull"], target, env)
        forecast = sh([sys.executable, "-m", "stages.predict", "airline-stateful", "--steps", "3"], target, env)
        seconds = time.perf_counter() - start
    finally:
        subprocess.run(["rm", "-rf", str(target)], check=False)
    return {"clone_to_predict_s": round(seconds, 1), "first_prediction": forecast.strip().splitlines()[1]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--experiments", nargs="+", default=DEFAULT)
    parser.add_argument("--clone-to-predict", action="store_true")
    parser.add_argument("--one-core", action="store_true", help="pin one worker to one core (taskset)")
    args = parser.parse_args()
    mirror = Path(os.environ.get("DATA_MIRROR") or ROOT.parent / "shared" / "data").resolve()
    env = os.environ | {"DATA_MIRROR": str(mirror)}
    with tempfile.TemporaryDirectory() as folder:
        result = clone_to_predict(env, Path(folder)) if args.clone_to_predict else split(args.experiments, env, Path(folder), args.one_core)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
