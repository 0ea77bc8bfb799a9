"""benchmarks/device_run.py on a CPU, reduced settings: every task on JAX, each stage timed, the
metrics diff recorded; and the carried wheels are complete for the device image."""

import json
import sys
from pathlib import Path

import pytest

from benchmarks import device_run
from tests.conftest import ROOT, mirror_path, reduced_clone, run


def test_device_run_records_stage_times_and_the_metrics_diff(tmp_path: Path):
    mirror = mirror_path()
    clone = reduced_clone(tmp_path / "clone", ["airline-regression", "tweets-lstm"])
    run([sys.executable, "benchmarks/device_run.py", "run", str(mirror), "--no-install", "--out", "out"], clone)
    recorded = json.loads((clone / "out" / "device_run.json").read_text())
    assert recorded["repro_status"] == 0 and recorded["devices"] == ["cpu"]
    assert {"download@airline", "train@airline-regression", "train@tweets-lstm", "evaluate@tweets-lstm", "plot"} <= set(
        recorded["stages_s"]
    )
    assert 0 < recorded["stages_s"]["train@airline-regression"] < recorded["total_s"]
    assert json.loads((clone / "models" / "tweets-lstm" / "settings.json").read_text())["experiment"]["backend"] == "jax"
    changed = recorded["metrics_diff_vs_committed"]["metrics/airline-regression.json"]  # 2 epochs, 1 seed: not the committed run
    assert changed["test_rmse"]["old"] != changed["test_rmse"]["new"]


def test_the_image_list_names_what_the_device_notes_say_it_holds():
    image = (ROOT / "benchmarks" / "device_image.txt").read_text().split()
    assert {"jax", "numpy", "pandas", "scikit-learn", "scipy", "matplotlib", "pyyaml", "torch"} <= set(image)
    assert "tensorflow" not in image and "keras" not in image and "dvc" not in image


def test_rehearse_resolves_from_the_carried_wheels_and_names_what_is_missing(tmp_path: Path, monkeypatch, capsys):
    monkeypatch.chdir(ROOT)
    monkeypatch.setattr(device_run, "WHEELS", tmp_path)
    for name in device_run.NEEDED:
        device_run.stand_in(name, "1.0", tmp_path)
    device_run.rehearse()
    needed = len(device_run.NEEDED)
    assert capsys.readouterr().out.strip() == f"device_run: pip resolves {needed} packages for Python 3.12: {needed} carried, 0 the image's"
    (tmp_path / "keras-1.0-py3-none-any.whl").unlink()
    with pytest.raises(SystemExit, match=r"^device_run: pip cannot resolve keras dvc .* for Python 3\.12: .*keras"):
        device_run.rehearse()
