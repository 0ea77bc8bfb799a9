"""Shared fixtures: the data mirror (../shared/data unless DATA_MIRROR says otherwise) and a
scratch project folder to run stages in."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _find_mirror() -> Path | None:
    candidate = Path(os.environ.get("DATA_MIRROR") or ROOT.parent / "shared" / "data")
    return candidate.resolve() if candidate.is_dir() else None


MIRROR = _find_mirror()  # resolved once, before any test changes the working directory
PROJECT_FILES = ["dvc.yaml", "params.yaml", ".dvcignore", ".gitignore", ".dvc/config", ".dvc/.gitignore"]


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
