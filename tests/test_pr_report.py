"""scripts/pr_report.py in a temporary git repository, and the pull-request workflow that calls it."""

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from scripts.pr_report import PROFILE, UNTIMED_STAGE_S, apply_profile, changed_stages, estimated_costs, welch_verdict, within_budget
from tests.conftest import ROOT, run

SCRIPT = ROOT / "scripts" / "pr_report.py"
DVC_YAML = """stages:
  evaluate:
    foreach: [toy]
    do:
      cmd: >-
        python -c "import json, yaml; epochs = yaml.safe_load(open('params.yaml'))['experiments']['toy']['epochs'];
        json.dump({'score': epochs / 10}, open('metrics/toy.json', 'w'))"
      params:
        - experiments.toy
      metrics:
        - metrics/${item}.json:
            cache: false
"""


def commit(repository: Path, epochs: int, score: float, message: str) -> str:
    (repository / "params.yaml").write_text(yaml.safe_dump({"experiments": {"toy": {"epochs": epochs, "seeds": [1, 2]}}}))
    (repository / "metrics" / "toy.json").write_text(json.dumps({"score": score}))
    run(["git", "add", "-A"], repository)
    run(["git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", message], repository)
    return run(["git", "rev-parse", "HEAD"], repository).strip()


@pytest.fixture
def repository(tmp_path: Path) -> Path:
    """Two commits differing in experiments.toy.epochs (2 -> 3) and the committed score (0.2 -> 0.3)."""
    (tmp_path / "metrics").mkdir()
    (tmp_path / ".ci").mkdir()
    (tmp_path / "dvc.yaml").write_text(DVC_YAML)
    (tmp_path / ".ci" / "reduced.yaml").write_text("experiments:\n  epochs: 1\n")
    run(["git", "init", "-q"], tmp_path)
    run(["dvc", "init", "-q"], tmp_path)
    commit(tmp_path, 2, 0.2, "base")
    commit(tmp_path, 3, 0.3, "head")
    return tmp_path


def report(repository: Path, *arguments: str) -> str:
    run([sys.executable, str(SCRIPT), *arguments, "--out", "out"], repository)
    return (repository / "out" / "report.md").read_text()


def section(text: str, title: str) -> str:
    return text.split(f"### {title}")[1].split("###")[0]


def test_committed_report_names_changed_params_and_metrics_with_both_values(repository: Path):
    text = report(repository, "HEAD~1", "HEAD", "--committed")
    params, metrics = section(text, "Params changed"), section(text, "Metrics changed")
    assert re.search(r"\| params.yaml\s*\| experiments.toy.epochs\s*\| 2\s*\| 3\s*\|", params), params
    assert re.search(r"\| metrics/toy.json\s*\| score\s*\| 0.2\s*\| 0.3\s*\| 0.1\s*\|", metrics), metrics
    assert "seeds" not in params


def test_same_revision_says_no_change(repository: Path):
    text = report(repository, "HEAD", "HEAD", "--committed")
    assert section(text, "Params changed").strip() == "no change"
    assert section(text, "Metrics changed").strip() == "no change"


def test_head_at_its_own_settings_against_the_base_committed_results(repository: Path):
    text = report(repository, "HEAD~1", "HEAD")
    assert text.splitlines()[2].startswith("Compared: the head reproduced at each changed experiment's own settings")
    assert "Reduced settings" not in text and "evaluate@toy" in section(text, "Stages run for head")
    metrics = section(text, "Metrics changed")  # base: committed 0.2; head: reproduced with epochs 3
    assert re.search(r"\| metrics/toy.json\s*\| score\s*\| 0.2\s*\| 0.3\s*\| 0.1\s*\|", metrics), metrics


def test_past_the_budget_the_report_says_reduced_at_its_top(repository: Path):
    text = report(repository, "HEAD~1", "HEAD", "--budget-minutes", "0")
    assert text.splitlines()[2].startswith("> **Reduced settings for `toy` (about 1 min): a smoke test, not an answer")
    assert section(text, "Metrics changed").strip() == "no change"  # both sides ran with epochs: 1
    assert "evaluate@toy" in section(text, "Stages run for base, reduced") and "Failed stages" not in text
    assert "`evaluate@toy` (restored from the run-cache)" in section(text, "Stages run for head, reduced")  # the same reduced stage
    assert "### Stages run for head\n" not in text  # nothing ran at its own settings
    assert subprocess.run(["git", "worktree", "list"], cwd=repository, capture_output=True, text=True).stdout.count("\n") == 1
    assert "experiments.toy.epochs" in section(text, "Params changed")  # the revisions' own params
    assert section(text, "Metrics changed").strip() == "no change"  # both ran with epochs: 1
    assert "Stages run for head" in text and "Failed stages" not in text
    assert subprocess.run(["git", "worktree", "list"], cwd=repository, capture_output=True, text=True).stdout.count("\n") == 1


