"""No experiment is named in code or dvc.yaml: plots, figures and RESULTS.md take every experiment
from params.yaml, so one added by params alone is in every plot and table of its task."""

from __future__ import annotations

import ast
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

import stages.evaluate
import stages.figures
import stages.plot
from scripts.dvc_sections import definitions, with_section
from scripts.results import results_markdown
from stages.metrics import mean_and_spread
from stages.params import load_params, parse_params
from tests.conftest import ROOT

NEW = "bbc-added"


def test_dvc_yaml_plots_are_what_params_give():
    text = (ROOT / "dvc.yaml").read_text(encoding="utf-8")
    assert with_section(text, load_params(ROOT / "params.yaml")) == text, "run: python -m scripts.dvc_sections"


def _strings_in_code(path: Path) -> set[str]:
    """The string constants of a module, docstrings (usage examples) left out."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef) and node.body and isinstance(node.body[0], ast.Expr)
    }
    return {
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings
    }


def test_no_experiment_is_named_in_code_or_dvc_yaml():
    params = load_params(ROOT / "params.yaml")
    dvc_yaml = yaml.safe_load((ROOT / "dvc.yaml").read_text(encoding="utf-8"))
    generated = definitions(params)
    hand_written = {"stages": dvc_yaml["stages"], "plots": [plot for plot in dvc_yaml["plots"] if plot not in generated]}
    texts = {"dvc.yaml outside the generated plots": json.dumps(hand_written)}
    for path in [*(ROOT / "stages").glob("*.py"), *(ROOT / "scripts").glob("*.py")]:
        texts[str(path.relative_to(ROOT))] = "\n".join(_strings_in_code(path))
    named = [(where, name) for name in params.experiments for where, text in texts.items() if name in text]
    assert not named


@pytest.fixture
def scratch(tmp_path, monkeypatch):
    """A copy of the project's params, dvc.yaml and metrics folder with one classify experiment
    added by params only, its metrics and plot tables faked from an existing classifier's."""
    data = yaml.safe_load((ROOT / "params.yaml").read_text(encoding="utf-8"))
    data["experiments"][NEW] = data["experiments"]["bbc-bilstm"] | {"description": "added by params only", "write_up": None}
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    shutil.copy(ROOT / "dvc.yaml", tmp_path / "dvc.yaml")
    (tmp_path / "metrics").mkdir()
    shutil.copy(ROOT / "metrics" / "bbc-bilstm.json", tmp_path / "metrics" / f"{NEW}.json")
    for folder in ("learning", "classify"):
        (tmp_path / "plots" / folder).mkdir(parents=True)
    curves = "epoch,loss,val_loss,accuracy,val_accuracy,loss_seed1,val_loss_seed1,accuracy_seed1,val_accuracy_seed1\n"
    (tmp_path / "plots" / "learning" / f"{NEW}.csv").write_text(
        curves + "1,0.9,1.0,0.5,0.4,0.9,1.0,0.5,0.4\n2,0.5,0.6,0.7,0.6,0.5,0.6,0.7,0.6\n"
    )
    (tmp_path / "plots" / "classify" / f"{NEW}.csv").write_text("actual,predicted,count\na,a,3\na,b,1\nb,a,0\nb,b,4\n")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_an_experiment_added_by_params_alone_is_in_every_plot_and_table_of_its_task(scratch, monkeypatch):
    params = parse_params(yaml.safe_load((scratch / "params.yaml").read_text(encoding="utf-8")))
    plots = {plot_id: props for plot in definitions(params) for plot_id, props in plot.items()}
    for plot_id in ("classifier-loss", "classifier-accuracy"):
        assert f"plots/learning/{NEW}.csv" in plots[plot_id]["y"]

    accuracy = mean_and_spread(json.loads((scratch / "metrics" / f"{NEW}.json").read_text(encoding="utf-8")), "accuracy", 4)
    assert f"| `{NEW}` | added by params only | 3 | - | {accuracy} |" in results_markdown(scratch)

    summaries = {}
    monkeypatch.setattr(
        stages.figures, "plot_bars_with_baselines", lambda metrics, *args, **kwargs: summaries.setdefault(args[-1].name, list(metrics))
    )
    figures = scratch / "figures"
    figures.mkdir()
    stages.plot.draw_figures(figures)
    assert summaries == {"accuracy-by-experiment.png": [NEW]}
    own = scratch / "own"
    own.mkdir()
    experiment = params.experiments[NEW]
    stages.evaluate.draw_figures(NEW, experiment, params.dataset(experiment.dataset), own)
    assert {path.name for path in own.iterdir()} == {f"{NEW}-learning.png", f"{NEW}-confusion.png"}


def test_dvc_plots_show_draws_the_added_experiment(scratch):
    """The generated section, rewritten for the scratch params, is read by DVC itself."""
    dvc_yaml = scratch / "dvc.yaml"
    dvc_yaml.write_text(with_section(dvc_yaml.read_text(encoding="utf-8"), load_params(scratch / "params.yaml")), encoding="utf-8")
    subprocess.run(["git", "init", "-q"], cwd=scratch, check=True)
    subprocess.run([sys.executable, "-m", "dvc", "init", "-q"], cwd=scratch, check=True)
    shown = subprocess.run(
        [sys.executable, "-m", "dvc", "plots", "show", "--json", "classifier-loss", "classifier-accuracy"],
        cwd=scratch,
        capture_output=True,
        text=True,
        check=True,
    )
    data = json.loads(shown.stdout)["data"]
    for plot_id, columns in (("classifier-loss", ("loss", "val_loss")), ("classifier-accuracy", ("accuracy", "val_accuracy"))):
        series = {row["filename::field"] for row in data[plot_id][0]["content"]["data"]["values"]}
        assert series == {f"{NEW}.csv::{column}" for column in columns}
