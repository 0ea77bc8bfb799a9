"""The pull-request report: did this change help?

    python scripts/pr_report.py BASE [HEAD] [--out pr-report] [--committed]

Runs the reduced CI configuration (ci/reduced.yaml: every experiment, few epochs, one seed,
sampled texts) at BASE and at HEAD, each in a temporary git worktree that shares this
repository's DVC cache: every stage whose code, params and data are unchanged is restored from
DVC's run-cache instead of rerun, so with a warm cache only what the change touches trains.
A side's results are kept under .dvc/tmp/pr-sides (by commit and reduction), so a revision
reported once, such as the base branch after its own run, is not reproduced again.
Then writes OUT/report.md: `dvc params diff` (the revisions' own params.yaml) and `dvc metrics
diff` (the reduced runs) between the two, which stages ran on each side, and every figure that
changed, base beside head. Exits 1 when a stage failed at HEAD (the report says which and why).
With --committed nothing runs: the metrics committed at the two revisions (full runs) are
compared. The GitHub workflow calls this script, so a report can be rehearsed locally.
"""

from __future__ import annotations

import argparse
import hashlib
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

PROFILE = Path("ci/reduced.yaml")
KEPT_SIDES = Path(".dvc") / "tmp" / "pr-sides"  # per revision and reduction: metrics/, plots/figures/
KEPT_OUTPUTS = (Path("metrics"), Path("plots") / "figures")
MOST_FIGURES = 6  # changed figures shown as images; the others are listed by name


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


def run_reduced(worktree: Path, cache: Path, profile: dict) -> tuple[list[str], list[str]]:
    """Reduce the worktree's params and reproduce with the shared cache, `--keep-going`: the
    stages that ran, and for any that failed DVC's error lines and the stage's own (the others
    still run).

    Most of a reduced stage is TensorFlow's start-up, one core's work, so once the data stages
    are done the experiments run in two `dvc repro --single-item` processes side by side (single
    items, so neither takes the other's locks on shared upstream outputs; DVC serialises their
    dvc.lock updates, and `--wait-for-lock` makes each wait for the other instead of failing)."""
    params_path = worktree / "params.yaml"
    params = apply_profile(yaml.safe_load(params_path.read_text()), profile)
    params_path.write_text(yaml.safe_dump(params, sort_keys=False))
    sh(["dvc", "cache", "dir", "--local", str(cache)], worktree)
    # downloads are persist outputs, which the run-cache does not restore: check out what the
    # cache holds (repro downloads anything missing)
    subprocess.run(["dvc", "checkout", "download", "download-resource"], cwd=worktree, capture_output=True)
    stages = sh(["dvc", "stage", "list", "--name-only"], worktree).split()
    data = [stage for stage in stages if stage.split("@")[0] in ("download", "download-resource", "preprocess", "preprocess-variant")]
    experiments = list(params.get("experiments", {}))
    halves = [[f"{stage}@{name}" for name in experiments[side::2] for stage in ("train", "evaluate")] for side in (0, 1)]
    repro = ["dvc", "--wait-for-lock", "repro", "--keep-going"]
    outputs = [_run([*repro, *data], worktree)] if data else []
    processes = [_start([*repro, "--single-item", *half], worktree) for half in halves if half and set(half) <= set(stages)]
    outputs += [process.communicate()[0] for process in processes]
    outputs.append(_run(repro, worktree))  # the summary plots, and any stage outside the experiments
    text = "\n".join(outputs)
    ran = list(dict.fromkeys(re.findall(r"Running stage '([^']+)'", text)))
    why = re.compile(r"^(ERROR|error: |\w+(Error|Exception): )")  # DVC's lines, a stage's own one-line error, an exception
    errors = list(dict.fromkeys(line for line in text.splitlines() if why.match(line)))
    return ran, errors


