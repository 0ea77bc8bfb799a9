"""The one registry of tasks: every module in this folder is a task, named by its file, and
params.yaml's `task:` picks one. Train, evaluate, predict, plot, RESULTS.md, dvc.yaml's
generated parts and the PR report ask the task, so a new task is one module here and its
params entries, and nothing else knows a task by name.

A task module imports Keras only inside its functions: params are checked (and the Keras
backend chosen) before Keras loads, and the plot stage reads a task's figures without it."""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any, Protocol, runtime_checkable

import pandas as pd

from stages.io import PipelineError


@dataclass(frozen=True)
class Primary:
    """The figure an experiment is judged by: its metrics key, its name in a sentence, its direction."""

    key: str
    label: str
    lower_is_better: bool


@dataclass(frozen=True)
class Run:
    """An experiment as plot, RESULTS.md and dvc.yaml's generated parts see it: its entry, and
    where it has been evaluated, its metrics and the table behind its task's plot (None where
    only the committed metrics are here)."""

    name: str
    experiment: Any
    dataset: Any
    metrics: dict | None = None
    table: pd.DataFrame | None = None


@runtime_checkable
class Task(Protocol):
    # its experiments' params schema, a pydantic dataclass: at least task, dataset, backend, deterministic, description, write_up
    Experiment: type
    DATASET_KINDS: tuple[str, ...]  # the dataset kinds it reads
    PRIMARY: Primary
    BASELINES: dict[str, str]  # metrics key -> short name, the classical figures beside the network's
    RESULTS_COLUMNS: list[str]

    def train(self, name: str, experiment: Any, folder: Path, live: Path) -> pd.DataFrame: ...
    def evaluate(self, name: str, experiment: Any) -> str: ...
    def add_predict_arguments(self, group: Any) -> None: ...
    def predict(self, name: str, experiment: Any, dataset: Any, options: Any, draw: ModuleType) -> None: ...
    def read_table(self, path: Path) -> pd.DataFrame: ...
    def draw_experiment(self, run: Run, draw: ModuleType, folder: Path) -> None: ...  # evaluate's, beside its learning curves
    def draw_summary(self, runs: list[Run], draw: ModuleType, folder: Path) -> None: ...  # the plot stage's, across experiments
    def dvc_plots(self, runs: list[Run]) -> list[dict]: ...
    def result_cells(self, metrics: dict) -> list[str]: ...


def task_names() -> list[str]:
    return sorted(module.name for module in pkgutil.iter_modules(__path__) if not module.name.startswith("_"))


def task(name: str, key: str = "task") -> Task:
    """The task module `name`; an unknown one stops with one line naming `key`."""
    if name not in task_names():
        raise PipelineError(f"{key}: must be one of {', '.join(task_names())}, got {name!r}")
    module = importlib.import_module(f"{__name__}.{name}")
    if not isinstance(module, Task):
        members = [*Task.__annotations__, *(key for key, value in vars(Task).items() if callable(value) and not key.startswith("_"))]
        missing = [member for member in members if not hasattr(module, member)]
        raise TypeError(f"{module.__file__}: not a task module, lacks {', '.join(sorted(missing))}")
    return module
