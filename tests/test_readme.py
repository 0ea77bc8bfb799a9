"""README.md's commands run as written, so a README that drifts from the code fails here.

Commands whose comment says `long` (installs, the full run, Kaggle downloads, the test suite,
commands that need other experiments trained) are skipped. The others run in order, in a copy
of this checkout committed to a fresh git repository, with the data mirror, on the reduced
settings of .ci/reduced.yaml (2 epochs, one seed): the quick start trains in seconds instead of
minutes, and what is checked is that every command works, not its figures."""

import os
import re
import subprocess
import textwrap
from pathlib import Path

import pytest
import yaml

from scripts.pr_report import PROFILE
from tests.conftest import ROOT, mirror_path, reduced_clone

README = ROOT / "README.md"
OWN_DATA = ROOT / "docs" / "own-data.md"


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
        if command.startswith("dvc exp show --only-changed --drop"):  # "each run's test RMSE and changed param": no file hashes
            columns = next(line for line in result.stdout.splitlines() if "Experiment" in line).split()[1:]
            assert "experiments.airline-stacked.epochs" in columns and "metrics/airline-stacked.json:test_rmse" in columns, columns
            assert all(column.startswith(("metrics/", "experiments.")) for column in columns), columns


def test_own_data_walkthroughs_run_as_written(project: Path):
    """docs/own-data.md, which the README's own-data section points to, as a user follows it:
    each bash block run as one script, each YAML entry pasted under the section its first line
    names (then reduced by .ci/reduced.yaml, as the rest of this clone), and every checksum the
    page quotes is the one `sha256sum` prints."""
    environment = os.environ | {"DATA_MIRROR": str(mirror_path())}
    blocks = re.findall(r"```(bash|yaml)\n(.*?)```", OWN_DATA.read_text(encoding="utf-8"), flags=re.DOTALL)
    assert [language for language, _ in blocks].count("yaml") == 7
    for language, block in blocks:
        if language == "yaml":
            section = re.search(r"# under (datasets|dataset_variants|experiments):", block).group(1)
            (name, entry), *_ = yaml.safe_load(textwrap.dedent(block)).items()
            params = yaml.safe_load((project / "params.yaml").read_text())
            profile = yaml.safe_load((ROOT / PROFILE).read_text())
            reduced = profile["experiments"] if section == "experiments" else profile["datasets"].get(entry["kind"], {})
            params[section][name] = entry | reduced
            (project / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
            continue
        result = subprocess.run(["bash", "-e", "-c", block], cwd=project, env=environment, capture_output=True, text=True)
        assert result.returncode == 0, f"docs/own-data.md block failed:\n{block}\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}"
        for digest, path in re.findall(r"^([0-9a-f]{64})  (\S+)$", result.stdout, flags=re.MULTILINE):
            assert re.search(rf"sha256sum {re.escape(path)}\s+# {digest}", block), (path, digest)


def test_a_partial_plot_run_keeps_every_figure_of_the_experiments_not_run_here(project: Path):
    """The clone holds the committed figures of every experiment and the outputs of the few the
    README ran: `dvc repro -s plot` redraws the charts it can, keeps the rest, deletes none, and
    touches no experiment's own figures (those are each evaluate stage's)."""
    before = {path: path.read_bytes() for path in (project / "plots").rglob("*.png")}
    result = subprocess.run(["dvc", "repro", "-s", "plot"], cwd=project, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert re.search(r"plot: kept \d+ figure\(s\) as they were, the outputs of \d+ experiment\(s\) are not here", result.stdout)
    after = {path: path.read_bytes() for path in (project / "plots").rglob("*.png")}
    assert set(before) <= set(after), sorted(str(path) for path in set(before) - set(after))[:5]
    own = [path for path in before if path.parent.parent.name == "figures"]
    assert all(after[path] == before[path] for path in own)
