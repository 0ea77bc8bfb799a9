"""Atomic writes and the one-line error contract shared by every stage."""

from __future__ import annotations

import functools
import glob
import json
import os
import shutil
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

RAW_DIR = Path("data/raw")
PREPARED_DIR = Path("data/prepared")
MODELS_DIR = Path("models")
METRICS_DIR = Path("metrics")
PLOTS_DIR = Path("plots")

T = TypeVar("T")


class PipelineError(Exception):
    """A problem with the user's data or params: reported as one line, never a traceback."""


def exit_on_error(main: Callable[..., None]) -> Callable[..., None]:
    """Turn a PipelineError into `error: ...` on stderr and exit status 1."""

    @functools.wraps(main)
    def wrapper(*args: Any, **kwargs: Any) -> None:
        try:
            main(*args, **kwargs)
        except PipelineError as error:
            sys.exit(f"error: {error}")

    return wrapper


def _remove_leftovers(path: Path) -> None:
    """Staging files or folders of `path` that a killed run left behind (`.<name>.<random>.tmp`)."""
    for leftover in path.parent.glob(f".{glob.escape(path.name)}.*.tmp"):
        if leftover.is_dir():
            shutil.rmtree(leftover, ignore_errors=True)
        else:
            leftover.unlink(missing_ok=True)


def _temporary_sibling(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    _remove_leftovers(path)
    handle, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(handle)
    return Path(name)


def write_atomic(path: str | Path, write: Callable[[Path], None]) -> None:
    """Call `write(temporary_path)`, then rename over `path`, so readers never see half a file."""
    path = Path(path)
    temporary = _temporary_sibling(path)
    try:
        write(temporary)
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def write_text(path: str | Path, text: str) -> None:
    write_atomic(path, lambda temporary: temporary.write_text(text, encoding="utf-8"))


def write_json(path: str | Path, data: Any) -> None:
    write_text(path, json.dumps(data, indent=2, sort_keys=True) + "\n")


def read_json(path: str | Path) -> Any:
    return json.loads(Path(path).read_text(encoding="utf-8"))


def write_npz(path: str | Path, **arrays: np.ndarray) -> None:
    def write(temporary: Path) -> None:
        with open(temporary, "wb") as handle:
            np.savez(handle, **arrays)

    write_atomic(path, write)


def replace_directory(target: str | Path, fill: Callable[[Path], T]) -> T:
    """Build a directory next to `target` with `fill`, then swap it in; on failure `target` is untouched."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    _remove_leftovers(target)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent))
    old = target.with_name(f".{target.name}.old")
    try:
        result = fill(staging)
        os.chmod(staging, 0o755)
        shutil.rmtree(old, ignore_errors=True)
        if target.exists():
            os.replace(target, old)
        os.replace(staging, target)
        return result
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        shutil.rmtree(old, ignore_errors=True)
