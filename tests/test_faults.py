"""The refusals a new user met by hand (issue: what a failed `dvc repro` leaves, the last
tracebacks): each is one line naming the file, key or option, with a non-zero exit."""

from __future__ import annotations

import io
import signal
import subprocess
import sys
import tarfile
import time
from pathlib import Path

import pytest
import yaml

from stages import preprocess
from stages.io import PipelineError, exit_on_error, read_json
from stages.params import load_params, parse_params
from stages.series import ScalingFile
from stages.tasks import classify
from stages.text import Vocabulary
from tests.conftest import ROOT
from tests.test_errors import stopped


@pytest.mark.parametrize(
    ("path", "read", "message"),
    [
        ("models/airline-stateful/scaler.json", lambda path: read_json(path, ScalingFile), "maximum: field required"),
        ("models/bbc-bilstm/vocabulary.json", Vocabulary.load, "words: field required"),
        ("models/bbc-bilstm/labels.json", lambda path: read_json(path, classify.LABELS), "list should have at least 2 items"),
    ],
)
def test_a_model_file_of_the_wrong_shape_is_named_with_its_restore_command(workdir: Path, path: str, read, message: str):
    (workdir / path).parent.mkdir(parents=True)
    (workdir / path).write_text('{"minimum": 1}' if "scaler" in path else "{}" if "vocabulary" in path else "[]")
    folder, name = str(Path(path).parent), Path(path).parent.name
    with pytest.raises(PipelineError) as refused:
        read(Path(path))
    assert str(refused.value).startswith(f"{path}: {message}")
    assert str(refused.value).endswith(f"; run: dvc checkout --force {folder} or dvc repro train@{name}")


def test_a_text_over_the_csv_modules_limit_is_read(tmp_path: Path):
    long_text = "word " * 40_000  # 200 KB, over the csv module's 128 KiB default
    path = tmp_path / "texts.csv"
    path.write_text(f'text,label\n"{long_text}",a\nshort,b\n')
    frame = preprocess.read_table(path, ",", True)
    assert frame["text"].str.len().tolist() == [len(long_text), 5]


def test_an_archive_member_past_the_bound_is_refused_before_it_is_read(tmp_path: Path, monkeypatch):
    monkeypatch.setattr(preprocess, "MAX_MEMBER", 1000)
    path = tmp_path / "reviews.tar.gz"
    with tarfile.open(path, "w:gz") as archive:
        data = b"x" * 5000
        member = tarfile.TarInfo("aclImdb/train/pos/0_1.txt")
        member.size = len(data)
        archive.addfile(member, io.BytesIO(data))
    dataset = load_params(ROOT / "params.yaml").dataset("imdb")
    with pytest.raises(PipelineError, match=r"aclImdb/train/pos/0_1\.txt: 5,000 bytes, over the bound of 1,000 on one text$"):
        preprocess.read_text_folders(path, dataset)


@pytest.mark.parametrize("name", ["../esc", "a/b", "-x", "ok name"])
def test_a_name_that_is_not_a_plain_word_is_refused(name: str):
    data = yaml.safe_load((ROOT / "params.yaml").read_text())
    data["experiments"][name] = data["experiments"]["airline-window"]
    with pytest.raises(PipelineError, match=r"^experiments\..*: a name is letters, digits and dashes"):
        parse_params(data)


def test_sigterm_says_terminated_exits_143_and_names_the_restore_command_under_dvc(tmp_path: Path):
    script = "import time\nfrom stages.io import exit_on_error\nexit_on_error(lambda: time.sleep(60))()\n"
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "DVC_STAGE": "train@airline-window"}
    process = subprocess.Popen([sys.executable, "-c", script], cwd=tmp_path, env=env, stderr=subprocess.PIPE, text=True)
    time.sleep(2)
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=30)
    assert process.returncode == 143
    assert err.splitlines() == ["terminated", "the last good outputs of train@airline-window: dvc checkout train@airline-window"]


def test_texts_on_stdin_that_are_not_utf8_are_refused(monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO("caf\xe9\n".encode("latin-1"))))
    with pytest.raises(PipelineError, match=r"^stdin: not valid UTF-8 at byte 3; save the texts as UTF-8$"):
        classify.read_lines(None)


def test_a_plot_into_a_missing_folder_is_refused(capsys, tmp_path: Path):
    from stages.tasks import forecast

    options = type("Options", (), {"plot": str(tmp_path / "no" / "such" / "x.png")})()
    main = exit_on_error(lambda: forecast.predict("airline-window", None, None, options, None))
    assert stopped(capsys, main) == f"error: --plot: the folder {tmp_path / 'no' / 'such'} does not exist"
    assert not (tmp_path / "no").exists()


def test_output_into_a_closed_pipe_ends_silently():
    """`| head` that has read enough: the reader (`true` here, at once) is gone before compare writes."""
    command = f"{sys.executable} -m stages.compare airline-stateful airline-stacked | true; echo ${{PIPESTATUS[0]}}"
    result = subprocess.run(["bash", "-c", command], cwd=ROOT, capture_output=True, text=True)
    assert result.stdout.strip() == "141" and result.stderr == ""
