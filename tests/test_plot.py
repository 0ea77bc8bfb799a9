"""The plot stage's labels in the data's own terms."""

import pandas as pd
import pytest

from stages.plot import seasonal_label, time_axis


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
