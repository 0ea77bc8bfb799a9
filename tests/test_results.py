import json

from scripts.results import RESULTS_FILE, results_markdown
from stages.params import load_params
from tests.conftest import ROOT


def test_results_md_is_what_the_committed_metrics_give():
    assert RESULTS_FILE.read_text(encoding="utf-8") == results_markdown(), "run: python -m scripts.results"


def test_every_experiment_with_metrics_has_a_row_with_its_write_up_figure():
    text = results_markdown()
    for name, experiment in load_params(ROOT / "params.yaml").experiments.items():
        path = ROOT / "metrics" / f"{name}.json"
        if path.is_file():
            seeds = json.loads(path.read_text(encoding="utf-8"))["seeds"]
            assert f"| `{name}` | {experiment.description} | {seeds} | {experiment.write_up or '-'} |" in text