def test_a_revision_reported_once_is_not_reproduced_again(repository: Path):
    first = report(repository, "HEAD~1", "HEAD", "--budget-minutes", "0")
    (repository / "metrics" / "toy.json").write_text("{}")  # the workspace plays no part
    second = report(repository, "HEAD~1", "HEAD", "--budget-minutes", "0")
    assert "evaluate" in section(first, "Stages run for base, reduced")
    for side in ("base", "head"):
        assert "kept from an earlier report" in section(second, f"Stages run for {side}, reduced")
    assert section(second, "Metrics changed") == section(first, "Metrics changed")


def test_profile_reduces_every_experiment_and_every_text_dataset():
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    reduced = apply_profile(yaml.safe_load((ROOT / "params.yaml").read_text()), yaml.safe_load((ROOT / PROFILE).read_text()))
    assert all(experiment["epochs"] == 2 and experiment["seeds"] == [1] for experiment in reduced["experiments"].values())
    for name, dataset in reduced["datasets"].items():
        assert dataset.get("max_texts") == (300 if dataset["kind"] in ("text", "text_folders") else None), name
    assert reduced["experiments"]["airline-stacked"]["network"] == params["experiments"]["airline-stacked"]["network"]


def test_a_failing_head_stage_fails_the_report_and_names_the_stage(repository: Path):
    (repository / "dvc.yaml").write_text(DVC_YAML.replace("json.dump(", "1 / 0 or json.dump("))
    commit(repository, 4, 0.4, "broken head")
    result = subprocess.run([sys.executable, str(SCRIPT), "HEAD~1", "HEAD", "--out", "out"], cwd=repository, capture_output=True, text=True)
    assert result.returncode == 1 and "stages failed at head" in result.stderr
    failed = section((repository / "out" / "report.md").read_text(), "Failed stages (head)")
    assert "evaluate" in failed and "ZeroDivisionError: division by zero" in failed  # which stage, and why


@pytest.mark.parametrize("name", ["pull-request.yml", "pr-comment.yml", "full-run.yml"])
def test_the_workflow_linter_passes_on_ours_and_fails_on_a_broken_copy(name: str, tmp_path: Path):
    lint = ["npx", "--yes", "@action-validator/cli@0.6.0"]
    assert subprocess.run([*lint, str(ROOT / ".github" / "workflows" / name)], capture_output=True).returncode == 0
    broken = tmp_path / name
    broken.write_text((ROOT / ".github" / "workflows" / name).read_text().replace("runs-on:", "run-on:", 1))
    result = subprocess.run([*lint, str(broken)], capture_output=True, text=True)
    assert result.returncode == 1 and "runs-on" in result.stdout + result.stderr


def test_the_budget_runs_the_cheapest_changed_experiments_at_their_own_settings():
    stages = ["preprocess@airline", "train@a", "evaluate@a", "train@b", "evaluate@b", "train@c", "plot"]
    costs = estimated_costs(stages, {"preprocess@airline": 5, "train@a": 80, "evaluate@a": 10, "train@b": 1500, "plot": 20})
    assert costs == {"": 25, "a": 90, "b": 1500 + UNTIMED_STAGE_S, "c": UNTIMED_STAGE_S}
    assert within_budget(costs, 20 * 60) == (["c", "a"], ["b"])
    assert within_budget(costs, 0) == ([], ["c", "a", "b"])


CHAIN = """stages:
  first:
    cmd: python -c "open('a', 'w').write('a')"
    outs: [a]
  second:
    cmd: python -c "open('b', 'w').write(open('a').read() + open('input').read())"
    deps: [a, input]
    outs: [b]
  third:
    cmd: python -c "open('c', 'w').write(open('b').read())"
    deps: [b]
    outs: [c]
"""