def _start(command: list[str], cwd: Path) -> subprocess.Popen:
    return subprocess.Popen(command, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _run(command: list[str], cwd: Path) -> str:
    return _start(command, cwd).communicate()[0]


def snapshot(repository: Path, revision: str, folder: Path) -> Path:
    sh(["git", "worktree", "add", "--detach", "--force", str(folder), revision], repository)
    return folder


def commit_side(compare: Path, side: Path, original_params: str, tag: str) -> None:
    """One commit of the comparison repository: the revision's own params and dvc.yaml, the side's metrics."""
    shutil.rmtree(compare / "metrics", ignore_errors=True)
    if (side / "metrics").is_dir():
        shutil.copytree(side / "metrics", compare / "metrics")
    shutil.copy(side / "dvc.yaml", compare / "dvc.yaml")
    (compare / "params.yaml").write_text(original_params)
    sh(["git", "rm", "-r", "-q", "--cached", "--ignore-unmatch", "."], compare)  # re-hash: copies keep old mtimes
    sh(["git", "add", "-A"], compare)
    sh(["git", "-c", "user.name=report", "-c", "user.email=report@localhost", "commit", "-q", "--allow-empty", "-m", tag], compare)
    sh(["git", "tag", tag], compare)


def copy_outputs(source: Path, target: Path) -> None:
    """The outputs a report reads (metrics, figures), from a worktree or a kept side to another."""
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


def build_report(repository: Path, base: str, head: str, out: Path, committed: bool) -> tuple[str, bool]:
    names = {side: sh(["git", "rev-parse", "--short", revision], repository).strip() for side, revision in (("base", base), ("head", head))}
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as scratch:
        scratch = Path(scratch)
        sides, ran, errors = {}, {}, {}
        profile_text = "" if committed else (repository / PROFILE).read_text()  # one reduction for both sides
        profile, profile_digest = yaml.safe_load(profile_text), hashlib.sha256(profile_text.encode()).hexdigest()[:12]
        for side, revision in (("base", base), ("head", head)):
            sides[side] = snapshot(repository, revision, scratch / side)
            original = (sides[side] / "params.yaml").read_text()
            if not committed:
                kept = repository / KEPT_SIDES / f"{sh(['git', 'rev-parse', revision], repository).strip()}-{profile_digest}"
                if kept.is_dir():
                    copy_outputs(kept, sides[side])
                    ran[side], errors[side] = None, []
                else:
                    ran[side], errors[side] = run_reduced(sides[side], repository / ".dvc" / "cache", profile)
                    if not errors[side]:
                        keep(sides[side], kept)
            sides[side] = (sides[side], original)
        compare = scratch / "compare"
        compare.mkdir()
        sh(["git", "init", "-q"], compare)
        sh(["dvc", "init", "-q"], compare)
        for side in ("base", "head"):
            commit_side(compare, *sides[side], side)
        params = sh(["dvc", "params", "diff", "base", "head", "--md"], compare)
        metrics = sh(["dvc", "metrics", "diff", "base", "head", "--md", "--precision", "4"], compare)
        figures = changed_figures(sides["base"][0], sides["head"][0], out)
        for side in ("base", "head"):
            sh(["git", "worktree", "remove", "--force", str(scratch / side)], repository)
    what = "metrics committed at each revision (full runs)" if committed else f"reduced configuration (`{PROFILE}`) run at both revisions"
    lines = [f"## Pipeline report: {names['base']} (base) -> {names['head']} (head)", "", f"Compared: {what}.", ""]
    lines += [diff_section("Params changed", params), diff_section("Metrics changed", metrics)]
    if not committed:
        for side in ("base", "head"):
            if ran[side] is None:
                stages = f"none: this revision's results under this reduction were kept from an earlier report (`{KEPT_SIDES}`)"
            else:
                stages = "\n".join(f"- `{stage}`" for stage in ran[side]) or "none: every stage was restored from the DVC cache"
            lines += [f"### Stages run for {side}\n\n{stages}\n"]
        for side, messages in errors.items():
            if messages:
                lines += [f"### Failed stages ({side})", "", "```", *messages, "```", ""]
    lines += figures
    report = "\n".join(lines)
    (out / "report.md").write_text(report)
    return report, bool(errors.get("head"))


def changed_figures(base: Path, head: Path, out: Path) -> list[str]:
    """Markdown for the figures whose PNG differs between the sides: base beside head."""
    folder = Path("plots") / "figures"
    names = sorted(path.name for path in (head / folder).glob("*.png"))
    changed = [
        name
        for name in names
        if not (base / folder / name).is_file() or (base / folder / name).read_bytes() != (head / folder / name).read_bytes()
    ]
    if not changed:
        return []
    (out / "figures").mkdir(parents=True, exist_ok=True)
    lines = ["### Figures that changed (base | head)", "", "| base | head |", "|---|---|"]
    for name in changed[:MOST_FIGURES]:
        cells = []
        for side, root in (("base", base), ("head", head)):
            if (root / folder / name).is_file():
                shutil.copy(root / folder / name, out / "figures" / f"{side}-{name}")
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
    parser.add_argument("--committed", action="store_true", help="compare committed metrics; run nothing")
    args = parser.parse_args()
    repository = Path(sh(["git", "rev-parse", "--show-toplevel"], Path.cwd()).strip())
    report, head_failed = build_report(repository, args.base, args.head, args.out.resolve(), args.committed)
    print(report)
    if head_failed:
        sys.exit("error: stages failed at head (see the report)")


if __name__ == "__main__":
    main()
