"""The GitHub workflows, read as data: each point a review found is checked here (a rehearsal of
the comment itself is in test_pr_comment.py; the linter's run is in test_pr_report.py)."""

import json

import yaml

from tests.conftest import ROOT


def workflow(name: str) -> dict:
    return yaml.safe_load((ROOT / ".github" / "workflows" / name).read_text())


def steps(job: dict) -> list[dict]:
    return job["steps"]


def commands(job: dict) -> str:
    return "\n".join(step.get("run", "") for step in steps(job))


PULL_REQUEST = workflow("pull-request.yml")
REPORT = PULL_REQUEST["jobs"]["report"]
COMMENT = workflow("pr-comment.yml")
FULL_RUN = workflow("full-run.yml")


def test_pull_request_runs_the_ci_check_with_the_data_first_and_keeps_secrets_in_their_steps():
    assert {"pull_request", "push"} <= set(PULL_REQUEST[True])
    check = next(step["run"] for step in steps(REPORT) if ".ci/check.sh" in step.get("run", ""))
    assert "REQUIRE_DATA_MIRROR=1" in check and "dvc repro download" in commands(REPORT).split(check)[0]
    assert "bash .ci/check.sh" in (ROOT / ".ci" / "run").read_text()
    job_environment = " ".join(REPORT.get("env", {}).values())
    assert "secrets.KAGGLE_KEY != ''" in job_environment and "secrets.KAGGLE_KEY }}" not in job_environment


def test_1_only_pull_requests_cancel_their_running_job():
    assert PULL_REQUEST["concurrency"]["cancel-in-progress"] == "${{ github.event_name == 'pull_request' }}"


def test_2_only_main_saves_the_dvc_cache_pruned_and_pull_requests_restore_it():
    uses = [step.get("uses", "") for step in steps(REPORT)]
    assert "actions/cache@v4" not in uses and "actions/cache/restore@v4" in uses
    save = next(step for step in steps(REPORT) if step.get("uses") == "actions/cache/save@v4")
    assert "github.event_name == 'push'" in save["if"] and save["with"]["key"].startswith("dvc-refs/heads/main-")
    prune = commands(REPORT).index("dvc gc --workspace --force")
    assert prune > commands(REPORT).index("scripts/pr_report.py")


def test_3_and_4_base_is_the_push_before_commit_and_head_the_pull_requests_own_commit():
    assert "github.event.before" in REPORT["env"]["BASE"] and "pull_request.base.sha" in REPORT["env"]["BASE"]
    assert "pull_request.head.sha" in REPORT["env"]["HEAD"]
    assert steps(REPORT)[0]["with"]["ref"] == "${{ env.HEAD }}"
    assert 'scripts/pr_report.py "$base" "$HEAD"' in commands(REPORT) and "HEAD~1" not in REPORT["env"]["BASE"]


def test_5_steps_after_a_failure_skip_a_cancellation():
    conditions = [str(step.get("if", "")) for step in steps(REPORT)] + [str(COMMENT["jobs"]["comment"]["if"])]
    assert not [condition for condition in conditions if "always()" in condition]
    assert sum("!cancelled()" in condition for condition in conditions) == 4
    assert "conclusion != 'cancelled'" in COMMENT["jobs"]["comment"]["if"]


def test_6_fork_pull_requests_are_commented_by_a_workflow_run_with_the_base_token():
    assert COMMENT[True]["workflow_run"] == {"workflows": ["pull-request"], "types": ["completed"]}
    assert PULL_REQUEST["permissions"] == {"contents": "read"}  # the pull request's own job cannot write
    assert COMMENT["permissions"]["pull-requests"] == "write"
    download = next(step for step in steps(COMMENT["jobs"]["comment"]) if "download-artifact" in step.get("uses", ""))
    assert download["with"]["run-id"] == "${{ github.event.workflow_run.id }}"
    assert "pr-report/pr-number" in commands(REPORT)


def test_7_no_third_party_host_and_no_cml():
    text = "\n".join((ROOT / ".github" / "workflows" / name).read_text() for name in ("pull-request.yml", "pr-comment.yml"))
    assert "cml" not in text.lower() and "--publish" not in text
    run = commands(COMMENT["jobs"]["comment"])
    assert "git -C images push origin HEAD:pr-report-images" in run and "python -m scripts.pr_comment" in run


def test_8_the_remote_gives_run_cache_entries_of_changed_stages_only():
    pull = next(line for line in commands(REPORT).splitlines() if "dvc pull" in line)
    assert "--run-cache $changed" in pull and "dvc status --json" in commands(REPORT)


def test_9_the_timeout_holds_the_measured_parts():
    measured = json.loads((ROOT / "benchmarks" / "results.json").read_text())
    budget_s = float(PULL_REQUEST[True]["workflow_dispatch"]["inputs"]["budget_minutes"]["default"]) * 60
    needed_s = measured["suite_s"] + budget_s + measured["pr_reduced_cold_s"] + measured["install_lock_s"]
    assert REPORT["timeout-minutes"] * 60 >= 1.25 * needed_s


def test_10_an_empty_remote_url_stops_the_full_run():
    for job in FULL_RUN["jobs"].values():
        run = commands(job)
        if "dvc remote add" in run:
            assert run.index('[ -n "$DVC_REMOTE_URL" ] ||') < run.index("dvc remote add")


def test_11_the_worker_count_is_written_once_and_the_split_is_by_cost():
    worker = FULL_RUN["jobs"]["worker"]
    assert "scripts.split ${{ matrix.worker }} ${{ strategy.job-total }}" in commands(worker)
    assert "stage_durations.json" in (ROOT / "scripts" / "split.py").read_text()


def test_12_the_gather_takes_the_workers_metrics_and_reruns_no_experiment():
    gather = FULL_RUN["jobs"]["gather"]
    download = next(step for step in steps(gather) if "download-artifact" in step.get("uses", ""))
    assert download["with"]["pattern"] == "metrics-worker-*" and download["with"]["path"] == "metrics/"
    upload = next(step for step in steps(FULL_RUN["jobs"]["worker"]) if "upload-artifact" in step.get("uses", ""))
    assert upload["with"]["name"] == "metrics-worker-${{ matrix.worker }}"
    assert "Running stage '(train|evaluate)@" in commands(gather)
