"""Every bad input and fault of issue 33 is one `error: ...` line and a non-zero exit, never a
traceback, and never a partly written output."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import pytest
import yaml

from stages import params, predict, preprocess
from stages.io import PipelineError, exit_on_error, replace_directory
from tests.conftest import ROOT, with_defaults


def stopped(capsys: pytest.CaptureFixture, run, code: int = 1) -> str:
    """The message of a stage that stopped: exactly one line, no traceback, exit status `code`
    (`sys.exit("error: ...")` exits 1 with the message as its code)."""
    with pytest.raises(SystemExit) as exit_info:
        run()
    status = exit_info.value.code
    message = status if isinstance(status, str) else capsys.readouterr().err.strip()
    assert (1 if isinstance(status, str) else status) == code
    assert "Traceback" not in message and len(message.splitlines()) == 1, message
    return message


@pytest.fixture
def project(workdir: Path) -> Path:
    """The project's params.yaml in a scratch folder with a .dvc/tmp staging area."""
    shutil.copy(ROOT / "params.yaml", workdir / "params.yaml")
    (workdir / ".dvc" / "tmp").mkdir(parents=True)
    return workdir


def raising(error: BaseException):
    @exit_on_error
    def main() -> None:
        raise error

    return main


@pytest.mark.parametrize(
    ("error", "message"),
    [
        (PermissionError(13, "Permission denied", "metrics/x.json"), "error: metrics/x.json: Permission denied"),
        (OSError(28, "No space left on device", "models/x/seed-1.keras"), "error: models/x/seed-1.keras: No space left on device"),
    ],
)
def test_os_errors_name_the_file(capsys, error: OSError, message: str):
    assert stopped(capsys, raising(error)) == message


def test_ctrl_c_says_interrupted_exits_130_and_cleans_staging(capsys, project: Path):
    replace_directory("models/x", lambda folder: (folder / "seed-1.keras").write_text("good"))

    def fill(folder: Path) -> None:
        (folder / "seed-1.keras").write_text("half")
        raise KeyboardInterrupt

    assert stopped(capsys, exit_on_error(lambda: replace_directory("models/x", fill)), code=130) == "interrupted"
    assert (project / "models" / "x" / "seed-1.keras").read_text() == "good"
    assert list((project / ".dvc" / "tmp" / "staging").iterdir()) == []


def test_ctrl_c_that_surfaces_as_another_error_inside_c_code_is_still_interrupted(capsys, project: Path):
    import os
    import signal

    def fill(folder: Path) -> None:
        (folder / "seed-1.keras").write_text("half")
        try:
            os.kill(os.getpid(), signal.SIGINT)
        except KeyboardInterrupt:  # what TensorFlow's C code did with it in a real Ctrl-C
            raise SystemError("Exception encountered when calling LSTM.call(): bad argument to internal function") from None

    assert stopped(capsys, exit_on_error(lambda: replace_directory("models/x", fill)), code=130) == "interrupted"
    assert not (project / "models" / "x").exists()
    assert list((project / ".dvc" / "tmp" / "staging").iterdir()) == []


def test_a_full_disk_under_a_library_names_the_output(capsys, project: Path):
    def fill(folder: Path) -> None:
        raise OSError(28, "No space left on device")  # as h5py / zipfile raise it: no file name

    message = stopped(capsys, exit_on_error(lambda: replace_directory("models/x", fill)))
    assert message == "error: models/x: No space left on device"


def test_resource_exhausted_is_one_line_without_importing_tensorflow(capsys):
    exhausted = type("ResourceExhaustedError", (Exception,), {"__module__": "tensorflow.python.framework.errors_impl"})
    message = stopped(capsys, raising(exhausted("OOM when allocating tensor with shape[400000,100000]\n more")))
    assert message.startswith("error: out of memory: OOM when allocating tensor with shape[400000,100000]; lower units")


