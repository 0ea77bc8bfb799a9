"""The task module of an experiment by the name params.yaml gives it (`task:`), for train and evaluate."""

from __future__ import annotations

import importlib
from types import ModuleType


def task_module(task: str) -> ModuleType:
    """Imported by name, so a stage runs (and dvc.yaml makes it depend on) its own task's module only."""
    return importlib.import_module(f"stages.{task}")
