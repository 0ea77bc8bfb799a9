"""Where the data comes from with internet and no accounts: every source of a file is tried in
order until one verifies. A small HTTP server on 127.0.0.1 plays the internet (DOWNLOAD_BASE_URL
serves https://<host>/<path> from it), with the mirror's files at the URL paths of params.yaml;
the Kaggle pages answer with HTML, as they do without a login."""

import os
import shutil
import subprocess
import sys
import threading
import zipfile
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from stages import download
from stages.io import PipelineError
from stages.params import load_params
from tests.conftest import ROOT


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *arguments) -> None:
        pass


def served_path(root: Path, url: str) -> Path:
    path = root / url.removeprefix("https://")
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture
def internet(tmp_path: Path, mirror: Path, monkeypatch: pytest.MonkeyPatch):
    """The files of tweets and rotten as the public internet has them, on 127.0.0.1."""
    root = tmp_path / "internet"
    params = load_params(ROOT / "params.yaml")
    tweets, rotten = params.dataset("tweets").files[0], params.dataset("rotten").files[0]
    for page in (tweets.url, rotten.url):
        served_path(root, page).write_text("<html>Sign in to Kaggle</html>")
    shutil.copy(mirror / "tweets" / "Tweets.csv", served_path(root, tweets.fallbacks[0].url))
    with zipfile.ZipFile(served_path(root, rotten.fallbacks[0].url), "w", zipfile.ZIP_DEFLATED) as archive:
        archive.write(mirror / "rotten" / "train.tsv", "train.tsv")
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(QuietHandler, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv("DOWNLOAD_BASE_URL", f"http://127.0.0.1:{server.server_address[1]}")
    yield root
    server.shutdown()
    thread.join(timeout=10)


@pytest.mark.parametrize("dataset", ["tweets", "rotten"])
def test_the_public_copy_is_used_when_the_kaggle_page_is_not_the_file(internet: Path, tmp_path: Path, dataset: str):
    source = load_params(ROOT / "params.yaml").dataset(dataset).files[0]
    download.fetch(dataset, [source], tmp_path / "raw", mirror=None)
    assert download.sha256_of(tmp_path / "raw" / source.name) == source.sha256
    assert sorted(path.name for path in (tmp_path / "raw").iterdir()) == [source.name]  # the zip is not kept


def test_every_source_tried_is_named_with_its_reason_in_one_line(internet: Path, tmp_path: Path):
    source = load_params(ROOT / "params.yaml").dataset("rotten").files[0]
    served_path(internet, source.fallbacks[0].url).unlink()  # the public copy is gone: HTTP 404
    with pytest.raises(PipelineError) as error:
        download.fetch("rotten", [source], tmp_path / "raw", mirror=tmp_path / "empty-mirror")
    message = str(error.value)
    assert "\n" not in message and message.startswith("train.tsv of dataset rotten: no source gave the verified file; tried ")
    order = [
        "empty-mirror/rotten/train.tsv (not there)",
        f"{source.url} (sha256 mismatch",
        f"{source.fallbacks[0].url} (member train.tsv) (download failed",
    ]
    assert all(part in message for part in order) and [message.index(part) for part in order] == sorted(
        message.index(part) for part in order
    )


def test_without_any_source_the_stage_fails_alone_with_one_line(internet: Path, tmp_path: Path):
    source = load_params(ROOT / "params.yaml").dataset("tweets").files[0]
    served_path(internet, source.fallbacks[0].url).write_text("edited later upstream")
    shutil.copy(ROOT / "params.yaml", tmp_path / "params.yaml")
    result = subprocess.run(
        [sys.executable, "-m", "stages.download", "tweets"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin", "DOWNLOAD_BASE_URL": os.environ["DOWNLOAD_BASE_URL"]},
    )
    assert result.returncode == 1 and result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.count("sha256 mismatch") == 2 and not (tmp_path / "data" / "raw" / "tweets").exists()
