"""Every bad input and fault of issue 33 is one `error: ...` line and a non-zero exit, never a
traceback, and never a partly written output."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from stages import predict
from stages.io import exit_on_error, replace_directory
from tests.conftest import ROOT


def stopped(capsys: pytest.CaptureFixture, run, code: int = 1) -> str:
    """The message of a stage that stopped: exactly one line, no traceback, exit status `code`
    (`sys.exit("error: ...")` exits 1 with the message as its code)."""
    with pytest.raises(SystemExit) as exit_info:
        run()
    status = exit_info.value.code
    message = status if isinstance(status, str) else capsys.readouterr().err.strip()
    assert (1 if isinstance(status, str) else status) == code
    assert "Traceback" not in message and len(message.splitlines()) == 1, message
    return message


@pytest.fixture
def project(workdir: Path) -> Path:
    """The project's params.yaml in a scratch folder with a .dvc/tmp staging area."""
    shutil.copy(ROOT / "params.yaml", workdir / "params.yaml")
    (workdir / ".dvc" / "tmp").mkdir(parents=True)
    return workdir


def raising(error: BaseException):
    @exit_on_error
    def main() -> None:
        raise error

    return main


@pytest.mark.parametrize(
    ("error", "message"),
    [
        (PermissionError(13, "Permission denied", "metrics/x.json"), "error: metrics/x.json: Permission denied"),
        (OSError(28, "No space left on device", "models/x/seed-1.keras"), "error: models/x/seed-1.keras: No space left on device"),
    ],
)
def test_os_errors_name_the_file(capsys, error: OSError, message: str):
    assert stopped(capsys, raising(error)) == message


def test_ctrl_c_says_interrupted_exits_130_and_cleans_staging(capsys, project: Path):
    replace_directory("models/x", lambda folder: (folder / "seed-1.keras").write_text("good"))

    def fill(folder: Path) -> None:
        (folder / "seed-1.keras").write_text("half")
        raise KeyboardInterrupt

    assert stopped(capsys, exit_on_error(lambda: replace_directory("models/x", fill)), code=130) == "interrupted"
    assert (project / "models" / "x" / "seed-1.keras").read_text() == "good"
    assert list((project / ".dvc" / "tmp" / "staging").iterdir()) == []


def test_resource_exhausted_is_one_line_without_importing_tensorflow(capsys):
    exhausted = type("ResourceExhaustedError", (Exception,), {"__module__": "tensorflow.python.framework.errors_impl"})
    message = stopped(capsys, raising(exhausted("OOM when allocating tensor with shape[400000,100000]\n more")))
    assert message.startswith("error: out of memory: OOM when allocating tensor with shape[400000,100000]; lower units")


def test_debug_environment_variable_shows_the_traceback(monkeypatch):
    monkeypatch.setenv("LSTM_DEBUG", "1")
    with pytest.raises(PermissionError):
        raising(PermissionError(13, "Permission denied", "metrics/x.json"))()


def write_scaler(project: Path, text: str) -> None:
    folder = project / "models" / "airline-window"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "scaler.json").write_text(text)


def test_predict_before_training_names_the_missing_file(capsys, project: Path):
    message = stopped(capsys, lambda: predict.main(["airline-window"]))
    assert message == "error: models/airline-window/scaler.json: No such file or directory"


def test_broken_scaler_json_names_the_file_and_where(capsys, project: Path):
    write_scaler(project, '{"minimum": 1,')
    message = stopped(capsys, lambda: predict.main(["airline-window"]))
    assert message.startswith("error: models/airline-window/scaler.json: not valid JSON (Expecting property name")
    assert "line 1 column 15" in message


def test_truncated_keras_file_is_one_line(capsys, project: Path):
    write_scaler(project, '{"minimum": 1, "maximum": 2, "log": false, "difference": 0, "training_windows": 10}')
    for seed in range(1, 6):
        (project / "models" / "airline-window" / f"seed-{seed}.keras").write_bytes(b"")
    message = stopped(capsys, lambda: predict.main(["airline-window", "--values", "1,2,3"]))
    assert message.startswith("error: cannot load a model: File not found: filepath=models/airline-window/seed-1.keras")
    assert message.endswith("(run: dvc checkout, or dvc repro train@<experiment>)")