def test_changed_is_what_dvc_means_not_what_the_cache_lacks(tmp_path: Path):
    """A changed input reruns its stage and what follows; outputs missing from the cache (a fresh
    runner) change nothing, so they rerun nothing."""
    (tmp_path / "dvc.yaml").write_text(CHAIN)
    (tmp_path / "input").write_text("1")
    run(["git", "init", "-q"], tmp_path)
    run(["dvc", "init", "-q"], tmp_path)
    run(["dvc", "repro", "-q"], tmp_path)
    assert changed_stages(tmp_path) == []
    for name in ("a", "b", "c"):
        (tmp_path / name).unlink()
    run(["dvc", "cache", "dir", "--local", str(tmp_path / "empty-cache")], tmp_path)
    assert changed_stages(tmp_path) == []
    (tmp_path / "input").write_text("2")
    assert changed_stages(tmp_path) == ["second", "third"]


TOY = """import json, os, sys
from pathlib import Path

import yaml

experiments = yaml.safe_load(open("params.yaml"))["experiments"]
if sys.argv[1] == "train":
    scale = experiments[sys.argv[2]]["scale"]
    if scale <= 0:
        sys.exit(f"error: experiments.{sys.argv[2]}.scale: must be > 0")
    Path("models").mkdir(exist_ok=True)
    Path("models", sys.argv[2]).write_text(str(scale * int(Path("numbers.txt").read_text())))
elif sys.argv[1] == "evaluate":
    value = float(Path("models", sys.argv[2]).read_text())
    seeds = [{"test_rmse": value + seed * seed} for seed in (1, 2, 3)]
    Path("reports", sys.argv[2]).mkdir(parents=True, exist_ok=True)
    Path("reports", sys.argv[2], "seeds.json").write_text(json.dumps(seeds))
    json.dump({"test_rmse": sum(row["test_rmse"] for row in seeds) / 3}, open(f"metrics/{sys.argv[2]}.json", "w"))
else:
    Path("plots/figures").mkdir(parents=True, exist_ok=True)
    for seeds in Path("reports").glob("*/seeds.json"):
        Path("plots/figures", seeds.parent.name + "-learning.png").write_text(seeds.read_text())
"""
PIPELINE = """stages:
  download:
    cmd: python -c "import os, shutil; shutil.copy(os.path.join(os.environ['DATA_MIRROR'], 'numbers.txt'), 'numbers.txt')"
    outs: [numbers.txt]
  train:
    foreach: ${experiments}
    do:
      cmd: python toy.py train ${key}
      deps: [numbers.txt, toy.py]
      params:
        - experiments.${key}
      outs:
        - models/${key}
  evaluate:
    foreach: ${experiments}
    do:
      cmd: python toy.py evaluate ${key}
      deps:
        - models/${key}
        - toy.py
      params:
        - experiments.${key}
      outs:
        - reports/${key}
      metrics:
        - metrics/${key}.json:
            cache: false
  plot:
    cmd: python toy.py plot
    deps: [metrics, reports]
"""


def set_scale(repository: Path, name: str, scale: int, message: str) -> None:
    params = yaml.safe_load((repository / "params.yaml").read_text())
    params["experiments"][name]["scale"] = scale
    (repository / "params.yaml").write_text(yaml.safe_dump(params))
    run(["git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-am", message], repository)