def test_debug_environment_variable_shows_the_traceback(monkeypatch):
    monkeypatch.setenv("LSTM_DEBUG", "1")
    with pytest.raises(PipelineError, match="bad input"):
        raising(PipelineError("bad input"))()


def trained_settings(project: Path) -> Path:
    """models/airline-window/ with the settings train saves, and nothing else yet."""
    loaded = params.load_params(project / "params.yaml")
    folder = project / "models" / "airline-window"
    folder.mkdir(parents=True, exist_ok=True)
    experiment = dataclasses.replace(loaded.experiment("airline-window"), backend="tensorflow")  # this process's Keras
    params.save_trained(folder, experiment, loaded.dataset("airline"))
    return folder


def test_predict_before_training_names_the_repro_target(capsys, project: Path):
    message = stopped(capsys, lambda: predict.main(["airline-window"]))
    assert message == "error: airline-window is not trained yet (run: dvc repro train@airline-window)"


def test_broken_scaler_json_names_the_file_and_where(capsys, project: Path):
    (trained_settings(project) / "scaler.json").write_text('{"minimum": 1,')
    message = stopped(capsys, lambda: predict.main(["airline-window", "--values", "1,2,3"]))
    assert message.startswith("error: models/airline-window/scaler.json: not valid JSON (Expecting property name")
    assert "line 1 column 15" in message


def test_truncated_keras_file_is_one_line(capsys, project: Path):
    folder = trained_settings(project)
    (folder / "scaler.json").write_text('{"minimum": 1, "maximum": 2, "log": false, "difference": 0, "training_windows": 10}')
    for seed in range(1, 6):
        (folder / f"seed-{seed}.keras").write_bytes(b"")
    message = stopped(capsys, lambda: predict.main(["airline-window", "--values", "1,2,3"]))
    assert message.startswith("error: models/airline-window/seed-1.keras: cannot load the model (")
    assert message.endswith("run: dvc checkout --force models/airline-window or dvc repro train@airline-window")


def write_params(project: Path, path: tuple, value: object) -> None:
    """The project's params.yaml with one value changed."""
    data = yaml.safe_load((ROOT / "params.yaml").read_text())
    entry = data
    for key in path[:-1]:
        entry = entry[key]
    entry[path[-1]] = value
    (project / "params.yaml").write_text(yaml.safe_dump(data, sort_keys=False))


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (("experiments", "airline-window", "epochs"), 100_000_000, "experiments.airline-window.epochs: must be at most 10,000"),
        (
            ("experiments", "airline-window", "network"),
            {"units": [100_000]},
            "experiments.airline-window.network.units[0]: must be at most 4,096",
        ),
        (("experiments", "airline-window", "look_back"), 50_000, "experiments.airline-window.look_back: must be at most 10,000"),
        (("experiments", "bbc-bilstm", "max_length"), 10**6, "experiments.bbc-bilstm.max_length: must be at most 100,000"),
        (("experiments", "bbc-bilstm", "encoding", "vocab_size"), 10**7, "experiments.bbc-bilstm.encoding.vocab_size: must be at most"),
        (("experiments", "bbc-bilstm", "network", "embedding_dim"), 10**5, "experiments.bbc-bilstm.network.embedding_dim: must be at most"),
        (("experiments", "alice-lstm", "window"), 10**5, "experiments.alice-lstm.window: must be at most 10,000"),
    ],
)
def test_settings_past_their_documented_bound_are_refused(capsys, project: Path, path: tuple, value: object, message: str):
    write_params(project, path, value)
    assert stopped(capsys, lambda: predict.main([path[1]])).startswith(f"error: {message}")


def test_a_model_too_big_for_the_machine_is_refused_with_its_size(monkeypatch):
    from stages import networks

    monkeypatch.setattr(networks, "machine_memory", lambda: 8 * 2**30)
    network = with_defaults("experiments", "forecast", dataset="airline", look_back=3, framing="features", network={"units": [4096] * 4})
    with pytest.raises(PipelineError) as refused:
        networks.check_size("airline-window", network.network, 1, 3, 1, 0, 1)
    parameters = 4 * (4096 * (3 + 4096) + 4096) + 3 * 4 * (4096 * (4096 + 4096) + 4096) + 4096 + 1  # four LSTM gates, then Dense(1)
    assert str(refused.value).startswith(f"experiments.airline-window.network: {parameters:,} parameters")
    assert str(refused.value).endswith("need about 7.0 GiB to train, more than 50% of this machine's 8.0 GiB")


