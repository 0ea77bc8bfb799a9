"""End to end: the real `dvc repro` on the pull-request configuration (.ci/reduced.yaml: 2 epochs,
one seed, at most 300 texts per split), run the way the pull-request report runs it, in a
temporary copy of the project, data from the mirror.

To stay within the CI time budget it runs the first experiment of each dataset: every dataset,
task and stage goes through DVC; the other variants differ only in model params, which the unit
tests build and train (tests/test_forecast.py, tests/test_text_tasks.py)."""

import json
import math
import os
import re
from pathlib import Path

import pytest
import yaml

from scripts.pr_report import PROFILE, run_reduced
from stages.params import parse_params
from tests.conftest import ROOT, copy_project, mirror_path, run


def one_experiment_per_dataset(experiments: dict) -> dict:
    first = {}
    for name, experiment in experiments.items():
        first.setdefault(experiment["dataset"], name)
    return {name: experiments[name] for name in first.values()}


@pytest.fixture(scope="module")
def reproduced(tmp_path_factory: pytest.TempPathFactory) -> Path:
    mirror = mirror_path()
    if mirror is None:
        pytest.skip("no data mirror: set DATA_MIRROR or place the mirror at ../shared/data")
    project = tmp_path_factory.mktemp("project")
    copy_project(project)
    params = yaml.safe_load((project / "params.yaml").read_text())
    params["experiments"] = one_experiment_per_dataset(params["experiments"])
    (project / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DATA_MIRROR", str(mirror))
        ran, errors = run_reduced(project, project / ".dvc" / "cache", yaml.safe_load((ROOT / PROFILE).read_text()))
    assert not errors, errors
    assert {f"evaluate@{name}" for name in params["experiments"]} <= set(ran) and ran[-1] == "plot", ran
    return project


KEYS = {
    "forecast": {"train_rmse", "test_rmse", "naive_test_rmse", "seasonal_naive_test_rmse", "seeds"},
    "classify": {"accuracy", "macro_f1", "loss", "majority_accuracy", "tfidf_logreg_accuracy", "tfidf_logreg_macro_f1"}
    | {"test_size", "seeds"},
    "generate": {"perplexity", "next_word_accuracy", "validation_oov_rate", "validation_targets", "seeds"},
}


def test_every_dataset_is_run(reproduced: Path):
    params = parse_params(yaml.safe_load((reproduced / "params.yaml").read_text()))
    full = parse_params(yaml.safe_load((ROOT / "params.yaml").read_text()))
    assert {experiment.dataset for experiment in params.experiments.values()} == set(full.datasets)
    assert {experiment.task for experiment in params.experiments.values()} == {"forecast", "classify", "generate"}


def test_every_experiment_has_finite_metrics_with_all_keys(reproduced: Path):
    params = parse_params(yaml.safe_load((reproduced / "params.yaml").read_text()))
    for name, experiment in params.experiments.items():
        metrics = json.loads((reproduced / "metrics" / f"{name}.json").read_text())
        assert KEYS[experiment.task] <= set(metrics), (name, set(metrics))
        assert all(math.isfinite(value) for value in metrics.values()), name
        assert metrics["seeds"] == 1
        assert not [key for key in metrics if key.endswith("_std")], "one seed has no spread to report"
        if experiment.task == "forecast":
            assert 40 < metrics["seasonal_naive_test_rmse"] < metrics["naive_test_rmse"] < 60
        if experiment.task == "classify":
            assert metrics["test_size"] == 300
            assert all(0 <= metrics[key] <= 1 for key in ("accuracy", "macro_f1", "majority_accuracy", "tfidf_logreg_accuracy"))
            if experiment.dataset.startswith("bbc"):  # topics are easy: even 300 articles separate them
                assert metrics["tfidf_logreg_accuracy"] > 0.8 > metrics["majority_accuracy"]
        if experiment.task == "generate":
            assert metrics["perplexity"] > 1 and 0 <= metrics["next_word_accuracy"] <= 1
            sample = (reproduced / "reports" / name / "sample.txt").read_text().splitlines()
            assert len(sample) == 1 + experiment.sample.lines and all(len(line.split()) == experiment.sample.words for line in sample[1:])


def test_every_plot_output_exists(reproduced: Path):
    params = parse_params(yaml.safe_load((reproduced / "params.yaml").read_text()))
    summary, figures = reproduced / "plots" / "summary", reproduced / "plots" / "figures"
    assert (summary / "airline-rmse-by-variant.png").stat().st_size > 10_000
    assert (summary / "accuracy-by-experiment.png").stat().st_size > 10_000
    figure_of_task = {"forecast": "predictions", "classify": "confusion", "generate": "learning"}
    for name, experiment in params.experiments.items():
        for path in (
            figures / name / f"{name}-learning.png",
            figures / name / f"{name}-{figure_of_task[experiment.task]}.png",
            reproduced / "plots" / "learning" / f"{name}.csv",
            reproduced / "plots" / experiment.task / f"{name}.csv",
            reproduced / "reports" / name / "seeds.json",
        ):
            assert path.stat().st_size > 0, path


def test_a_second_repro_has_nothing_to_do(reproduced: Path):
    status = run(["dvc", "status"], reproduced)
    assert "up to date" in status, status


def test_dvc_metrics_show_lists_every_experiment(reproduced: Path):
    shown = run(["dvc", "metrics", "show", "--json"], reproduced)
    params = parse_params(yaml.safe_load((reproduced / "params.yaml").read_text()))
    assert all(f"metrics/{name}.json" in shown for name in params.experiments)


def offline_browser() -> list[str] | None:
    """Headless Chromium in a network namespace of its own (no network at all), if this machine has both."""
    import shutil
    import subprocess

    browser = shutil.which("chromium")
    if browser and subprocess.run(["unshare", "-n", "true"], capture_output=True).returncode == 0:
        return ["unshare", "-n", browser, "--headless", "--no-sandbox", "--disable-gpu", "--virtual-time-budget=20000"]
    if os.environ.get("REQUIRE_BROWSER"):
        pytest.fail("REQUIRE_BROWSER is set but chromium or `unshare -n` is missing (apt-get install chromium)")
    pytest.skip("no chromium, or no permission for a network namespace (unshare -n)")


def test_the_plots_page_renders_every_chart_offline(reproduced: Path):
    browser = offline_browser()
    run(["dvc", "plots", "show"], reproduced)
    page = (reproduced / "dvc_plots" / "index.html").read_text()
    assert "cdn.jsdelivr.net" not in page and "vegaEmbed(" in page  # .dvc/config's template: Vega inlined
    dom = run([*browser, "--dump-dom", (reproduced / "dvc_plots" / "index.html").as_uri()], reproduced)
    vega = re.findall(r"vegaEmbed\('#([^']+)'", page)  # the charts the page asks Vega to draw
    charts = {chunk.split('"', 1)[0]: chunk for chunk in re.split(r'<div id\s*=\s*"', dom)[1:]}
    assert len(vega) >= 8 and "classifier-loss" in vega, vega
    assert [name for name in vega if "<canvas" not in charts.get(name, "")] == []  # each drawn, offline
    assert [name for name, chunk in charts.items() if name not in vega and "<img" not in chunk] == []  # the PNG figures