@pytest.fixture
def fresh_clone(tmp_path: Path) -> Path:
    """A pipeline of two experiments whose base commit holds a real run's dvc.lock and metrics, seen
    as a fresh runner sees it: no DVC cache, no outputs; its data in ../mirror, given relatively."""
    (tmp_path / "mirror").mkdir()
    (tmp_path / "mirror" / "numbers.txt").write_text("10")
    repository = tmp_path / "clone"
    (repository / "metrics").mkdir(parents=True)
    (repository / "dvc.yaml").write_text(PIPELINE)
    (repository / "toy.py").write_text(TOY)
    (repository / "README.md").write_text("a toy\n")
    (repository / "params.yaml").write_text(
        yaml.safe_dump({"experiments": {name: {"task": "forecast", "scale": 1} for name in ("toy", "other")}})
    )
    run(["git", "init", "-q"], repository)
    run(["dvc", "init", "-q"], repository)
    run(["dvc", "repro", "-q", "evaluate"], repository, env={**os.environ, "DATA_MIRROR": str(tmp_path / "mirror")})
    run(["git", "add", "-A"], repository)
    run(["git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "base"], repository)
    run(["git", "tag", "base"], repository)
    for output in ("numbers.txt", "models", "reports", ".dvc/cache"):
        shutil.rmtree(repository / output) if (repository / output).is_dir() else (repository / output).unlink()
    return repository


def cold_report(repository: Path) -> tuple[subprocess.CompletedProcess, str]:
    env = {**os.environ, "DATA_MIRROR": "../mirror"}
    result = subprocess.run([sys.executable, str(SCRIPT), "base", "--out", "out"], cwd=repository, env=env, capture_output=True, text=True)
    return result, (repository / "out" / "report.md").read_text()


def test_a_fresh_runner_reruns_only_the_changed_experiment_with_a_relative_mirror(fresh_clone: Path):
    set_scale(fresh_clone, "toy", 2, "toy scale 2")
    result, text = cold_report(fresh_clone)
    assert result.returncode == 0, result.stderr[-2000:]
    row = next(line for line in text.splitlines() if line.startswith("| `toy`"))
    assert "| own settings |" in row and "| 11, 14, 19 / 21, 24, 29 |" in row, row  # base rerun from scratch, head at scale 2
    assert "unchanged: 1 experiment, same inputs as the base" in text
    assert "`other`" not in text and "train@other" not in text and "missing on a side" not in text and "Reduced" not in text
    assert (fresh_clone / "out" / "figures" / "head-toy-learning.png").read_text() == json.dumps(
        [{"test_rmse": value} for value in (21.0, 24.0, 29.0)]
    )


def test_an_experiment_new_at_head_is_run_there_and_said_to_be_new(fresh_clone: Path):
    params = yaml.safe_load((fresh_clone / "params.yaml").read_text())
    params["experiments"]["third"] = {"task": "forecast", "scale": 3}
    (fresh_clone / "params.yaml").write_text(yaml.safe_dump(params))
    run(["git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-am", "a third experiment"], fresh_clone)
    result, text = cold_report(fresh_clone)
    assert result.returncode == 0, result.stderr[-2000:]
    row = next(line for line in text.splitlines() if line.startswith("| `third`"))
    assert "| new at head | 34.67 ± 4 | - / 31, 34, 39 | new at head: nothing to compare |" in row, row
    assert "unchanged: 2 experiments" in text and "Failed stages" not in text


def test_a_change_no_stage_depends_on_reruns_nothing(fresh_clone: Path):
    (fresh_clone / "README.md").write_text("a toy, told better\n")
    run(["git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-am", "readme"], fresh_clone)
    result, text = cold_report(fresh_clone)
    assert result.returncode == 0, result.stderr[-2000:]
    assert text.splitlines()[2].startswith("Nothing to rerun") and "unchanged: 2 experiments" in text
    assert "Stages run" not in text and not (fresh_clone / "out" / "figures").exists()


def test_a_failed_head_never_shows_the_base_figures_as_the_heads(fresh_clone: Path):
    set_scale(fresh_clone, "toy", 0, "an impossible scale")
    result, text = cold_report(fresh_clone)
    assert result.returncode == 1 and "stages failed at head" in result.stderr
    assert text.splitlines()[2].startswith("> **Head failed for `toy` (`train@toy`)")
    row = next(line for line in text.splitlines() if line.startswith("| `toy`"))
    assert "| head failed: `train@toy` |" in row and "| 11, 14, 19 / - |" in row, row
    assert "error: experiments.toy.scale: must be > 0" in section(text, "Failed stages (head)")
    assert not (fresh_clone / "out" / "figures" / "head-toy-learning.png").exists()


# Five seeds shaped like airline-stacked's test RMSE at units [4, 4] and [8, 4] (issue 32: 62.09 ± 6.96 ->
# 92.39 ± 51.72, one seed diverging): these are 62.09 ± 7.02 -> 92.39 ± 52.92.
STACKED = [53.0, 58.0, 62.0, 66.5, 70.95]
WIDER = [65.0, 68.0, 70.0, 72.0, 186.95]


def test_the_verdict_is_welchs_test_over_the_seeds():
    assert welch_verdict(STACKED, WIDER, "lower").startswith("no clear difference (Welch's t-test p = 0.2")
    assert welch_verdict(STACKED, [value - 20 for value in STACKED], "lower").startswith("better")
    assert welch_verdict(STACKED, [value + 20 for value in STACKED], "lower").startswith("worse")
    assert welch_verdict([0.87, 0.88, 0.86], [0.90, 0.91, 0.905], "higher").startswith("better")
    assert welch_verdict([151.8], [121.4], "lower") == "no clear difference (one seed on a side: its spread was not measured)"
