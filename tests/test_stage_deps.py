"""Each stage's deps in dvc.yaml hold every project module its command runs: imported directly,
through another module or inside a function, and the task modules `stages.tasks` imports by name:
an experiment's stages run its own task's, plot runs every task's.
Otherwise a code change leaves `dvc status` clean and the committed results stale."""

from __future__ import annotations

import ast
import shlex
import shutil
import subprocess
from pathlib import Path

import yaml

from tests.conftest import ROOT


def module_file(root: Path, name: str) -> Path | None:
    path = root.joinpath(*name.split("."))
    for candidate in (path.with_suffix(".py"), path / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def imported_modules(root: Path, path: Path) -> set[str]:
    """The project modules `path` imports anywhere in its body."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names |= {node.module} | {f"{node.module}.{alias.name}" for alias in node.names}
    return {name for name in names if module_file(root, name) is not None}


def import_closure(root: Path, entries: set[str]) -> set[str]:
    """Every project module file that importing `entries` runs, packages' __init__ included."""
    seen, pending = set(), list(entries)
    while pending:
        name = pending.pop()
        if name in seen:
            continue
        seen.add(name)
        pending += imported_modules(root, module_file(root, name))
        if "." in name:
            pending.append(name.rpartition(".")[0])
    return {module_file(root, name).relative_to(root).as_posix() for name in seen}


def missing_deps(root: Path) -> list[str]:
    """`<stage>: <module>` for each module a stage's command runs that its deps lack."""
    from dvc.repo import Repo

    params = yaml.safe_load((root / "params.yaml").read_text(encoding="utf-8"))
    missing = []
    with Repo(str(root)) as repo:
        for stage in repo.index.stages:
            words = shlex.split(stage.cmd)
            entries = {words[words.index("-m") + 1]}
            experiment = params["experiments"].get(words[-1])
            closure = import_closure(root, entries)
            if experiment is not None:  # task(): the experiment's own task module, by name
                closure |= import_closure(root, {f"stages.tasks.{experiment['task']}"})
            elif stage.name == "plot":
                closure |= import_closure(root, {f"stages.tasks.{path.stem}" for path in (root / "stages" / "tasks").glob("[!_]*.py")})
            deps = {Path(dep.def_path).as_posix() for dep in stage.deps}
            deps |= {module for module in closure for dep in list(deps) if module.startswith(f"{dep}/")}  # a folder dep
            missing += [f"{stage.name}: {module}" for module in sorted(closure - deps)]
    return missing


def test_every_stage_depends_on_every_module_it_runs():
    assert missing_deps(ROOT) == []


def test_a_missing_module_is_named(tmp_path: Path):
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    for name in ("params.yaml", "dvc.yaml", ".dvc/config"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / name, tmp_path / name)
    shutil.copytree(ROOT / "stages", tmp_path / "stages")
    dvc_yaml = (tmp_path / "dvc.yaml").read_text(encoding="utf-8")
    train = dvc_yaml.index("  train:")
    (tmp_path / "dvc.yaml").write_text(dvc_yaml[:train] + dvc_yaml[train:].replace("        - stages/params.py\n", "", 1))
    assert "train@airline-regression: stages/params.py" in missing_deps(tmp_path)
