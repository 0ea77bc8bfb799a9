"""Splitting the full run by the recorded cost of each experiment, and recording that cost."""

from scripts.split import assign, experiment_costs, share
from scripts.timed_repro import stage_times

DURATIONS = {"train@imdb-a": 900.0, "evaluate@imdb-a": 60.0, "train@imdb-b": 800.0, "train@alice": 500.0, "train@airline": 50.0}


def test_longest_first_to_the_least_loaded_worker():
    costs = experiment_costs(["airline", "imdb-a", "imdb-b", "alice", "new"], DURATIONS)
    assert costs["imdb-a"] == 960.0 and costs["new"] == (960 + 800 + 500 + 50) / 4  # not timed yet: the mean
    assert assign(costs, 2) == [["imdb-a", "alice"], ["imdb-b", "new", "airline"]]
    assert share(["airline", "imdb-a", "imdb-b", "alice", "new"], 1, 2, DURATIONS) == ["evaluate@imdb-a", "evaluate@alice"]
    shares = assign(costs, 4)
    assert [names[0] for names in shares] == ["imdb-a", "imdb-b", "new", "alice"]
    assert sorted(name for names in shares for name in names) == sorted(costs)


def test_stage_times_from_dvc_output():
    lines = [
        (0.0, "Running stage 'download@airline':"),
        (0.5, "> python -m stages.download airline"),
        (2.0, "Updating lock file 'dvc.lock'"),
        (2.1, "Stage 'preprocess@airline' didn't change, skipping"),
        (3.0, "Running stage 'train@airline-window':"),
        (40.0, "Updating lock file 'dvc.lock'"),
        (41.0, "Running stage 'plot':"),
        (45.5, "plot: 12 figures"),
    ]
    assert stage_times(lines) == {"download@airline": 2.0, "train@airline-window": 37.0, "plot": 4.5}
