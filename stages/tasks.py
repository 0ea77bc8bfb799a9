"""The task modules by the name params.yaml gives them (`task:`), for train and evaluate."""

from __future__ import annotations

from types import ModuleType

from stages import classify, forecast, generate

TASKS: dict[str, ModuleType] = {"forecast": forecast, "classify": classify, "generate": generate}