def test_yaml_syntax_error_keeps_line_and_column(capsys, project: Path):
    (project / "params.yaml").write_text("experiments:\n  a: [1, 2\n  b: 3\n")
    message = stopped(capsys, lambda: predict.main(["a"]))
    assert message.startswith("error: params.yaml: not valid YAML at line 3 column 4: ")


def add_dataset(project: Path, file_name: str, text: str, **entry: object) -> None:
    """A dataset `toy` of the project's params.yaml, with its raw file."""
    data = yaml.safe_load((ROOT / "params.yaml").read_text())
    files = [{"name": file_name, "url": "https://example.invalid/" + file_name, "sha256": "0" * 64}]
    data["datasets"] = {"toy": {"files": files, **entry}}
    (project / "params.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    folder = project / "data" / "raw" / "toy"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / file_name).write_text(text)


def months(*numbers: int) -> str:
    return "Month,Passengers\n" + "".join(f"1949-{number:02d},{100 + index}\n" for index, number in enumerate(numbers))


def add_series(project: Path, text: str, **entry: object) -> None:
    add_dataset(project, "series.csv", text, kind="series", value_column="Passengers", time_column="Month", seasonal_period=2, **entry)


def test_series_with_a_repeated_time_is_refused_naming_both_rows(capsys, project: Path):
    add_series(project, months(1, 2, 3, 4, 4, 5, 6, 7, 8, 9))
    message = stopped(capsys, lambda: preprocess.main(["toy"]))
    assert message == "error: data/raw/toy/series.csv: column 'Month' row 5 repeats the time '1949-04' of row 4; each time must appear once"
    assert not (project / "data" / "prepared" / "toy").exists()


def test_series_out_of_order_is_refused_naming_the_rows(capsys, project: Path):
    add_series(project, months(1, 2, 4, 3, 5, 6, 7, 8, 9, 10))
    message = stopped(capsys, lambda: preprocess.main(["toy"]))
    assert message == (
        "error: data/raw/toy/series.csv: column 'Month' row 4 ('1949-03') comes before row 3 ('1949-04'); "
        "times must increase (set sort: true to sort the rows by time)"
    )
    assert not (project / "data" / "prepared" / "toy").exists()


def test_series_out_of_order_is_sorted_with_sort_true(capsys, project: Path):
    import numpy as np

    add_series(project, months(1, 2, 4, 3, 5, 6, 7, 8, 9, 10), sort=True)
    preprocess.main(["toy"])
    assert "1 row(s) out of time order in 'Month'; sort: true, sorted by time" in capsys.readouterr().out
    series = np.load(project / "data" / "prepared" / "toy" / "series.npz")
    assert series["time"].tolist() == [f"1949-{number:02d}" for number in range(1, 11)]
    assert series["values"].tolist()[1:4] == [101, 103, 102]


def add_texts(project: Path, label_of_row_5: str, **entry: object) -> None:
    """40 labelled texts; row 5's label is `label_of_row_5`."""
    rows = [("sport" if row % 2 else "money", f"text number {row}") for row in range(1, 41)]
    rows[4] = (label_of_row_5, "text number 5")
    text = "category,text\n" + "".join(f"{label},{words}\n" for label, words in rows)
    add_dataset(project, "texts.csv", text, kind="text", text_column="text", label_column="category", **entry)


@pytest.mark.parametrize("marker", ["NaN", "NA", "null", "None"])
def test_a_missing_value_marker_as_label_is_refused_with_its_row(capsys, project: Path, marker: str):
    add_texts(project, marker)
    message = stopped(capsys, lambda: preprocess.main(["toy"]))
    assert message == (
        f"error: data/raw/toy/texts.csv: row 5 has category {marker!r}, a missing-value marker, not a label (1 such row(s)); "
        "set missing_labels: drop to drop them, or keep to make it a class"
    )
    assert not (project / "data" / "prepared" / "toy").exists()


def test_missing_labels_drop_drops_those_rows(capsys, project: Path):
    add_texts(project, "NaN", missing_labels="drop")
    preprocess.main(["toy"])
    assert "dropped 1 rows whose 'category' is a missing-value marker (missing_labels: drop)" in capsys.readouterr().out
    assert (project / "data" / "prepared" / "toy" / "labels.json").read_text().split() == ["[", '"money",', '"sport"', "]"]


def add_corpus(project: Path, text: str, **entry: object) -> None:
    add_dataset(project, "book.txt", text, kind="corpus", **entry)


def test_a_document_pattern_that_matches_no_line_says_so(capsys, project: Path):
    add_corpus(
        project,
        "".join(f"  {numeral}\nsome words of chapter {numeral}\n" for numeral in ("I", "II", "III", "IV")),
        document_pattern="^[IVXLC]+$",
    )
    message = stopped(capsys, lambda: preprocess.main(["toy"]))
    assert message == (
        "error: datasets.toy.document_pattern: '^[IVXLC]+$' matched no line of data/raw/toy/book.txt "
        "(each line is matched from its first character)"
    )


def test_an_old_style_gutenberg_footer_ends_the_text(project: Path):
    lines = [f"line {number} of the book" for number in range(1, 21)]
    text = "\n".join(["*** START OF THE BOOK ***", *lines, "End of Project Gutenberg's Book, by Someone", "licence text", "*** END OF"])
    add_corpus(project, text, start_marker="*** START OF", end_marker="*** END OF")
    preprocess.main(["toy"])
    corpus = yaml.safe_load((project / "data" / "prepared" / "toy" / "corpus.json").read_text())
    assert corpus["validation"] == ["line 19 of the book", "line 20 of the book"]


def test_an_error_in_a_dataset_variant_names_the_variant(capsys, project: Path):
    add_series(project, months(1, 2, 3, 4, 5, 6, 7, 8, 9, 10).replace(",100\n", ",0\n"))
    data = yaml.safe_load((project / "params.yaml").read_text())
    data["dataset_variants"] = {"toy-log": {"source": "toy", "kind": "series", "log": True}}
    (project / "params.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    message = stopped(capsys, lambda: preprocess.main(["toy-log"]))
    assert message == "error: dataset_variants.toy-log.log: needs positive values, row 1 is 0"


def test_predict_refuses_empty_values(capsys, project: Path):
    trained_settings(project)
    message = stopped(capsys, lambda: predict.main(["airline-window", "--values", ""]))
    assert message == "error: --values: empty; give comma-separated numbers, or leave it out to start from the series' end"


def test_predict_steps_are_bounded(capsys, project: Path):
    trained_settings(project)
    message = stopped(capsys, lambda: predict.main(["airline-window", "--steps", "1000000000"]))
    assert message == "error: --steps must be at most 1000, got 1000000000"


def test_a_long_forecast_shows_its_progress(capsys, project: Path, monkeypatch):
    import numpy as np

    from stages import checkpoints, fitting

    scaler = '{"minimum": 0, "maximum": 10, "log": false, "difference": 0, "training_windows": 10}'
    (trained_settings(project) / "scaler.json").write_text(scaler)
    monkeypatch.setattr(checkpoints, "load_seed_models", lambda name, seeds: {1: lambda inputs, training: np.array([[0.5]])})
    monkeypatch.setattr(fitting, "reset_states", lambda model: None)
    predict.main(["airline-window", "--values", "1,2,3", "--steps", "250"])
    err = capsys.readouterr().err
    assert "forecast: step 100/250 of seed model 1" in err and "forecast: step 200/250 of seed model 1" in err
