"""Bring your own data: one generated dataset of each kind, added through params.yaml only
(`file:` URLs, sha256), run by the real `dvc repro` in a temporary copy of the project and
asked questions with `python -m stages.predict`."""

import hashlib
import json
import math
import os
import random
import sys
from datetime import date, timedelta
from pathlib import Path

import pytest
import yaml

from tests.conftest import copy_project, mirror_path, run

WORDS = {
    "weather": ["rain", "sunny", "cloud", "storm", "wind", "cold"],
    "food": ["bread", "cheese", "soup", "apple", "pasta", "salad"],
    "travel": ["train", "flight", "hotel", "ticket", "beach", "map"],
}
EVERY_WORD = sorted({word for words in WORDS.values() for word in words})


def series_csv() -> str:
    """240 days of visits with a weekly cycle, semicolon-separated, one day missing."""
    rows = ["date;visits"]
    for day in range(240):
        weekly = 30 * math.sin(2 * math.pi * day / 7)
        value = "" if day == 100 else f"{200 + day / 5 + weekly + random.Random(day).randint(-8, 8):.0f}"
        rows.append(f"{date(2024, 1, 1) + timedelta(days=day)};{value}")
    return "\n".join(rows) + "\n"


def texts_tsv() -> str:
    rng = random.Random(0)
    rows = ["topic\tmessage"]
    for index in range(180):
        topic = list(WORDS)[index % 3]
        rows.append(f"{topic}\t" + " ".join(rng.choice(WORDS[topic]) for _ in range(8)))
    return "\n".join(rows) + "\n"


def corpus_txt() -> str:
    rng = random.Random(1)
    lines = [" ".join(rng.choice(EVERY_WORD) for _ in range(7)) for _ in range(80)]
    return "our licence text\n=== BEGIN ===\n" + "\n".join(lines) + "\n=== END ===\nmore licence\n"


def source(folder: Path, name: str, content: str) -> dict:
    (folder / name).write_text(content)
    return {"name": name, "url": f"file:mydata/{name}", "sha256": hashlib.sha256(content.encode()).hexdigest()}


@pytest.fixture(scope="module")
def own_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    mirror = mirror_path()
    if mirror is None:
        pytest.skip("no data mirror (the NLTK stopwords come from it): set DATA_MIRROR or place it at ../shared/data")
    project = tmp_path_factory.mktemp("own")
    copy_project(project)
    mydata = project / "mydata"
    mydata.mkdir()
    params = yaml.safe_load((project / "params.yaml").read_text())
    params["datasets"] = {
        "visits": {
            "kind": "series",
            "files": [source(mydata, "visits.csv", series_csv())],
            "value_column": "visits",
            "time_column": "date",
            "delimiter": ";",
            "seasonal_period": 7,
            "fill": "interpolate",
        },
        "topics": {
            "kind": "text",
            "files": [source(mydata, "topics.tsv", texts_tsv())],
            "text_column": "message",
            "label_column": "topic",
            "delimiter": "\t",
        },
        "notes": {
            "kind": "corpus",
            "files": [source(mydata, "notes.txt", corpus_txt())],
            "start_marker": "=== BEGIN",
            "end_marker": "=== END",
        },
    }
    params["dataset_variants"] = {}
    small_network = {"embedding_dim": 8, "units": [8]}
    params["experiments"] = {
        "visits-lstm": {"task": "forecast", "dataset": "visits", "look_back": 7, "framing": "features", "network": {"units": [4]}}
        | {"epochs": 2, "batch_size": 16, "seeds": [1]},
        "topics-lstm": {"task": "classify", "dataset": "topics", "encoding": {}, "max_length": 10, "network": small_network}
        | {"epochs": 2, "batch_size": 16, "seeds": [1]},
        "notes-rnn": {"task": "generate", "dataset": "notes", "encoding": {}, "sequences": "windows", "window": 4}
        | {"network": small_network | {"cell": "simple_rnn"}, "epochs": 2, "seeds": [1]}
        | {"sample": {"seed_text": "rain bread train", "lines": 2, "words": 5, "temperature": 0.0}},
    }
    (project / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    run(["dvc", "repro"], project, os.environ | {"DATA_MIRROR": str(mirror)})
    return project


def predict(project: Path, *arguments: str) -> str:
    return run([sys.executable, "-m", "stages.predict", *arguments], project)


def test_series_with_a_gap_forecasts_the_next_days(own_project: Path):
    metrics = json.loads((own_project / "metrics" / "visits-lstm.json").read_text())
    assert math.isfinite(metrics["test_rmse"]) and metrics["seasonal_naive_test_rmse"] < metrics["naive_test_rmse"]
    lines = predict(own_project, "visits-lstm", "--steps", "3").splitlines()
    assert [line.split()[0] for line in lines[1:]] == ["2024-08-28", "2024-08-29", "2024-08-30"]
    assert all(100 < float(line.split()[1]) < 400 for line in lines[1:])


def test_labelled_tsv_classifies_new_texts(own_project: Path):
    metrics = json.loads((own_project / "metrics" / "topics-lstm.json").read_text())
    assert 0 <= metrics["accuracy"] <= 1 and metrics["tfidf_logreg_accuracy"] > 0.9 > 0.4 > metrics["majority_accuracy"]
    rows = [json.loads(line) for line in predict(own_project, "topics-lstm", "rain storm wind", "cheese soup").splitlines()]
    assert [sorted(row["probabilities"]) for row in rows] == [sorted(WORDS)] * 2


def test_corpus_between_markers_generates_text(own_project: Path):
    metrics = json.loads((own_project / "metrics" / "notes-rnn.json").read_text())
    assert metrics["perplexity"] > 1 and metrics["validation_oov_rate"] == 0
    lines = predict(own_project, "notes-rnn", "--lines", "3", "--words", "4").splitlines()
    assert len(lines) == 3 and all(len(line.split()) == 4 and set(line.split()) <= set(EVERY_WORD) for line in lines)
