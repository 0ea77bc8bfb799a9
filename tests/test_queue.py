"""A sweep on DVC's own queue, as the README shows it: three values of one param queued on one
target, run two at a time, compared with `dvc exp show`."""

import csv
import io
import os
import subprocess
import time
from pathlib import Path

import pytest

from tests.conftest import mirror_path, reduced_clone, run

EXPERIMENT = "airline-regression"


def test_a_queued_sweep_runs_every_value(tmp_path: Path):
    mirror = mirror_path()
    if mirror is None:
        pytest.skip("no data mirror: set DATA_MIRROR or place the mirror at ../shared/data")
    project = reduced_clone(tmp_path / "project", [EXPERIMENT])
    environment = os.environ | {"DATA_MIRROR": str(mirror)}
    sweep = ["-S", f"++experiments.{EXPERIMENT}.epochs=1,2,3", f"evaluate@{EXPERIMENT}"]
    run(["dvc", "exp", "run", "--queue", *sweep], project, env=environment)
    run(["dvc", "queue", "start", "--jobs", "2"], project, env=environment)
    deadline = time.monotonic() + 600
    while "Queued" in (status := run(["dvc", "queue", "status"], project)) or "Running" in status:
        assert time.monotonic() < deadline, status
        time.sleep(3)
    assert "Failed" not in status, subprocess.run(["dvc", "queue", "logs", status.split()[0]], cwd=project, capture_output=True, text=True)
    shown = list(csv.DictReader(io.StringIO(run(["dvc", "exp", "show", "--only-changed", "--csv"], project))))
    runs = [row for row in shown if row["State"] == "Success"]
    assert sorted(row[f"experiments.{EXPERIMENT}.epochs"] for row in runs) == ["1", "2", "3"], shown
    assert len({row["test_rmse"] for row in runs}) == 3
