"""The pull-request report: did this change help?

    python scripts/pr_report.py BASE [HEAD] [--out pr-report] [--budget-minutes 20] [--committed]

"Changed" is what DVC means by it: a stage whose command, params or tracked code/data differ from
the base's dvc.lock, and every stage downstream of it (`dvc status` with outputs that are merely
missing from the cache not counted, as `dvc repro --allow-missing` does). An untouched experiment
has the same inputs at both revisions, so its committed metrics are the head's too: it is neither
rerun nor listed, only counted. So a one-experiment change costs that experiment's training on a
fresh runner with no DVC cache, not the whole pipeline.

Each changed experiment is reproduced at its own settings in a temporary git worktree of HEAD (its
data stages run, or come from the DVC cache the worktrees share), and its base in one of BASE
where the cache lacks the base's per-seed figures (reports/<experiment>/seeds.json), after it.
Both sides' figures are then drawn from exactly those outputs and the ones that differ are shown
base beside head. Experiments whose reruns would take longer than the budget, estimated from the
per-stage wall times of the last full run (benchmarks/stage_durations.json, written by
scripts/timed_repro.py), are compared instead on the reduced configuration (.ci/reduced.yaml: few
epochs, one seed) at both revisions, and the report says at its top that for them it is a smoke
test, not an answer.

For each changed experiment the report states the settings compared, every seed's figure at base
and head, mean ± std and a verdict by Welch's t-test on the seeds' figures at the 5 % level
(better / worse / no clear difference; one seed on a side: no clear difference, nothing measured
the spread); then `dvc params diff`, `dvc metrics diff`, the stages that ran and the figures that
changed. A head stage that fails never lends the base's figures to the head: its row says "head
failed", the report opens with it and the script exits 1. Reduced sides are kept under
.dvc/tmp/pr-sides (by commit, reduction and experiments), so the base of a later report reuses
them. With --committed nothing runs: the metrics committed at the two revisions are compared.
A relative DATA_MIRROR is taken from the folder the command was started in.
The GitHub workflow calls this script, so a report can be rehearsed locally.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as `python scripts/pr_report.py`: the task registry
from stages.tasks import task, task_names

PROFILE = Path(".ci/reduced.yaml")
DURATIONS = Path("benchmarks/stage_durations.json")
KEPT_SIDES = Path(".dvc") / "tmp" / "pr-sides"  # per revision, reduction and experiments: metrics/, figures, reports/
KEPT_OUTPUTS = (Path("metrics"), Path("plots") / "figures", Path("plots") / "summary", Path("reports"))
MOST_FIGURES = 6  # changed figures shown as images; the others are listed by name
UNTIMED_STAGE_S = 60.0  # a stage the last full run did not time (a new experiment, a renamed stage)
LEVEL = 0.05  # Welch's t-test: a difference is called only below this p-value


def sh(command: list[str], cwd: Path) -> str:
    """Run a command; on failure exit with one line and the end of its output."""
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True)
    if result.returncode:
        sys.exit(f"error: {' '.join(command)} failed in {cwd}:\n{(result.stdout + result.stderr)[-3000:]}")
    return result.stdout


def apply_profile(params: dict, profile: dict) -> dict:
    """params with the profile's experiment settings on every experiment and its per-kind dataset settings."""
    for experiment in params.get("experiments", {}).values():
        experiment.update(profile.get("experiments", {}))
    for dataset in params.get("datasets", {}).values():
        dataset.update(profile.get("datasets", {}).get(dataset.get("kind"), {}))
    return params


def dvc_cache(repository: Path) -> Path:
    """The repository's DVC cache (`dvc cache dir`: .dvc/cache unless configured elsewhere), which the worktrees share."""
    return Path(sh(["dvc", "cache", "dir"], repository).strip())


def share_cache(worktree: Path, cache: Path) -> None:
    """Use the repository's DVC cache. Nothing is checked out wholesale: a side's outputs are the
    ones its own reproduction made or restored, never another revision's left in place."""
    sh(["dvc", "cache", "dir", "--local", str(cache)], worktree)


