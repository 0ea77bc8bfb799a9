"""The whole pipeline on a lent GPU machine, whose image has Python 3.12, PyTorch and JAX with
CUDA, no TensorFlow and no package registry: the wheels it lacks are carried from here.

    python benchmarks/device_run.py wheels               # here, online: the image's missing wheels into .wheels/
    python benchmarks/device_run.py check                # here: every carried wheel's requirements met, and the size
    python benchmarks/device_run.py rehearse             # here: pip resolves them for Python 3.12 from .wheels alone
    python benchmarks/device_run.py run MIRROR --out DIR # there: install .wheels, run everything on JAX, record it

`run` installs the carried wheels (skip with --no-install), sets every task's `backend:` to jax in
this copy's params.yaml, runs `dvc repro` timed per stage (scripts/timed_repro.py), and writes to
DIR/device_run.json the devices JAX used, each stage's seconds, the total and `dvc metrics diff
HEAD` (every figure that differs from the committed CPU run). The image's packages are listed in
benchmarks/device_image.txt (from the device notes); what requirements.lock pins beyond them,
TensorFlow's own packages aside, is carried, each at the locked version.

The data mirror (52 MB) does not fit one call beside the wheels: copy it into a git-ignored
folder of the checkout, carry it without imdb/ in a first call (with .wheels, installing), then
.mirror/imdb in a second call that runs (ignored paths stay between calls on a warm machine).
Rehearsed on a CPU with Python 3.11 (docs/notes-2026-12-05.md): `run` on a reduced clone, from a
venv holding only the image's packages and the carried set's cp311 builds, no TensorFlow.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a file from the project root

WHEELS = Path(".wheels")
IMAGE = Path("benchmarks/device_image.txt")
LOCK = Path("requirements.lock")
NEEDED = ["keras", "dvc", "dvclive", "nltk", "pydantic", "ruamel-yaml-clib"]  # what the stages import beyond the image
TARGET = ["--python-version", "3.12", "--implementation", "cp", "--abi", "cp312", "--only-binary=:all:"]
PLATFORMS = ["--platform", "manylinux_2_28_x86_64", "--platform", "manylinux2014_x86_64", "--platform", "manylinux_2_17_x86_64"]
LIMIT = 64 * 2**20  # what one call may carry, the working tree included
DEVICES = "import jax; print(' '.join(sorted({device.platform for device in jax.devices()})))"


def normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def image_packages() -> set[str]:
    return {normal(line.strip()) for line in IMAGE.read_text().splitlines() if line.strip() and not line.startswith("#")}


def locked() -> dict[str, str]:
    return {normal(name): version for name, version in re.findall(r"^([A-Za-z0-9_.-]+)==([^ \\]+)", LOCK.read_text(), flags=re.MULTILINE)}


def package(wheel: Path) -> str:
    """The normalised package name a wheel file is of."""
    return normal(wheel.name.split("-")[0])


def carried_wheel(name: str) -> Path | None:
    return next((wheel for wheel in WHEELS.glob("*.whl") if package(wheel) == name), None)


def download() -> None:
    """The wheels of NEEDED and everything they require that the image lacks, at the locked
    versions: a binary wheel for Python 3.12 where the index has one, else built here (pure Python)."""
    WHEELS.mkdir(exist_ok=True)
    versions, present, pending, seen = locked(), image_packages(), list(NEEDED), set()
    pip = [sys.executable, "-m", "pip", "-q", "--disable-pip-version-check"]
    while pending:
        name = normal(pending.pop())
        if name in seen or name in present:
            continue
        seen.add(name)
        if carried_wheel(name) is None:
            pin = f"{name}=={versions[name]}"
            fetched = subprocess.run([*pip, "download", "--no-deps", "-d", str(WHEELS), *TARGET, *PLATFORMS, pin], capture_output=True)
            if fetched.returncode:  # no wheel on the index: a pure-Python sdist, built into one here
                subprocess.run([*pip, "wheel", "--no-deps", "-w", str(WHEELS), pin], check=True)
        pending += requirements_of(carried_wheel(name))


def requirements_of(wheel: Path) -> list[str]:
    """The requirements a wheel names for Python 3.12 on Linux, without extras."""
    from packaging.requirements import Requirement

    with zipfile.ZipFile(wheel) as archive:
        metadata = next(name for name in archive.namelist() if name.endswith(".dist-info/METADATA"))
        lines = archive.read(metadata).decode().splitlines()
    environment = {"python_version": "3.12", "python_full_version": "3.12.3", "sys_platform": "linux", "platform_system": "Linux"}
    environment |= {"platform_machine": "x86_64", "implementation_name": "cpython", "os_name": "posix", "extra": ""}
    required = [Requirement(line.removeprefix("Requires-Dist:").strip()) for line in lines if line.startswith("Requires-Dist:")]
    return [normal(requirement.name) for requirement in required if requirement.marker is None or requirement.marker.evaluate(environment)]


def check() -> None:
    wheels = sorted(WHEELS.glob("*.whl"))
    carried = {package(wheel) for wheel in wheels}
    present = carried | image_packages()
    needs = {(requirement, wheel.name) for wheel in wheels for requirement in requirements_of(wheel)}
    unmet = sorted({f"{requirement} (for {wheel})" for requirement, wheel in needs if requirement not in present})
    unmet += [f"{name} (needed)" for name in NEEDED if normal(name) not in present]
    size = sum(wheel.stat().st_size for wheel in wheels)
    files = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], capture_output=True, text=True, check=True).stdout
    tree = sum(path.stat().st_size for path in map(Path, files.splitlines()) if path.is_file())
    print(f"device_run: {len(wheels)} wheels, {size / 2**20:.1f} MiB, and the working tree, {tree / 2**20:.1f} MiB, carried in one call")
    print(f"device_run: {(LIMIT - size - tree) / 2**20:.1f} MiB of the {LIMIT / 2**20:.0f} MiB a call carries left for the data mirror")
    if unmet or size + tree > LIMIT:
        sys.exit(f"device_run: not ready: unmet {unmet}, size {size + tree:,} bytes")
    print("device_run: every carried wheel's requirements are carried or in the image")


def stand_in(name: str, version: str, folder: Path) -> None:
    """An empty wheel named like one of the image's packages, so pip counts that package present."""
    stem = f"{name.replace('-', '_')}-{version}"
    metadata = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
    wheel = "Wheel-Version: 1.0\nGenerator: device_run\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    with zipfile.ZipFile(folder / f"{stem}-py3-none-any.whl", "w") as archive:
        archive.writestr(f"{stem}.dist-info/METADATA", metadata)
        archive.writestr(f"{stem}.dist-info/WHEEL", wheel)
        archive.writestr(f"{stem}.dist-info/RECORD", "")


