"""README.md's commands run as written, so a README that drifts from the code fails here.

Commands whose comment says `long` (installs, the full run, Kaggle downloads, the test suite,
commands that need other experiments trained) are skipped. The others run in order, in a copy
of this checkout committed to a fresh git repository, with the data mirror, on the reduced
settings of ci/reduced.yaml (2 epochs, one seed): the quick start trains in seconds instead of
minutes, and what is checked is that every command works, not its figures."""

import os
import re
import subprocess
from pathlib import Path

import pytest

from tests.conftest import ROOT, mirror_path, reduced_clone

README = ROOT / "README.md"


def readme_commands() -> list[str]:
    blocks = re.findall(r"```bash\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.DOTALL)
    lines = [line.strip() for block in blocks for line in block.splitlines()]
    return [line for line in lines if line and not line.startswith("#")]


def is_long(command: str) -> bool:
    return re.search(r"#\s*long\b", command) is not None


def test_every_command_is_either_run_or_marked_long():
    commands = readme_commands()
    assert any(command.startswith("dvc repro evaluate@airline-stateful") for command in commands)
    assert sum(not is_long(command) for command in commands) >= 12, commands


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if mirror_path() is None:
        pytest.skip("no data mirror: set DATA_MIRROR or place the mirror at ../shared/data")
    return reduced_clone(tmp_path_factory.mktemp("readme"))


def test_readme_commands_run_as_written(project: Path):
    environment = os.environ | {"DATA_MIRROR": str(mirror_path())}
    for command in readme_commands():
        if is_long(command):
            continue
        result = subprocess.run(["bash", "-c", command], cwd=project, env=environment, capture_output=True, text=True)
        assert result.returncode == 0, f"README command failed: {command}\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}"
