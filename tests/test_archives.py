"""IMDB-style data: a tar archive of <root>/<split>/<label>/*.txt files, kept as downloaded and
read straight from the archive into one table."""

import hashlib
import io
import re
import tarfile
from pathlib import Path

import pandas as pd
import pytest

from stages import download
from stages.datasets import Alternative, SourceFile, TextFoldersDataset
from stages.io import PipelineError, read_json
from stages.preprocess import prepare_text_folders
from tests.conftest import with_defaults

REVIEWS = {
    ("train", "pos"): ["A great film.<br />Loved it", "Wonderful acting", "Great fun", "A joy", "Superb", "Lovely"],
    ("train", "neg"): ["Awful film", "Boring and long", "Terrible", "Dull", "Bad acting", "Weak plot"],
    ("test", "pos"): ["Great movie", "Loved it"],
    ("test", "neg"): ["Awful", "Boring"],
}


def make_archive(path: Path, extra: dict[str, bytes] | None = None, skip: tuple[str, str] | None = None) -> str:
    with tarfile.open(path, "w:gz") as tar:
        for (split, label), texts in REVIEWS.items():
            if (split, label) == skip:
                continue
            for number, text in enumerate(texts):
                data = text.encode()
                member = tarfile.TarInfo(f"aclImdb/{split}/{label}/{number}_7.txt")
                member.size = len(data)
                tar.addfile(member, io.BytesIO(data))
        for name, data in (extra or {}).items():
            member = tarfile.TarInfo(name)
            member.size = len(data)
            tar.addfile(member, io.BytesIO(data))
    return hashlib.sha256(path.read_bytes()).hexdigest()


def fetch_archive(tmp_path: Path, **options) -> Path:
    mirror = tmp_path / "mirror" / "toy"
    mirror.mkdir(parents=True)
    sha256 = make_archive(mirror / "reviews.tar.gz", **options)
    source = SourceFile(name="reviews.tar.gz", url="https://example.invalid/reviews.tar.gz", sha256=sha256)
    raw = tmp_path / "data" / "raw" / "toy"
    download.replace_directory(raw, lambda folder: download.fetch("toy", [source], folder, tmp_path / "mirror"))
    return raw


def test_a_mirror_alternative_with_its_own_checksum_is_accepted(tmp_path: Path):
    mirror = tmp_path / "mirror" / "toy"
    mirror.mkdir(parents=True)
    sha256 = make_archive(mirror / "repacked.tar.gz")
    source = SourceFile(
        name="upstream.tar.gz",
        url="https://example.invalid/upstream.tar.gz",
        sha256="0" * 64,
        alternatives=[Alternative(name="repacked.tar.gz", sha256=sha256)],
    )
    download.fetch("toy", [source], tmp_path / "raw", tmp_path / "mirror")
    assert (tmp_path / "raw" / "upstream.tar.gz").read_bytes() == (mirror / "repacked.tar.gz").read_bytes()


def dataset() -> TextFoldersDataset:
    source = SourceFile(name="reviews.tar.gz", url="https://example.invalid/reviews.tar.gz", sha256="0" * 64)
    return with_defaults("datasets", "text_folders", files=[source], root="aclImdb", labels=["neg", "pos"], validation_fraction=0.25)


def test_review_folders_become_one_table_with_validation_carved_from_train(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    fetch_archive(tmp_path)
    monkeypatch.chdir(tmp_path)
    summary = prepare_text_folders("toy", dataset(), tmp_path / "out")
    assert summary == "16 texts, 2 classes, 9 train / 3 validation / 4 test"
    table = pd.read_csv(tmp_path / "out" / "texts.csv", keep_default_na=False)
    assert set(table[table.split == "test"].text) == {"Great movie", "Loved it", "Awful", "Boring"}
    assert read_json(tmp_path / "out" / "labels.json") == ["neg", "pos"]


def test_missing_review_folder_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    fetch_archive(tmp_path, skip=("test", "neg"))
    monkeypatch.chdir(tmp_path)
    with pytest.raises(PipelineError, match=r"aclImdb/test/neg: review folder missing"):
        prepare_text_folders("toy", dataset(), tmp_path / "out")
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("name", ["../escaped.txt", "/etc/escaped.txt", "aclImdb/train/../../escaped.txt"])
def test_member_escaping_the_folder_is_refused_and_nothing_is_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str):
    fetch_archive(tmp_path, extra={name: b"gotcha"})
    monkeypatch.chdir(tmp_path)
    with pytest.raises(PipelineError, match=rf"reviews.tar.gz: unsafe member '{re.escape(name)}' refused"):
        prepare_text_folders("toy", dataset(), tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_review_that_is_not_utf8_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    fetch_archive(tmp_path, extra={"aclImdb/train/pos/99_9.txt": b"caf\xe9"})
    monkeypatch.chdir(tmp_path)
    with pytest.raises(PipelineError, match=r"aclImdb/train/pos/99_9.txt: not valid UTF-8 at byte 3"):
        prepare_text_folders("toy", dataset(), tmp_path / "out")
