"""The plot stage's labels in the data's own terms."""

import json

import pandas as pd
import pytest
import yaml

import stages.figures
import stages.plot
from stages.figures import seasonal_label, time_axis
from tests.conftest import ROOT


@pytest.mark.parametrize(
    ("period", "times", "label"),
    [
        (12, ["1949-01", "1949-02", "1949-03"], "seasonal naive (same month last year)"),
        (365, ["1981-01-01", "1981-01-02", "1981-01-03"], "seasonal naive (same day last year)"),
        (7, ["1981-01-01", "1981-01-02", "1981-01-03"], "seasonal naive (same day last week)"),
        (12, ["1981-01-01", "1981-01-02", "1981-01-03"], "seasonal naive (12 steps back)"),
        (4, ["0", "1", "2"], "seasonal naive (4 steps back)"),
    ],
)
def test_seasonal_baseline_is_named_in_the_datas_period(period: int, times: list[str], label: str):
    assert seasonal_label(period, pd.Series(times)) == label


def test_time_axis_uses_dates_when_the_times_are_dates():
    table = pd.DataFrame({"index": [3, 4], "time": ["1949-04", "1949-05"]})
    assert list(time_axis(table)) == [pd.Timestamp("1949-04-01"), pd.Timestamp("1949-05-01")]
    assert list(time_axis(table.assign(time=["a", "b"]))) == [3, 4]


def test_pairs_and_dashed_variants_come_from_params(tmp_path, monkeypatch):
    """`compare_with` draws a pair figure, and the variants on a transformed series (log or
    differenced) are the dashed lines of their file's test forecasts, whatever their names."""
    data = yaml.safe_load((ROOT / "params.yaml").read_text(encoding="utf-8"))
    base = data["experiments"]["airline-stateful"]
    data["experiments"] = {
        "plain": base | {"compare_with": "logged"},
        "logged": base | {"dataset": "airline-seasonal", "compare_with": None},
    }
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    table = pd.DataFrame(
        {
            "index": range(4),
            "time": ["1949-01", "1949-02", "1949-03", "1949-04"],
            "split": ["train", "train", "test", "test"],
            "actual": [1.0, 2.0, 3.0, 4.0],
            "prediction": [1.1, 2.1, 3.1, 4.1],
            "lowest": [1.0, 2.0, 3.0, 4.0],
            "highest": [1.2, 2.2, 3.2, 4.2],
        }
    )
    metrics = {"test_rmse": 1.0, "naive_test_rmse": 2.0, "seasonal_naive_test_rmse": 3.0, "seeds": 1}
    for folder in ("metrics", "plots/forecast"):
        (tmp_path / folder).mkdir(parents=True)
    for name in data["experiments"]:
        (tmp_path / "metrics" / f"{name}.json").write_text(json.dumps(metrics))
        table.to_csv(tmp_path / "plots" / "forecast" / f"{name}.csv", index=False)
    dashed = []
    monkeypatch.setattr(
        stages.figures, "plot_test_forecasts", lambda dataset, tables, metrics, dashed_names, *rest: dashed.extend(dashed_names)
    )
    monkeypatch.chdir(tmp_path)
    figures = tmp_path / "figures"
    figures.mkdir()
    stages.plot.draw_figures(figures)
    assert (figures / "plain-vs-logged.png").is_file()
    assert dashed == ["logged"]


def test_a_chart_whose_outputs_are_not_all_here_is_kept_and_said(tmp_path, monkeypatch, capsys):
    """A clone where one experiment ran (the others' committed metrics, not their outputs): the
    charts across experiments it cannot redraw are kept as they were, not drawn from part of them."""
    data = yaml.safe_load((ROOT / "params.yaml").read_text(encoding="utf-8"))
    base = data["experiments"]["airline-stateful"]
    data["experiments"] = {"ran": base | {"compare_with": "not-here"}, "not-here": base | {"compare_with": None}}
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    (tmp_path / "plots" / "forecast").mkdir(parents=True)
    (tmp_path / "metrics").mkdir()
    metrics = {"test_rmse": 1.0, "naive_test_rmse": 2.0, "seasonal_naive_test_rmse": 3.0, "seeds": 1}
    for name in data["experiments"]:
        (tmp_path / "metrics" / f"{name}.json").write_text(json.dumps(metrics))
    table = {"index": [0, 1], "time": ["1949-01", "1949-02"], "split": ["train", "test"], "actual": [1.0, 2.0]}
    pd.DataFrame(table | {"prediction": [1.0, 2.0], "lowest": [1.0, 2.0], "highest": [1.0, 2.0]}).to_csv(
        tmp_path / "plots" / "forecast" / "ran.csv", index=False
    )
    earlier = tmp_path / "earlier"
    earlier.mkdir()
    for name in ("airline-rmse-by-variant.png", "airline-test-forecasts.png", "ran-vs-not-here.png"):
        (earlier / name).write_bytes(name.encode())
    monkeypatch.chdir(tmp_path)
    folder = tmp_path / "figures"
    folder.mkdir()
    assert stages.plot.draw_figures(folder, earlier) == 3
    assert all((folder / path.name).read_bytes() == path.read_bytes() for path in earlier.iterdir())
    assert "plot: kept 3 figure(s) as they were, the outputs of 1 experiment(s) are not here (not-here;" in capsys.readouterr().out
