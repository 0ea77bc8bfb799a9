import subprocess

import pytest

from tests.conftest import ROOT


def ignored(path: str) -> bool:
    return subprocess.run(["git", "check-ignore", "-q", path], cwd=ROOT).returncode == 0


@pytest.mark.parametrize(
    "path", ["mydata/visits.csv", "pr-report/report.md", "data/raw/airline/x.csv", "models/a/seed-1.keras", ".venv-ci/bin/python"]
)
def test_outputs_and_own_data_are_ignored(path: str):
    assert ignored(path)


@pytest.mark.parametrize("path", ["params.yaml", "metrics/airline-stacked.json", "stages/train.py"])
def test_project_files_are_not_ignored(path: str):
    assert not ignored(path)
