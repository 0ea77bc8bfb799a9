from scripts.results import RESULTS_FILE, results_markdown


def test_results_md_is_what_the_committed_metrics_give():
    assert RESULTS_FILE.read_text(encoding="utf-8") == results_markdown(), "run: python -m scripts.results"


def test_every_experiment_with_metrics_has_a_row():
    text = results_markdown()
    for name in ("airline-stateful", "airline-stacked", "bbc-bilstm-tuned", "imdb-lstm", "rotten-bilstm", "alice-lstm"):
        assert f"| `{name}` |" in text
