"""The pull-request report: did this change help?

    python scripts/pr_report.py BASE [HEAD] [--out pr-report] [--budget-minutes 20] [--committed]

The answer compares each changed experiment at its own settings: HEAD is reproduced in a
temporary git worktree that shares this repository's DVC cache, so only the stages whose code,
params or data changed run (the others are checked out from the cache or restored from DVC's
run-cache), and BASE runs nothing: its metrics are committed, its per-seed figures
(reports/<experiment>/seeds.json) are in the DVC cache that main's runs leave.

Experiments whose reruns would take longer than the budget, estimated from the per-stage wall
times of the last full run (benchmarks/stage_durations.json, written by scripts/timed_repro.py),
are compared instead on the reduced configuration (ci/reduced.yaml: few epochs, one seed) at both
revisions, and the report says at its top that for them it is a smoke test, not an answer.

For each changed experiment the report states the settings compared, every seed's figure at base
and head, mean ± std and a verdict by Welch's t-test on the seeds' figures at the 5 % level
(better / worse / no clear difference; one seed on a side: no clear difference, nothing measured
the spread); then `dvc params diff`, `dvc metrics diff`, the stages that ran and the figures that
changed, base beside head. Exits 1 when a stage failed at HEAD. Reduced sides are kept under
.dvc/tmp/pr-sides (by commit, reduction and experiments), so the base of a later report reuses
them. With --committed nothing runs: the metrics committed at the two revisions are compared.
The GitHub workflow calls this script, so a report can be rehearsed locally.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

PROFILE = Path("ci/reduced.yaml")
DURATIONS = Path("benchmarks/stage_durations.json")
KEPT_SIDES = Path(".dvc") / "tmp" / "pr-sides"  # per revision, reduction and experiments: metrics/, plots/figures/, reports/
KEPT_OUTPUTS = (Path("metrics"), Path("plots") / "figures", Path("reports"))
MOST_FIGURES = 6  # changed figures shown as images; the others are listed by name
UNTIMED_STAGE_S = 60.0  # a stage the last full run did not time (a new experiment, a renamed stage)
PRIMARY = {"forecast": ("test_rmse", "lower"), "classify": ("accuracy", "higher"), "generate": ("perplexity", "lower")}
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
    """Use the repository's DVC cache, and check out what it holds (downloads are persist outputs,
    which the run-cache does not restore; repro fetches anything missing)."""
    sh(["dvc", "cache", "dir", "--local", str(cache)], worktree)
    subprocess.run(["dvc", "checkout"], cwd=worktree, capture_output=True)


def stage_failures(text: str) -> list[str]:
    why = re.compile(r"^(ERROR|error: |\w+(Error|Exception): )")  # DVC's lines, a stage's own one-line error, an exception
    return list(dict.fromkeys(line for line in text.splitlines() if why.match(line)))


def stages_run(text: str) -> list[str]:
    return list(dict.fromkeys(re.findall(r"Running stage '([^']+)'", text)))


def stages_to_run(worktree: Path) -> list[str]:
    """The stages `dvc repro` would run: those `dvc status` reports changed (a dependency, a param,
    an output missing from the cache) and every stage downstream of them. Not `dvc repro --dry`:
    it stops at the first stage whose upstream output does not exist yet (the dry run made none),
    so it lists only part of the run and the budget would let the whole of it through."""
    changed = list(json.loads(sh(["dvc", "status", "--json"], worktree) or "{}"))
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
        kind, _, name = stage.partition("@")
        owner = name if kind in ("train", "evaluate") else ""
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


def experiment_rows(names: list[str], sides: dict[str, Path], params: dict, how: str) -> list[str]:
    rows = []
    for name in names:
        entry = params.get("experiments", {}).get(name, {})
        metric, direction = PRIMARY.get(entry.get("task"), (None, None))
        if metric is None:
            continue
        base, head = (seed_figures(sides[side], name, metric) for side in ("base", "head"))
        verdict = welch_verdict(base, head, direction) if base and head else "per-seed figures missing on a side"
        figures = " / ".join(", ".join(f"{value:.4g}" for value in values) or "-" for values in (base, head))
        rows.append(f"| `{name}` | {how} | {metric} ({direction} is better) | {spread(base)} | {spread(head)} | {figures} | {verdict} |")
    return rows


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


def build_report(repository: Path, base: str, head: str, out: Path, committed: bool, budget_s: float) -> tuple[str, bool]:
    names = {side: sh(["git", "rev-parse", "--short", revision], repository).strip() for side, revision in (("base", base), ("head", head))}
    out.mkdir(parents=True, exist_ok=True)
    cache = dvc_cache(repository)
    rows, ran, errors, full, reduced = [], {}, {"base": [], "head": []}, [], []
    with tempfile.TemporaryDirectory() as scratch:
        scratch = Path(scratch)
        sides = {side: snapshot(repository, revision, scratch / side) for side, revision in (("base", base), ("head", head))}
        originals = {side: (sides[side] / "params.yaml").read_text() for side in sides}
        metrics = {side: sides[side] / "metrics" for side in sides}
        figures = {side: sides[side] / "plots" / "figures" for side in sides}
        if not committed:
            share_cache(sides["head"], cache)
            would_run = stages_to_run(sides["head"])
            durations = json.loads((repository / DURATIONS).read_text())["stages"] if (repository / DURATIONS).is_file() else {}
            costs = estimated_costs(would_run, durations)
            full, reduced = within_budget(costs, budget_s)
            share_cache(sides["base"], cache)  # the base's per-seed figures, from the cache
            for name in full:
                subprocess.run(["dvc", "checkout", f"evaluate@{name}"], cwd=sides["base"], capture_output=True)
            if full or not reduced:  # at own settings: everything that changed, or the experiments within the budget
                text = _run(["dvc", "repro", *([f"evaluate@{name}" for name in full] if reduced else [])], sides["head"])
                ran["head"], errors["head"] = stages_run(text), stage_failures(text)
            params = yaml.safe_load(originals["head"]) or {}
            rows += experiment_rows(full, sides, params, "own settings")
            if reduced:
                smoke = {}
                for side, revision in (("base", base), ("head", head)):
                    smoke[side] = snapshot(repository, revision, scratch / f"reduced-{side}")
                    ran[f"{side}, reduced"], errors[f"{side} (reduced)"] = reduced_side(repository, revision, smoke[side], reduced)
                    for name in reduced:  # the metrics diff shows these experiments' reduced figures on both sides
                        if (smoke[side] / "metrics" / f"{name}.json").is_file():
                            shutil.copy(smoke[side] / "metrics" / f"{name}.json", metrics[side] / f"{name}.json")
                rows += experiment_rows(reduced, smoke, params, f"reduced (`{PROFILE}`)")
                figures = {side: smoke[side] / "plots" / "figures" for side in sides}
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
    lines += summary_lines(committed, rows, reduced, minutes if reduced else {}, budget_s)
    lines += [diff_section("Params changed", params_diff), diff_section("Metrics changed", metrics_diff)]
    for side, stages in ran.items():
        if stages is None:
            listed = f"none: kept from an earlier report (`{KEPT_SIDES}`)"
        else:
            listed = "\n".join(f"- `{stage}`" for stage in stages) or "none: every stage was restored from the DVC cache"
        lines.append(f"### Stages run for {side}\n\n{listed}\n")
    for side, messages in errors.items():
        if messages:
            lines += [f"### Failed stages ({side})", "", "```", *messages, "```", ""]
    lines += changed
    report = "\n".join(lines)
    (out / "report.md").write_text(report)
    return report, any(messages for side, messages in errors.items() if side.startswith("head"))


def summary_lines(committed: bool, rows: list[str], reduced: list[str], minutes: dict[str, float], budget_s: float) -> list[str]:
    """The banner for experiments compared on reduced settings, what was compared, and the verdict table."""
    if committed:
        return ["Compared: metrics committed at each revision (full runs).\n"]
    lines = []
    if reduced:
        over = ", ".join(f"`{name}` (about {minutes[name]:.0f} min)" for name in reduced)
        lines.append(
            f"> **Reduced settings for {over}: a smoke test, not an answer; the sign may differ.** Their reruns at their own "
            f"settings would pass the budget of {budget_s / 60:.0f} min: run the full-run workflow or `dvc repro` for the answer.\n"
        )
    past = "; the experiments past the budget on reduced settings at both revisions" if reduced else ""
    lines.append(f"Compared: the head reproduced at each changed experiment's own settings against the base's committed results{past}.\n")
    header = "| experiment | compared at | figure | base | head | per seed (base / head) | verdict |\n|---|---|---|---|---|---|---|\n"
    lines.append(f"### Changed experiments\n\n{header + chr(10).join(rows) if rows else 'no experiment changed'}\n")
    lines.append(f"Verdict: Welch's t-test on the seeds' figures; a difference is called only below p = {LEVEL}.\n")
    return lines


def changed_figures(base: Path, head: Path, out: Path) -> list[str]:
    """Markdown for the figures whose PNG differs between the sides: base beside head."""
    names = sorted(path.name for path in head.glob("*.png"))
    changed = [name for name in names if not (base / name).is_file() or (base / name).read_bytes() != (head / name).read_bytes()]
    if not changed:
        return []
    (out / "figures").mkdir(parents=True, exist_ok=True)
    lines = ["### Figures that changed (base | head)", "", "| base | head |", "|---|---|"]
    for name in changed[:MOST_FIGURES]:
        cells = []
        for side, folder in (("base", base), ("head", head)):
            if (folder / name).is_file():
                shutil.copy(folder / name, out / "figures" / f"{side}-{name}")
                cells.append(f"![{side} {name}](figures/{side}-{name})")
            else:
                cells.append("(new)")
        lines.append(f"| {cells[0]} | {cells[1]} |")
    if changed[MOST_FIGURES:]:
        lines += ["", "Also changed: " + ", ".join(f"`{name}`" for name in changed[MOST_FIGURES:])]
    return [*lines, ""]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("base", help="base revision (branch, tag or commit)")
    parser.add_argument("head", nargs="?", default="HEAD", help="head revision (default HEAD)")
    parser.add_argument("--out", type=Path, default=Path("pr-report"), help="folder for report.md and figures/")
    parser.add_argument("--budget-minutes", type=float, default=20.0, help="estimated minutes of reruns at own settings (default 20)")
    parser.add_argument("--committed", action="store_true", help="compare committed metrics; run nothing")
    args = parser.parse_args()
    repository = Path(sh(["git", "rev-parse", "--show-toplevel"], Path.cwd()).strip())
    report, head_failed = build_report(repository, args.base, args.head, args.out.resolve(), args.committed, args.budget_minutes * 60)
    print(report)
    if head_failed:
        sys.exit("error: stages failed at head (see the report)")


if __name__ == "__main__":
    main()
