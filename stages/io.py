"""Atomic writes and the one-line error contract shared by every stage."""

from __future__ import annotations

import contextlib
import functools
import glob
import json
import os
import shutil
import signal
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
from pydantic import TypeAdapter, ValidationError

RAW_DIR = Path("data/raw")
PREPARED_DIR = Path("data/prepared")
MODELS_DIR = Path("models")
METRICS_DIR = Path("metrics")
PLOTS_DIR = Path("plots")
LIVE_DIR = Path("dvclive")
BASELINES_FILE = "baselines.json"  # a text split's majority and TF-IDF figures, by preprocess for evaluate

T = TypeVar("T")


class PipelineError(Exception):
    """A problem with the user's data or params: reported as one line, never a traceback."""


def exit_on_error(main: Callable[..., None]) -> Callable[..., None]:
    """The one error boundary of every stage: a known fault becomes `error: ...` on stderr and a
    non-zero exit, never a traceback (Ctrl-C: `interrupted`, 130; SIGTERM: `terminated`, 143).
    Under `dvc repro`, which removed the stage's outputs before running it, a second line names
    the command that brings the last good ones back. With LSTM_DEBUG=1 nothing is caught, so a
    developer sees the traceback."""

    @functools.wraps(main)
    def wrapper(*args: Any, **kwargs: Any) -> None:
        if os.environ.get("LSTM_DEBUG") == "1":
            return main(*args, **kwargs)
        interrupted = []

        def on_interrupt(signum: int, frame: Any) -> None:
            interrupted.append(signum)
            signal.default_int_handler(signum, frame)

        previous = {signum: signal.signal(signum, on_interrupt) for signum in (signal.SIGINT, signal.SIGTERM)}
        try:
            main(*args, **kwargs)
        except KeyboardInterrupt:  # raised through replace_directory's finally, so staging is gone
            stop_interrupted(interrupted)
        except BrokenPipeError:  # the reader of stdout left (`| head`): silent, as `cat | head` is
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error at exit's flush
            sys.exit(141)
        except Exception as error:
            if interrupted:  # Ctrl-C inside TensorFlow's C code can surface as another exception (a SystemError)
                stop_interrupted(interrupted)
            line = error_line(error)
            if line is None:
                raise
            stop(f"error: {line}", 1)
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)

    return wrapper


def stop(line: str, status: int) -> None:
    stage = os.environ.get("DVC_STAGE")
    if stage:
        line += f"\nthe last good outputs of {stage}: dvc checkout {stage}"
    if status == 1:
        sys.exit(line)  # printed by Python as it exits, and the message of the SystemExit
    print(line, file=sys.stderr)
    sys.exit(status)


def stop_interrupted(signals: list[int]) -> None:
    terminated = signal.SIGTERM in signals
    stop("terminated" if terminated else "interrupted", 143 if terminated else 130)


def error_line(error: BaseException) -> str | None:
    """What a known fault says in one line; None for a bug, which keeps its traceback."""
    if isinstance(error, PipelineError):
        return str(error)
    if isinstance(error, OSError):
        where = f"{error.filename}: " if error.filename else ""
        return f"{where}{error.strerror or _first_line(error)}"
    if isinstance(error, json.JSONDecodeError):
        return f"not valid JSON ({error.msg} at line {error.lineno} column {error.colno})"
    tensorflow_oom = any(
        cls.__name__ == "ResourceExhaustedError" and cls.__module__.startswith("tensorflow") for cls in type(error).__mro__
    )
    if tensorflow_oom or str(error).startswith("RESOURCE_EXHAUSTED"):  # XLA's (JAX's) out of memory
        return f"out of memory: {_first_line(error)}; lower units, embedding_dim, max_length, vocab_size or batch_size"
    return None


def _first_line(error: BaseException) -> str:
    lines = str(error).strip().splitlines()
    return lines[0] if lines else type(error).__name__


DVC_SCRATCH = Path(".dvc") / "tmp"