def stage_failures(text: str) -> list[str]:
    why = re.compile(r"^(ERROR|error: |\w+(Error|Exception): )")  # DVC's lines, a stage's own one-line error, an exception
    return list(dict.fromkeys(line for line in text.splitlines() if why.match(line)))


def failed_stages(text: str) -> list[str]:
    return list(dict.fromkeys(re.findall(r"failed to reproduce '([^']+)'", text)))


def stages_run(text: str) -> list[str]:
    """The stages a `dvc repro` ran, or restored from DVC's run-cache (marked so)."""
    found = re.findall(r"Running stage '([^']+)'|Stage '([^']+)' is cached - skipping run", text)
    return list(dict.fromkeys(ran or f"{restored} (restored from the run-cache)" for ran, restored in found))


def stage_line(stage: str) -> str:
    name, _, note = stage.partition(" ")
    return f"- `{name}` {note}".rstrip()


def is_change(entry: str | dict) -> bool:
    """One entry of `dvc status --json`: a changed command, params or file is a change; an output
    or upstream output that is only missing here ("deleted", "not in cache") is not."""
    if isinstance(entry, str):  # "changed command", "always changed"
        return True
    return any(isinstance(state, dict) or state not in ("deleted", "not in cache") for paths in entry.values() for state in paths.values())


def changed_stages(worktree: Path) -> list[str]:
    """The stages whose command, params or tracked code/data differ from the worktree's dvc.lock
    (or that it lacks), and every stage downstream of them. Outputs missing from the cache change nothing, so a cold
    cache (a fresh runner) counts the same stages as a warm one."""
    status = json.loads(sh(["dvc", "status", "--json"], worktree) or "{}")
    lock = worktree / "dvc.lock"
    locked = (yaml.safe_load(lock.read_text()) or {}).get("stages", {}) if lock.is_file() else {}
    changed = [stage for stage, entries in status.items() if stage not in locked or any(is_change(entry) for entry in entries)]
    downstream: dict[str, list[str]] = {}
    for upstream, stage in re.findall(r'"([^"]+)" -> "([^"]+)"', sh(["dvc", "dag", "--dot"], worktree)):
        downstream.setdefault(upstream, []).append(stage)
    found, pending = dict.fromkeys(changed), list(changed)
    while pending:
        for following in downstream.get(pending.pop(), []):
            if following not in found:
                found[following] = None
                pending.append(following)
    return list(found)


def experiment_of(stage: str) -> str:
    """The experiment a train or evaluate stage belongs to; "" for the shared stages (data, plot)."""
    kind, _, name = stage.partition("@")
    return name if kind in ("train", "evaluate") else ""


def run_reduced(worktree: Path, cache: Path, profile: dict, experiments: list[str] | None = None) -> tuple[list[str], list[str]]:
    """Reduce the worktree's params and reproduce with the shared cache, `--keep-going`: the
    stages that ran, and for any that failed DVC's error lines and the stage's own (the others
    still run). With `experiments`, only theirs (and the stages they need).

    Most of a reduced stage is TensorFlow's start-up, one core's work, so once the data stages
    are done the experiments run in two `dvc repro --single-item` processes side by side (single
    items, so neither takes the other's locks on shared upstream outputs; DVC serialises their
    dvc.lock updates, and `--wait-for-lock` makes each wait for the other instead of failing)."""
    params_path = worktree / "params.yaml"
    params = apply_profile(yaml.safe_load(params_path.read_text()), profile)
    params_path.write_text(yaml.safe_dump(params, sort_keys=False))
    share_cache(worktree, cache)
    stages = sh(["dvc", "stage", "list", "--name-only"], worktree).split()
    data = [stage for stage in stages if stage.split("@")[0] in ("download", "download-resource", "preprocess", "preprocess-variant")]
    names = list(params.get("experiments", {})) if experiments is None else experiments
    halves = [[f"{stage}@{name}" for name in names[side::2] for stage in ("train", "evaluate")] for side in (0, 1)]
    repro = ["dvc", "--wait-for-lock", "repro", "--keep-going"]
    outputs = [_run([*repro, *data], worktree)] if data else []
    processes = [_start([*repro, "--single-item", *half], worktree) for half in halves if half and set(half) <= set(stages)]
    outputs += [process.communicate()[0] for process in processes]
    outputs.append(_run(repro if experiments is None else [*repro, *[f"evaluate@{name}" for name in names]], worktree))
    text = "\n".join(outputs)
    return stages_run(text), stage_failures(text)


