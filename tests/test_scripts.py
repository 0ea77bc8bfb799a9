"""Every script and benchmark imports, so one that rots (a helper renamed, a field added) fails
here instead of in the hands of whoever next runs it."""

import importlib.util
from pathlib import Path

import pytest

from tests.conftest import ROOT

MODULES = sorted(path for folder in ("scripts", "benchmarks") for path in (ROOT / folder).glob("*.py"))


@pytest.mark.parametrize("path", MODULES, ids=lambda path: f"{path.parent.name}/{path.name}")
def test_it_imports(path: Path):
    spec = importlib.util.spec_from_file_location(f"{path.parent.name}_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert callable(getattr(module, "main", None)) or path.name == "__init__.py", f"{path.name}: no main()"