def _staging_area(path: Path) -> tuple[Path, str]:
    """Folder and name prefix for building `path` before it is renamed into place.

    In a DVC project that is DVC's own scratch folder (`.dvc/tmp`, ignored by git and DVC, on
    the same file system), so a killed run leaves nothing beside the outputs; leftovers of
    `path` from such a run are removed here, by the next run that writes it. Elsewhere (a
    plain folder) it is `path`'s own folder.
    """
    if DVC_SCRATCH.is_dir():
        folder, prefix = DVC_SCRATCH / "staging", "." + str(path).replace(os.sep, "~") + "."
    else:
        folder, prefix = path.parent, f".{path.name}."
    folder.mkdir(parents=True, exist_ok=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    for leftover in folder.glob(f"{glob.escape(prefix)}*.tmp"):
        if leftover.is_dir():
            shutil.rmtree(leftover, ignore_errors=True)
        else:
            leftover.unlink(missing_ok=True)
    return folder, prefix


def _temporary_sibling(path: Path) -> Path:
    folder, prefix = _staging_area(path)
    handle, name = tempfile.mkstemp(prefix=prefix, suffix=".tmp", dir=folder)
    os.close(handle)
    return Path(name)


def write_atomic(path: str | Path, write: Callable[[Path], None]) -> None:
    """Call `write(temporary_path)`, then rename over `path`, so readers never see half a file."""
    path = Path(path)
    temporary = _temporary_sibling(path)
    try:
        with _naming(path):
            write(temporary)
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


@contextlib.contextmanager
def _naming(path: Path) -> Iterator[None]:
    """An OS error without a file name (a full disk under a library's writer) named after the output being written."""
    try:
        yield
    except OSError as error:
        if error.filename or error.errno is None:
            raise
        raise OSError(error.errno, error.strerror, str(path)) from error


def write_text(path: str | Path, text: str) -> None:
    write_atomic(path, lambda temporary: temporary.write_text(text, encoding="utf-8"))


def write_json(path: str | Path, data: Any) -> None:
    write_text(path, json.dumps(data, indent=2, sort_keys=True) + "\n")


def read_json(path: str | Path, shape: Any = None) -> Any:
    """A JSON file; a broken one (a cut-off write, a bad merge), or one not of `shape` (a type
    pydantic checks: a model folder's scaler, vocabulary, labels), is named with what is wrong
    and the command that restores it."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        where = f"at line {error.lineno} column {error.colno}"
        raise PipelineError(f"{path}: not valid JSON ({error.msg} {where}); {restore_command(Path(path))}") from None
    if shape is None:
        return data
    try:
        return TypeAdapter(shape).validate_python(data)
    except ValidationError as error:
        first = error.errors()[0]
        field = ".".join(str(part) for part in first["loc"])
        raise PipelineError(f"{path}: {field + ': ' if field else ''}{first['msg'].lower()}; {restore_command(Path(path))}") from None


def restore_command(path: Path) -> str:
    """The command that brings back a file of a model folder or a prepared dataset: `--force`, as
    DVC will not overwrite a file that differs from dvc.lock (a damaged one) without it."""
    parts = path.parts
    if len(parts) > 1 and parts[0] == MODELS_DIR.name:
        return f"run: dvc checkout --force {MODELS_DIR / parts[1]} or dvc repro train@{parts[1]}"
    if len(parts) > 2 and Path(*parts[:2]) == PREPARED_DIR:
        return f"run: dvc checkout --force {PREPARED_DIR / parts[2]} or dvc repro preprocess@{parts[2]}"
    return "run: dvc checkout --force, or dvc repro"


def write_npz(path: str | Path, **arrays: np.ndarray) -> None:
    def write(temporary: Path) -> None:
        with open(temporary, "wb") as handle:
            np.savez(handle, **arrays)

    write_atomic(path, write)


def replace_directory(target: str | Path, fill: Callable[[Path], T]) -> T:
    """Build a directory in the staging area with `fill`, then swap it in; on failure `target` is untouched."""
    target = Path(target)
    folder, prefix = _staging_area(target)
    staging = Path(tempfile.mkdtemp(prefix=prefix, suffix=".tmp", dir=folder))
    old = Path(tempfile.mkdtemp(prefix=prefix, suffix=".old.tmp", dir=folder)) / target.name
    try:
        with _naming(target):
            result = fill(staging)
        os.chmod(staging, 0o755)
        if target.exists():
            os.replace(target, old)
        os.replace(staging, target)
        return result
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        shutil.rmtree(old.parent, ignore_errors=True)
