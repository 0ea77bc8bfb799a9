import hashlib
import subprocess
import sys
from pathlib import Path

import pytest

from stages import download
from stages.datasets import SourceFile
from stages.io import PipelineError
from tests.conftest import ROOT

CONTENT = b"Month,Passengers\n1949-01,112\n"
GOOD = SourceFile(name="series.csv", url="https://example.invalid/series.csv", sha256=hashlib.sha256(CONTENT).hexdigest())


@pytest.fixture
def fake_mirror(tmp_path: Path) -> Path:
    (tmp_path / "mirror" / "toy").mkdir(parents=True)
    (tmp_path / "mirror" / "toy" / "series.csv").write_bytes(CONTENT)
    return tmp_path / "mirror"


def publish(tmp_path: Path, mirror: Path, source: SourceFile) -> None:
    download.replace_directory(tmp_path / "raw" / "toy", lambda folder: download.fetch("toy", [source], folder, mirror))


def test_good_file_is_published_verified(tmp_path: Path, fake_mirror: Path):
    publish(tmp_path, fake_mirror, GOOD)
    assert (tmp_path / "raw" / "toy" / "series.csv").read_bytes() == CONTENT
    assert sorted(p.name for p in (tmp_path / "raw").iterdir()) == ["toy"]


def test_wrong_checksum_names_file_and_both_hashes_and_keeps_old_data(tmp_path: Path, fake_mirror: Path):
    publish(tmp_path, fake_mirror, GOOD)
    (fake_mirror / "toy" / "series.csv").write_bytes(CONTENT + b"1949-02,118\n")
    actual = hashlib.sha256(CONTENT + b"1949-02,118\n").hexdigest()
    mismatch = rf"series.csv of dataset toy: .*series.csv \(sha256 mismatch: expected {GOOD.sha256}, got {actual}\)"
    with pytest.raises(PipelineError, match=mismatch):
        publish(tmp_path, fake_mirror, GOOD)
    assert (tmp_path / "raw" / "toy" / "series.csv").read_bytes() == CONTENT
    assert sorted(p.name for p in (tmp_path / "raw").iterdir()) == ["toy"]


def test_missing_mirror_file_names_path_and_url(tmp_path: Path, fake_mirror: Path):
    missing = SourceFile(name="other.csv", url="https://example.invalid/other.csv", sha256=GOOD.sha256)
    tried = r"tried .*mirror/toy/other.csv \(not there\); https://example.invalid/other.csv \(download failed"
    with pytest.raises(PipelineError, match=tried):
        publish(tmp_path, fake_mirror, missing)
    assert not (tmp_path / "raw" / "toy").exists()
    assert list((tmp_path / "raw").iterdir()) == []


def test_network_failure_names_url(tmp_path: Path):
    source = SourceFile(name="series.csv", url="file:///nonexistent/series.csv", sha256=GOOD.sha256)
    with pytest.raises(PipelineError, match=r"file:///nonexistent/series.csv \(download failed"):
        download.fetch("toy", [source], tmp_path, None)


def test_file_url_is_read_directly_even_with_a_mirror(tmp_path: Path, fake_mirror: Path):
    (tmp_path / "own.csv").write_bytes(CONTENT)
    source = SourceFile(name="series.csv", url=(tmp_path / "own.csv").as_uri(), sha256=GOOD.sha256)
    download.fetch("own", [source], tmp_path / "raw", fake_mirror)
    assert (tmp_path / "raw" / "series.csv").read_bytes() == CONTENT


def test_stage_reports_one_line_and_exit_status(tmp_path: Path, fake_mirror: Path):
    params = (ROOT / "params.yaml").read_text()
    url = "https://raw.githubusercontent.com/jbrownlee/Datasets/master/airline-passengers.csv"
    (tmp_path / "params.yaml").write_text(params.replace(url, "https://example.invalid/airline-passengers.csv"))
    result = subprocess.run(
        [sys.executable, "-m", "stages.download", "airline"],
        cwd=tmp_path,
        env={"PYTHONPATH": str(ROOT), "DATA_MIRROR": str(fake_mirror), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
    )
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("error: ")
    tried = "mirror/airline/airline-passengers.csv (not there); https://example.invalid/airline-passengers.csv (download failed"
    assert tried in result.stderr
    assert not (tmp_path / "data" / "raw" / "airline").exists()


def test_real_airline_file_verifies(tmp_path: Path, mirror: Path):
    from stages.params import load_params

    dataset = load_params(ROOT / "params.yaml").dataset("airline")
    download.fetch("airline", dataset.files, tmp_path, mirror)
    assert download.sha256_of(tmp_path / "airline-passengers.csv") == dataset.files[0].sha256
