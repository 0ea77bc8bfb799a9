import numpy as np
import pytest

from stages.datasets import SeriesDataset, SourceFile
from stages.io import PipelineError
from stages.preprocess import prepare_series
from tests.conftest import with_defaults

SOURCE = SourceFile(name="series.csv", url="https://example.invalid/series.csv", sha256="0" * 64)


def dataset(**changes) -> SeriesDataset:
    options = {"files": [SOURCE], "value_column": "Passengers", "time_column": "Month", "seasonal_period": 2}
    return with_defaults("datasets", "series", **(options | changes))


def write_raw(workdir, text: str, newline: str = "\n") -> None:
    folder = workdir / "data" / "raw" / "toy"
    folder.mkdir(parents=True)
    (folder / "series.csv").write_bytes(text.replace("\n", newline).encode())


def test_quoted_header_and_crlf_are_read(workdir):
    write_raw(workdir, '"Month","Passengers"\n' + "\n".join(f"1949-{m:02d},{100 + m}" for m in range(1, 11)), "\r\n")
    assert prepare_series("toy", dataset(), workdir / "out") == "10 points, 6 train / 4 test"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("Month,Count\n1949-01,1\n", r"series.csv: column 'Passengers' not found \(columns: Month, Count\)"),
        ("Month,Passengers\n1949-01,1\n1949-02,many\n", r"column 'Passengers' row 2 is not a number \('many'\)"),
        ("Month,Passengers\n1949-01,1\n1949-02,\n", r"row 2 is not a number \(''\); set fill: drop, previous or interpolate"),
        (
            "Month,Passengers\n1949-01,1\n1949-02,2\n1949-03,3\n",
            r"datasets.toy.train_fraction: 3 points split 2/1; each part needs at least 3",
        ),
    ],
)
def test_bad_series_is_a_one_line_error_and_nothing_is_written(workdir, text: str, message: str):
    write_raw(workdir, text)
    with pytest.raises(PipelineError, match=message):
        prepare_series("toy", dataset(), workdir / "out")
    assert not (workdir / "out").exists()


@pytest.mark.parametrize(
    ("text", "changes", "message"),
    [
        ("d,v\n" + "".join(f"d{i},\n" for i in range(8)), {"fill": "interpolate"}, r"column 'v' has no numbers to fill the gaps from"),
        ("d,v\n" + "".join(f"d{i},{i}\n" for i in range(8)), {"seasonal_period": 5}, r"seasonal_period: 5 is longer than the 4 training"),
    ],
)
def test_impossible_series_stops_at_preprocess(workdir, text: str, changes: dict, message: str):
    write_raw(workdir, text)
    with pytest.raises(PipelineError, match=message):
        prepare_series("toy", dataset(value_column="v", time_column="d", train_fraction=0.5, **changes), workdir / "out")
    assert not (workdir / "out").exists()


def test_missing_raw_file_says_to_download(workdir):
    with pytest.raises(PipelineError, match=r"series\.csv: file not found"):
        prepare_series("toy", dataset(), workdir / "out")


@pytest.mark.parametrize(
    ("fill", "times", "values"),
    [
        ("drop", ["d1", "d2", "d4", "d5", "d6", "d7"], [1, 2, 4, 5, 6, 7]),
        ("previous", ["d1", "d2", "d3", "d4", "d5", "d6", "d7"], [1, 2, 2, 4, 5, 6, 7]),
        ("interpolate", ["d1", "d2", "d3", "d4", "d5", "d6", "d7"], [1, 2, 3, 4, 5, 6, 7]),
    ],
)
def test_fill_policy_accepts_gaps(workdir, fill: str, times: list[str], values: list[float]):
    write_raw(workdir, "day,visits\nd1,1\nd2,2\nd3,\nd4,4\nd5,5\nd6,6\nd7,7\n")
    prepare_series("toy", dataset(value_column="visits", time_column="day", train_fraction=0.5, fill=fill), workdir / "out")
    series = np.load(workdir / "out" / "series.npz")
    assert series["time"].tolist() == times
    np.testing.assert_array_equal(series["values"], values)


def test_a_class_missing_from_training_stops_at_preprocess(workdir):
    import pandas as pd

    from stages.preprocess import prepare_texts
    from tests.test_text_tasks import text_dataset, toy_texts, write_raw

    texts = pd.concat([toy_texts(100), pd.DataFrame({"category": ["weather"] * 10, "text": ["rain and wind"] * 10})])
    write_raw(workdir, "texts.csv", texts.to_csv(index=False).encode())
    with pytest.raises(PipelineError, match=r"datasets.toy: class 'weather' is in the (validation|test) part but never in train"):
        prepare_texts("toy", text_dataset(split="ordered", validation_fraction=0.0, test_fraction=0.1), workdir / "out")
    assert not (workdir / "out").exists()