def _start(command: list[str], cwd: Path) -> subprocess.Popen:
    return subprocess.Popen(command, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _run(command: list[str], cwd: Path) -> str:
    return _start(command, cwd).communicate()[0]


def snapshot(repository: Path, revision: str, folder: Path) -> Path:
    sh(["git", "worktree", "add", "--detach", "--force", str(folder), revision], repository)
    return folder


def estimated_costs(stages: list[str], durations: dict[str, float]) -> dict[str, float]:
    """Seconds per experiment (its train and evaluate) and, under "", the shared stages (data, plot)."""
    costs: dict[str, float] = {}
    for stage in stages:
        owner = experiment_of(stage)
        costs[owner] = costs.get(owner, 0.0) + durations.get(stage, UNTIMED_STAGE_S)
    return costs


def within_budget(costs: dict[str, float], budget_s: float) -> tuple[list[str], list[str]]:
    """Experiments to run at their own settings (cheapest first while the budget holds) and the rest."""
    spent, full, reduced = costs.get("", 0.0), [], []
    for name in sorted((name for name in costs if name), key=lambda name: (costs[name], name)):
        if spent + costs[name] <= budget_s:
            full.append(name)
            spent += costs[name]
        else:
            reduced.append(name)
    return full, reduced


def welch_verdict(base: list[float], head: list[float], direction: str) -> str:
    """better / worse / no clear difference, by Welch's t-test on the seeds' figures."""
    if len(base) < 2 or len(head) < 2:
        return "no clear difference (one seed on a side: its spread was not measured)"
    from scipy.stats import ttest_ind

    p_value = float(ttest_ind(head, base, equal_var=False).pvalue)
    if not p_value < LEVEL:
        return f"no clear difference (Welch's t-test p = {p_value:.2f})"
    improved = (sum(head) / len(head) < sum(base) / len(base)) == (direction == "lower")
    return f"{'better' if improved else 'worse'} (Welch's t-test p = {p_value:.3f})"


def seed_figures(worktree: Path, name: str, metric: str) -> list[float]:
    path = worktree / "reports" / name / "seeds.json"
    return [row[metric] for row in json.loads(path.read_text())] if path.is_file() else []


def spread(values: list[float]) -> str:
    if not values:
        return "not recorded"
    if len(values) == 1:
        return f"{values[0]:.4g} (one seed)"
    return f"{statistics.mean(values):.4g} ± {statistics.stdev(values):.2g}"  # the sample std, as stages.metrics reports


def experiment_rows(names: list[str], sides: dict[str, Path], params: dict, how: str, failed: dict[str, dict[str, str]]) -> list[str]:
    """One table row per experiment; `failed[side][name]` names the stage that failed on that side."""
    rows = []
    at_base = (yaml.safe_load((sides["base"] / "params.yaml").read_text()) or {}).get("experiments", {})
    for name in names:
        entry = params.get("experiments", {}).get(name, {})
        if entry.get("task") not in task_names():
            continue
        primary = task(entry["task"]).PRIMARY
        metric, direction = primary.key, "lower" if primary.lower_is_better else "higher"
        base, head = (seed_figures(sides[side], name, metric) for side in ("base", "head"))
        cells = {}
        for side, values in (("base", base), ("head", head)):
            stage = failed.get(side, {}).get(name)
            cells[side] = f"{side} failed: `{stage}`" if stage else spread(values)
        if name not in at_base:
            cells["base"], verdict = "new at head", "new at head: nothing to compare"
        elif any(failed.get(side, {}).get(name) for side in ("base", "head")):
            verdict = "no verdict: a side failed"
        else:
            verdict = welch_verdict(base, head, direction) if base and head else "per-seed figures missing on a side"
        figures = " / ".join(", ".join(f"{value:.4g}" for value in values) or "-" for values in (base, head))
        rows.append(f"| `{name}` | {how} | {metric} ({direction} is better) | {cells['base']} | {cells['head']} | {figures} | {verdict} |")
    return rows


def failures_by_experiment(names: list[str], text: str) -> dict[str, str]:
    """The stage that failed for each experiment of a `dvc repro --keep-going`: its own train or
    evaluate stage, else a shared (data) stage it waited on, when its evaluate stage did not run."""
    failed, ran = failed_stages(text), stages_run(text)
    shared = [stage for stage in failed if not experiment_of(stage)]
    result = {}
    for name in names:
        own = [stage for stage in failed if experiment_of(stage) == name]
        if own or (shared and f"evaluate@{name}" not in (stage.split()[0] for stage in ran)):
            result[name] = (own or shared)[0]
    return result


def commit_side(compare: Path, metrics: Path, dvc_yaml: Path, original_params: str, tag: str) -> None:
    """One commit of the comparison repository: the revision's own params and dvc.yaml, the side's metrics."""
    shutil.rmtree(compare / "metrics", ignore_errors=True)
    if metrics.is_dir():
        shutil.copytree(metrics, compare / "metrics")
    shutil.copy(dvc_yaml, compare / "dvc.yaml")
    (compare / "params.yaml").write_text(original_params)
    sh(["git", "rm", "-r", "-q", "--cached", "--ignore-unmatch", "."], compare)  # re-hash: copies keep old mtimes
    sh(["git", "add", "-A"], compare)
    sh(["git", "-c", "user.name=report", "-c", "user.email=report@localhost", "commit", "-q", "--allow-empty", "-m", tag], compare)
    sh(["git", "tag", tag], compare)


def copy_outputs(source: Path, target: Path) -> None:
    """The outputs a report reads (metrics, figures, per-seed figures), from a worktree or a kept side to another."""
    target.mkdir(parents=True, exist_ok=True)
    for folder in KEPT_OUTPUTS:
        shutil.rmtree(target / folder, ignore_errors=True)
        if (source / folder).is_dir():
            shutil.copytree(source / folder, target / folder)


def keep(worktree: Path, kept: Path) -> None:
    """Keep a side's outputs, whole or not at all (copied beside, then renamed)."""
    partial = kept.with_name(kept.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    copy_outputs(worktree, partial)
    partial.rename(kept)


def diff_section(title: str, markdown: str) -> str:
    """A dvc diff table, or "no change" when it has no rows."""
    rows = [line for line in markdown.strip().splitlines() if line.startswith("|")][2:]
    return f"### {title}\n\n{markdown.strip() if rows else 'no change'}\n"


def reduced_side(repository: Path, revision: str, folder: Path, experiments: list[str]) -> tuple[list[str] | None, list[str]]:
    """The reduced run of `experiments` at `revision` in `folder`, or its outputs kept from an earlier report."""
    profile_text = (repository / PROFILE).read_text()
    key = hashlib.sha256((profile_text + " ".join(experiments)).encode()).hexdigest()[:12]
    kept = repository / KEPT_SIDES / f"{sh(['git', 'rev-parse', revision], repository).strip()}-{key}"
    if kept.is_dir():
        copy_outputs(kept, folder)
        return None, []
    ran, errors = run_reduced(folder, dvc_cache(repository), yaml.safe_load(profile_text), experiments)
    if not errors:
        keep(folder, kept)
    return ran, errors


def own_settings(sides: dict[str, Path], names: list[str]) -> tuple[dict[str, str], dict[str, dict[str, str]]]:
    """Reproduce `names` at their own settings: the head always, then the base where the cache lacks
    its per-seed figures. Returns each side's output and the experiments it failed."""
    targets = [f"evaluate@{name}" for name in names]
    at_base = set(sh(["dvc", "stage", "list", "--name-only"], sides["base"]).split())  # an experiment new at head is not there
    outputs = [f"{stage}@{name}" for name in names for stage in ("train", "evaluate") if f"{stage}@{name}" in at_base]
    subprocess.run(["dvc", "checkout", *outputs], cwd=sides["base"], capture_output=True)  # the base's, where the cache has them
    missing = [name for name in names if not (sides["base"] / "reports" / name / "seeds.json").is_file()]
    base_needed = [f"evaluate@{name}" for name in missing if f"evaluate@{name}" in at_base]
    texts = {"head": _run(["dvc", "repro", "--keep-going", *targets], sides["head"])}
    if base_needed:  # after the head, not beside it: two repros writing the same objects into one cache at once can fail
        texts["base"] = _run(["dvc", "repro", "--keep-going", *base_needed], sides["base"])
    failed = {side: failures_by_experiment(names, text) for side, text in texts.items()}
    for name in failed["head"]:  # no head figures: the base's committed metrics must not stand in for them
        (sides["head"] / "metrics" / f"{name}.json").unlink(missing_ok=True)
    for side, worktree in sides.items():  # the figures of exactly the experiments reproduced here, and the side's own summary
        for entry in (worktree / "plots" / "figures").iterdir() if (worktree / "plots" / "figures").is_dir() else ():
            if not (entry.is_dir() and entry.name in names):  # committed, drawn from other outputs (or the summary, before plots/summary)
                shutil.rmtree(entry) if entry.is_dir() else entry.unlink()
        shutil.rmtree(worktree / "plots" / "summary", ignore_errors=True)  # a chart the plot stage cannot redraw here is left out, not kept
        command = (yaml.safe_load((worktree / "dvc.yaml").read_text()).get("stages") or {}).get("plot", {}).get("cmd")
        drawing = subprocess.run(command, shell=True, cwd=worktree, capture_output=True, text=True) if command else None
        if drawing and drawing.returncode:
            texts[side] = f"{texts.get(side, '')}\nerror: the plot command failed\n{drawing.stdout}{drawing.stderr}"
    return texts, failed


def build_report(repository: Path, base: str, head: str, out: Path, committed: bool, budget_s: float) -> tuple[str, bool]:
    names = {side: sh(["git", "rev-parse", "--short", revision], repository).strip() for side, revision in (("base", base), ("head", head))}
    out.mkdir(parents=True, exist_ok=True)
    cache = dvc_cache(repository)
    rows, ran, errors, failed, compared, reduced, minutes = [], {}, {}, {}, [], [], {}
    with tempfile.TemporaryDirectory() as scratch:
        scratch = Path(scratch)
        sides = {side: snapshot(repository, revision, scratch / side) for side, revision in (("base", base), ("head", head))}
        originals = {side: (sides[side] / "params.yaml").read_text() for side in sides}
        params = yaml.safe_load(originals["head"]) or {}
        metrics = {side: sides[side] / "metrics" for side in sides}
        figures = {side: sides[side] / "plots" for side in sides}
        if not committed:
            for worktree in sides.values():
                share_cache(worktree, cache)
            (sides["head"] / "dvc.lock").unlink(missing_ok=True)  # changed: against the base's lock (none: everything)
            if (sides["base"] / "dvc.lock").is_file():
                shutil.copy(sides["base"] / "dvc.lock", sides["head"] / "dvc.lock")
            would_run = changed_stages(sides["head"])
            compared = list(dict.fromkeys(name for name in map(experiment_of, would_run) if name))
            durations = json.loads((repository / DURATIONS).read_text())["stages"] if (repository / DURATIONS).is_file() else {}
            costs = estimated_costs([stage for stage in would_run if experiment_of(stage)], durations)
            full, reduced = within_budget(costs, budget_s)
            if full:
                texts, failed = own_settings(sides, full)
                for side, text in texts.items():
                    ran[side], errors[side] = stages_run(text), stage_failures(text)
                rows += experiment_rows(full, sides, params, "own settings", failed)
            if reduced:
                smoke = {}
                for side, revision in (("base", base), ("head", head)):
                    smoke[side] = snapshot(repository, revision, scratch / f"reduced-{side}")
                    ran[f"{side}, reduced"], errors[f"{side} (reduced)"] = reduced_side(repository, revision, smoke[side], reduced)
                    for name in reduced:  # the metrics diff shows these experiments' reduced figures on both sides
                        (metrics[side] / f"{name}.json").unlink(missing_ok=True)
                        if (smoke[side] / "metrics" / f"{name}.json").is_file():
                            shutil.copy(smoke[side] / "metrics" / f"{name}.json", metrics[side] / f"{name}.json")
                rows += experiment_rows(reduced, smoke, params, f"reduced (`{PROFILE}`)", {})
            minutes = {name: costs[name] / 60 for name in reduced}
        compare = scratch / "compare"
        compare.mkdir()
        sh(["git", "init", "-q"], compare)
        sh(["dvc", "init", "-q"], compare)
        for side in ("base", "head"):
            commit_side(compare, metrics[side], sides[side] / "dvc.yaml", originals[side], side)
        params_diff = sh(["dvc", "params", "diff", "base", "head", "--md"], compare)
        metrics_diff = sh(["dvc", "metrics", "diff", "base", "head", "--md", "--precision", "4"], compare)
        changed = changed_figures(figures["base"], figures["head"], out)
        for worktree in scratch.iterdir():
            if worktree.name != "compare":
                sh(["git", "worktree", "remove", "--force", str(worktree)], repository)
    lines = [f"## Pipeline report: {names['base']} (base) -> {names['head']} (head)\n"]
    head_failed = failed.get("head", {})
    if head_failed:
        listed = ", ".join(f"`{name}` (`{stage}`)" for name, stage in head_failed.items())
        lines.append(f"> **Head failed for {listed}: no figures for the head; see Failed stages (head).**\n")
    unchanged = len([name for name in params.get("experiments", {}) if name not in compared])
    lines += summary_lines(committed, rows, compared, reduced, minutes, budget_s, unchanged)
    lines += [diff_section("Params changed", params_diff), diff_section("Metrics changed", metrics_diff)]
    for side, stages in ran.items():
        if stages is None:
            listed = f"none: kept from an earlier report (`{KEPT_SIDES}`)"
        else:
            listed = "\n".join(stage_line(stage) for stage in stages) or "none: every output was checked out from the DVC cache"
        lines.append(f"### Stages run for {side}\n\n{listed}\n")
    for side, messages in errors.items():
        if messages:
            lines += [f"### Failed stages ({side})", "", "```", *messages, "```", ""]
    lines += changed
    report = "\n".join(lines)
    (out / "report.md").write_text(report)
    return report, bool(head_failed) or any(messages for side, messages in errors.items() if side.startswith("head"))


def summary_lines(
    committed: bool, rows: list[str], compared: list[str], reduced: list[str], minutes: dict[str, float], budget_s: float, unchanged: int
) -> list[str]:
    """The banner for experiments compared on reduced settings, what was compared, and the verdict table."""
    if committed:
        return ["Compared: metrics committed at each revision (full runs).\n"]
    same = f"unchanged: {unchanged} experiment{'s' if unchanged != 1 else ''}, same inputs as the base (not rerun).\n"
    if not compared:
        return ["Nothing to rerun: no stage's command, params or tracked code and data differ from the base's dvc.lock.\n", same]
    lines = []
    if reduced:
        over = ", ".join(f"`{name}` (about {minutes[name]:.0f} min)" for name in reduced)
        lines.append(
            f"> **Reduced settings for {over}: a smoke test, not an answer; the sign may differ.** Their reruns at their own "
            f"settings would pass the budget of {budget_s / 60:.0f} min: run the full-run workflow or `dvc repro` for the answer.\n"
        )
    past = "; the experiments past the budget on reduced settings at both revisions" if reduced else ""
    lines.append(f"Compared: the head reproduced at each changed experiment's own settings against the base's results{past}.\n")
    header = "| experiment | compared at | figure | base | head | per seed (base / head) | verdict |\n|---|---|---|---|---|---|---|\n"
    lines.append(f"### Changed experiments\n\n{header + chr(10).join(rows) if rows else 'none with a figure to compare'}\n")
    lines.append(same)
    lines.append(f"Verdict: Welch's t-test on the seeds' figures; a difference is called only below p = {LEVEL}.\n")
    return lines


def png_files(folder: Path) -> dict[str, Path]:
    """The figures under `folder` by file name (each names its experiment or chart), at any depth:
    plots/figures/<experiment>/ and plots/summary/, or one flat plots/figures/ before them."""
    return {path.name: path for path in sorted(folder.rglob("*.png"))}


def changed_figures(base_plots: Path, head_plots: Path, out: Path) -> list[str]:
    """Every figure the head drew, written to out/figures/; markdown showing those whose PNG differs
    from the base's, base beside head, and naming the ones that did not change."""
    base, head = png_files(base_plots), png_files(head_plots)
    names = sorted(head)
    if not names:
        return []
    (out / "figures").mkdir(parents=True, exist_ok=True)
    for name in names:
        shutil.copy(head[name], out / "figures" / f"head-{name}")
    changed = [name for name in names if name not in base or base[name].read_bytes() != head[name].read_bytes()]
    lines = ["### Figures that changed (base | head)", ""]
    if changed:
        lines += ["| base | head |", "|---|---|"]
    for name in changed[:MOST_FIGURES]:
        cell = "(new)"
        if name in base:
            shutil.copy(base[name], out / "figures" / f"base-{name}")
            cell = f"![base {name}](figures/base-{name})"
        lines.append(f"| {cell} | ![head {name}](figures/head-{name}) |")
    if changed[MOST_FIGURES:]:
        lines += ["", "Also changed: " + ", ".join(f"`{name}`" for name in changed[MOST_FIGURES:])]
    same = [name for name in names if name not in changed]
    if same:
        lines += ["", f"The same at both revisions (the head's in `figures/`): {', '.join(f'`{name}`' for name in same)}"]
    return [*lines, ""]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("base", help="base revision (branch, tag or commit)")
    parser.add_argument("head", nargs="?", default="HEAD", help="head revision (default HEAD)")
    parser.add_argument("--out", type=Path, default=Path("pr-report"), help="folder for report.md and figures/")
    parser.add_argument("--budget-minutes", type=float, default=20.0, help="estimated minutes of reruns at own settings (default 20)")
    parser.add_argument("--committed", action="store_true", help="compare committed metrics; run nothing")
    args = parser.parse_args()
    if os.environ.get("DATA_MIRROR"):  # the worktrees are elsewhere: a relative mirror means the folder the user is in
        os.environ["DATA_MIRROR"] = str(Path(os.environ["DATA_MIRROR"]).resolve())
    repository = Path(sh(["git", "rev-parse", "--show-toplevel"], Path.cwd()).strip())
    report, head_failed = build_report(repository, args.base, args.head, args.out.resolve(), args.committed, args.budget_minutes * 60)
    print(report)
    if head_failed:
        sys.exit("error: stages failed at head (see the report)")


if __name__ == "__main__":
    main()
