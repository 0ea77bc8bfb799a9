"""Results shared through a DVC remote on a real S3-compatible store (SeaweedFS on 127.0.0.1):
one clone trains and pushes, a fresh clone pulls and answers without training."""

import hashlib
import os
import re
import subprocess
from pathlib import Path

import pytest

from tests.conftest import S3_BUCKET, S3_KEY, S3_SECRET, free_port, git, mirror_path, reduced_clone, run

EXPERIMENT = "airline-regression"


def use_remote(project: Path, endpoint: str, secret: str = S3_SECRET, folder: str | None = None) -> None:
    """The team's remote as the README shows it: URL and endpoint committed, credentials local."""
    run(["dvc", "remote", "add", "--force", "--default", "team", f"s3://{S3_BUCKET}/{folder or project.name}"], project)
    run(["dvc", "remote", "modify", "team", "endpointurl", endpoint], project)
    run(["dvc", "remote", "modify", "--local", "team", "access_key_id", S3_KEY], project)
    run(["dvc", "remote", "modify", "--local", "team", "secret_access_key", secret], project)


def dvc(arguments: list[str], cwd: Path) -> subprocess.CompletedProcess:
    environment = os.environ | {"AWS_MAX_ATTEMPTS": "2"}  # an unreachable store fails in seconds, not minutes
    return subprocess.run(["dvc", *arguments], cwd=cwd, env=environment, capture_output=True, text=True, timeout=300)


def digests(folder: Path) -> dict[str, str]:
    files = [path for path in sorted(folder.rglob("*")) if path.is_file()]
    return {str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest() for path in files}


@pytest.fixture(scope="module")
def pushed(tmp_path_factory: pytest.TempPathFactory, s3_endpoint: str) -> Path:
    """Clone A: one experiment reproduced, committed, pushed with its run-cache."""
    mirror = mirror_path()
    if mirror is None:
        pytest.skip("no data mirror: set DATA_MIRROR or place the mirror at ../shared/data")
    first = reduced_clone(tmp_path_factory.mktemp("clone-a"), [EXPERIMENT])
    use_remote(first, s3_endpoint)
    run(["dvc", "repro"], first, env=os.environ | {"DATA_MIRROR": str(mirror)})
    git(["add", "-A"], first)
    git(["commit", "-q", "-m", "outputs"], first)
    pushed = dvc(["push", "--run-cache"], first)
    assert pushed.returncode == 0, pushed.stderr
    return first


@pytest.fixture
def fresh_clone(pushed: Path, tmp_path: Path, s3_endpoint: str) -> Path:
    git(["clone", "-q", str(pushed), str(tmp_path / "clone-b")], tmp_path)
    clone = tmp_path / "clone-b"
    run(["dvc", "remote", "modify", "--local", "team", "access_key_id", S3_KEY], clone)
    run(["dvc", "remote", "modify", "--local", "team", "secret_access_key", S3_SECRET], clone)
    return clone


def test_a_fresh_clone_pulls_and_predicts_without_training(fresh_clone: Path):
    pulled = dvc(["pull", "--run-cache"], fresh_clone)
    assert pulled.returncode == 0, pulled.stderr
    assert "up to date" in run(["dvc", "status"], fresh_clone)
    forecast = run(["python", "-m", "stages.predict", EXPERIMENT, "--steps", "3"], fresh_clone)
    assert forecast.splitlines()[1].startswith("1961-01")
    assert "Running stage" not in run(["dvc", "repro"], fresh_clone)


def test_models_deleted_in_a_fresh_clone_come_back_from_the_remote_run_cache(fresh_clone: Path):
    """DVC pushes run-cache entries and cached outputs; the objects of metrics kept in git are not
    pushed, so on another machine evaluate reruns (seconds) while training is restored."""
    assert dvc(["pull", "--run-cache"], fresh_clone).returncode == 0
    outputs = [f"models/{EXPERIMENT}", f"metrics/{EXPERIMENT}.json", f"reports/{EXPERIMENT}", f"plots/learning/{EXPERIMENT}.csv"]
    run(["rm", "-rf", *outputs], fresh_clone)
    reproduced = run(["dvc", "repro"], fresh_clone)
    assert f"Stage 'train@{EXPERIMENT}' is cached - skipping run" in reproduced
    assert f"Running stage 'train@{EXPERIMENT}'" not in reproduced
    assert run(["git", "status", "--porcelain", "metrics"], fresh_clone) == ""


@pytest.mark.parametrize("problem", ["wrong credentials", "store stopped"])
def test_push_and_pull_fail_naming_the_cause_and_lose_nothing(pushed: Path, s3_endpoint: str, problem: str):
    endpoint = f"http://127.0.0.1:{free_port()}" if problem == "store stopped" else s3_endpoint
    use_remote(pushed, endpoint, secret="wrong" if problem == "wrong credentials" else S3_SECRET)
    before = digests(pushed / "models") | digests(pushed / "metrics")
    try:
        for command in (["push"], ["pull", "--force"]):
            result = dvc(command, pushed)
            errors = [line for line in result.stderr.splitlines() if line.startswith("ERROR")]
            assert result.returncode != 0 and errors, result.stderr
            assert ("Forbidden" if problem == "wrong credentials" else "Could not connect") in errors[0]  # the cause, first
            summary = command[0] == "pull" and len(errors) == 2 and "failed to pull data from the cloud" in errors[1]
            assert len(errors) == 1 or summary, result.stderr  # pull adds DVC's count of files not pulled
        assert digests(pushed / "models") | digests(pushed / "metrics") == before
    finally:
        use_remote(pushed, s3_endpoint)


def test_two_workers_split_the_run_and_a_third_clone_restores_it_all(tmp_path: Path, s3_endpoint: str):
    mirror = mirror_path()
    if mirror is None:
        pytest.skip("no data mirror: set DATA_MIRROR or place the mirror at ../shared/data")
    origin = reduced_clone(tmp_path / "origin", ["airline-regression", "airline-window"])
    use_remote(origin, s3_endpoint)
    git(["commit", "-q", "-am", "team remote"], origin)
    clones = {}
    for name in ("worker-1", "worker-2", "final"):
        git(["clone", "-q", str(origin), name], tmp_path)
        clones[name] = tmp_path / name
        use_remote(clones[name], s3_endpoint, folder="origin")
    environment = os.environ | {"DATA_MIRROR": str(mirror)}
    ran_by = {}
    for number in (1, 2):
        worker = clones[f"worker-{number}"]
        targets = run(["python", "-m", "scripts.split", str(number), "2"], worker).split()
        assert len(targets) == 1  # one experiment each, by their recorded cost
        ran_by[targets[0].removeprefix("evaluate@")] = f"worker-{number}"
        run(["dvc", "repro", "--pull", *targets], worker, env=environment)
        assert dvc(["push", "--run-cache"], worker).returncode == 0
    assert sorted(ran_by) == ["airline-regression", "airline-window"]
    final = run(["dvc", "repro", "--pull"], clones["final"], env=environment)
    ran = re.findall(r"Running stage '([^']+)'", final)
    assert "plot" in ran and not [stage for stage in ran if stage.startswith("train@")], final
    assert (clones["final"] / "plots" / "summary" / "airline-test-forecasts.png").is_file() and "plot: kept" not in final, final
    assert all((clones["final"] / "plots" / "figures" / name / f"{name}-predictions.png").is_file() for name in ran_by), final
    for name, worker in ran_by.items():
        path = Path("metrics") / f"{name}.json"
        assert (clones["final"] / path).read_text() == (clones[worker] / path).read_text()