def rehearse() -> None:
    """What `pip install` on the image would do, asked here: pip resolves NEEDED for Python 3.12 from
    the carried wheels alone (no index), the image's packages standing in as empty wheels at the
    versions requirements.lock pins (the image's own may differ: said in the device notes)."""
    versions = locked()
    with tempfile.TemporaryDirectory() as scratch:
        image, report = Path(scratch) / "image", Path(scratch) / "report.json"
        image.mkdir()
        for name in image_packages() - {package(wheel) for wheel in WHEELS.glob("*.whl")}:
            stand_in(name, versions.get(name, "1000"), image)
        command = [sys.executable, "-m", "pip", "install", "-q", "--disable-pip-version-check", "--dry-run", "--ignore-installed"]
        command += ["--no-index", "--find-links", str(WHEELS), "--find-links", str(image), *TARGET, *PLATFORMS]
        command += ["--target", str(Path(scratch) / "target"), "--report", str(report), *NEEDED]
        resolved = subprocess.run(command, capture_output=True, text=True)
        if resolved.returncode:
            sys.exit(f"device_run: pip cannot resolve {' '.join(NEEDED)} for Python 3.12: {resolved.stderr.strip().splitlines()[-1]}")
        chosen = [item["download_info"]["url"] for item in json.loads(report.read_text())["install"]]
    carried = sum(Path(scratch).name not in url for url in chosen)
    print(f"device_run: pip resolves {len(chosen)} packages for Python 3.12: {carried} carried, {len(chosen) - carried} the image's")


def install() -> None:
    names = sorted(package(wheel) for wheel in WHEELS.glob("*.whl"))
    command = [sys.executable, "-m", "pip", "install", "-q", "--no-index", "--no-deps", "--find-links", str(WHEELS), *names]
    subprocess.run(command, check=True)


def on_jax(params_file: Path) -> None:
    """Every task's default backend jax, in this copy of the project only."""
    params = yaml.safe_load(params_file.read_text())
    for defaults in params["defaults"]["experiments"].values():
        defaults["backend"] = "jax"
    for experiment in params["experiments"].values():
        experiment.pop("backend", None)
    params_file.write_text(yaml.safe_dump(params, sort_keys=False))


def run(mirror: Path, out: Path, no_install: bool) -> int:
    if not no_install:
        install()
    from scripts.timed_repro import timed_repro  # after the install: the image has no pydantic or dvc before it
    from stages.io import write_json

    on_jax(Path("params.yaml"))
    devices = subprocess.run([sys.executable, "-c", DEVICES], capture_output=True, text=True, check=True).stdout.split()
    started = time.monotonic()
    status, stages = timed_repro([], {**os.environ, "DATA_MIRROR": str(mirror.resolve())})
    total = round(time.monotonic() - started, 1)
    diff = subprocess.run(["dvc", "metrics", "diff", "HEAD", "--json"], capture_output=True, text=True)
    out.mkdir(parents=True, exist_ok=True)
    record = {"devices": devices, "repro_status": status, "total_s": total, "stages_s": stages, "date": time.strftime("%Y-%m-%d")}
    write_json(out / "device_run.json", record | {"metrics_diff_vs_committed": json.loads(diff.stdout or "{}")})
    print(f"device_run: dvc repro exit {status}, {total} s over {len(stages)} stages on {', '.join(devices)}; {out / 'device_run.json'}")
    return status


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("step", choices=["wheels", "check", "rehearse", "run"])
    parser.add_argument("mirror", type=Path, nargs="?", help="run: the data mirror (<dataset>/<file>), e.g. ../shared/data")
    parser.add_argument("--out", type=Path, default=Path("device-run"), help="run: where device_run.json is written ($OUT there)")
    parser.add_argument("--no-install", action="store_true", help="run: use the packages already installed")
    args = parser.parse_args(argv)
    if args.step == "wheels":
        download()
        check()
    elif args.step == "check":
        check()
    elif args.step == "rehearse":
        rehearse()
    else:
        if args.mirror is None:
            parser.error("run needs the data mirror")
        sys.exit(run(args.mirror, args.out, args.no_install))


if __name__ == "__main__":
    main()
