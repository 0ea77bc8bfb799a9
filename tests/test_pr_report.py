"""scripts/pr_report.py in a temporary git repository, and the pull-request workflow that calls it."""

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from scripts.pr_report import PROFILE, UNTIMED_STAGE_S, apply_profile, estimated_costs, stages_to_run, welch_verdict, within_budget
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
    (tmp_path / "ci").mkdir()
    (tmp_path / "dvc.yaml").write_text(DVC_YAML)
    (tmp_path / "ci" / "reduced.yaml").write_text("experiments:\n  epochs: 1\n")
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
    assert "restored from the DVC cache" in section(text, "Stages run for head, reduced")  # the same reduced stage: run-cache
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
    assert reduced["experiments"]["airline-stacked"]["units"] == params["experiments"]["airline-stacked"]["units"]


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


def test_the_estimate_counts_every_stage_a_repro_would_run(tmp_path: Path):
    """A changed input reruns its stage and what follows; an upstream output missing from the
    cache (a partly warm cache) reruns the whole chain, where `dvc repro --dry` stops short."""
    (tmp_path / "dvc.yaml").write_text(CHAIN)
    (tmp_path / "input").write_text("1")
    run(["git", "init", "-q"], tmp_path)
    run(["dvc", "init", "-q"], tmp_path)
    run(["dvc", "repro", "-q"], tmp_path)
    assert stages_to_run(tmp_path) == []
    (tmp_path / "input").write_text("2")
    assert stages_to_run(tmp_path) == ["second", "third"]
    for name in ("a", "b", "c"):
        (tmp_path / name).unlink()
    run(["dvc", "cache", "dir", "--local", str(tmp_path / "empty-cache")], tmp_path)
    assert sorted(stages_to_run(tmp_path)) == ["first", "second", "third"]
    dry = subprocess.run(["dvc", "repro", "--dry"], cwd=tmp_path, capture_output=True, text=True)
    assert dry.returncode != 0 and "third" not in dry.stdout


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
