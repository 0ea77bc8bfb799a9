import json

import pytest

from stages import compare
from tests.conftest import ROOT, run


def test_compare_prints_what_dvc_metrics_show_prints(monkeypatch, capsys):
    first, second = "airline-stateful", "airline-stacked"
    shown = json.loads(run(["dvc", "metrics", "show", "--json", f"metrics/{first}.json", f"metrics/{second}.json"], ROOT))[""]["data"]
    monkeypatch.chdir(ROOT)
    compare.main([first, second])
    header, *rows = [line.split() for line in capsys.readouterr().out.splitlines()]
    assert header == ["Metric", first, second, "Change"]
    expected = {name: shown[f"metrics/{name}.json"]["data"] for name in (first, second)}
    assert [row[0] for row in rows] == sorted(expected[first])
    for metric, a, b, change in rows:
        assert (float(a), float(b)) == (expected[first][metric], expected[second][metric])
        assert float(change) == pytest.approx(expected[second][metric] - expected[first][metric], abs=1e-4)


def test_markdown_and_a_missing_metric():
    rows = compare.comparison_rows({"test_rmse": 50.0, "test_rmse_std": 2.0}, {"test_rmse": 45.5})
    assert rows == [["test_rmse", "50", "45.5", "-4.5"], ["test_rmse_std", "2", "-", "-"]]
    table = compare.render(["Metric", "a", "b", "Change"], rows, markdown=True).splitlines()
    assert table[:2] == ["| Metric | a | b | Change |", "| --- | --- | --- | --- |"]


def test_experiments_of_different_tasks_are_refused(monkeypatch):
    monkeypatch.chdir(ROOT)
    with pytest.raises(SystemExit, match="airline-stacked is a forecast experiment, bbc-bilstm a classify one"):
        compare.main(["airline-stacked", "bbc-bilstm"])
