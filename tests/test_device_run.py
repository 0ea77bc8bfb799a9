"""benchmarks/device_run.py on a CPU, reduced settings: it runs the pipeline and records each stage's time."""

import json
import os
import sys
from pathlib import Path

from tests.conftest import mirror_path, reduced_clone, run


def test_device_run_records_stage_times_and_the_metrics_diff(tmp_path: Path):
    mirror = mirror_path()
    clone = reduced_clone(tmp_path / "clone", ["airline-regression"])
    run([sys.executable, "benchmarks/device_run.py", str(mirror), "--no-install"], clone, env=os.environ | {"PIN_ISA": "1"})
    recorded = json.loads((clone / "benchmarks" / "results.json").read_text())["device_run"]
    assert recorded["repro_status"] == 0 and recorded["devices"] == ["CPU"]
    assert {"download@airline", "preprocess@airline", "train@airline-regression", "evaluate@airline-regression", "plot"} <= set(
        recorded["stages_s"]
    )
    assert 0 < recorded["stages_s"]["train@airline-regression"] < recorded["total_s"]
    changed = recorded["metrics_diff_vs_committed"]["metrics/airline-regression.json"]  # 2 epochs, 1 seed: not the committed run
    assert changed["test_rmse"]["old"] != changed["test_rmse"]["new"]
