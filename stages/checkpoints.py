"""Seed models saved to, and loaded from, models/<experiment>/: the same weights always give the
same bytes, so an unchanged model keeps its hash in dvc.lock."""

from __future__ import annotations

import json
import os
import zipfile
from pathlib import Path
from typing import Any

from stages.backend import keras
from stages.io import MODELS_DIR, PipelineError, restore_command


def _number_shared_objects(config: Any, numbers: dict[int, int]) -> Any:
    """Keras names objects shared between layers by their memory address; number them in order instead."""
    if isinstance(config, dict):
        return {
            key: numbers.setdefault(value, len(numbers)) if key == "shared_object_id" else _number_shared_objects(value, numbers)
            for key, value in config.items()
        }
    if isinstance(config, list):
        return [_number_shared_objects(value, numbers) for value in config]
    return config


def save_model(model: keras.Model, path: Path) -> None:
    """Save a .keras archive without its save date, file times and memory addresses."""
    model.save(path)
    unpinned = path.with_name(f".{path.name}.unpinned")
    os.replace(path, unpinned)
    with zipfile.ZipFile(unpinned) as source, zipfile.ZipFile(path, "w") as target:
        for member in source.infolist():
            data = source.read(member)
            if member.filename == "metadata.json":
                data = json.dumps({key: value for key, value in json.loads(data).items() if key != "date_saved"}).encode()
            elif member.filename == "config.json":
                data = json.dumps(_number_shared_objects(json.loads(data), {})).encode()
            target.writestr(zipfile.ZipInfo(member.filename), data, compress_type=member.compress_type)
    unpinned.unlink()


def load_seed_models(name: str, seeds: list[int], suffix: str = "", folder: Path | None = None) -> dict[int, keras.Model]:
    """The models train@<name> saved (into `folder`, default models/<name>), one per seed (`suffix`
    "-cut": the early-stopping runs'), uncompiled: prediction needs no optimizer, and a compiled
    copy would predict with the training `steps_per_execution` (25x slower here)."""
    paths = {seed: (folder or MODELS_DIR / name) / f"seed-{seed}{suffix}.keras" for seed in seeds}
    missing = [str(path) for path in paths.values() if not path.is_file()]
    if missing:
        raise PipelineError(f"{missing[0]}: model not trained yet (run: dvc repro train@{name})")
    return {seed: _load_model(path) for seed, path in paths.items()}


def _load_model(path: Path) -> keras.Model:
    try:
        return keras.models.load_model(path, compile=False)
    except (OSError, ValueError, zipfile.BadZipFile) as error:  # a truncated or empty .keras file
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise PipelineError(f"{path}: cannot load the model ({reason}); {restore_command(Path(path))}") from None
