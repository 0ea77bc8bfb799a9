"""A trained experiment's folder is all predict needs: the settings it was trained with
(settings.json), its vocabulary / labels / scaler and series, and the seed models."""

import dataclasses
import shutil
from pathlib import Path

import pytest

from stages import predict
from stages.params import load_params, save_trained
from stages.preprocess import prepare_series, prepare_texts
from stages.tasks import classify, forecast
from tests.conftest import ROOT
from tests.test_text_tasks import classifier, text_dataset, toy_texts, write_raw


def predicted(capsys, argv: list[str]) -> str:
    capsys.readouterr()  # training's progress lines
    predict.main(argv)
    return capsys.readouterr().out


def test_forecast_reads_its_own_settings_not_params_or_prepared_data(airline_raw, workdir, capsys):
    params = load_params(ROOT / "params.yaml")
    prepare_series("airline", params.dataset("airline"), workdir / "data" / "prepared" / "airline")
    experiment = dataclasses.replace(params.experiment("airline-stateful"), epochs=2, seeds=[7], backend="tensorflow")
    folder = workdir / "models" / "airline-stateful"
    folder.mkdir(parents=True)
    save_trained(folder, experiment, params.dataset("airline"))
    forecast.train("airline-stateful", experiment, folder, Path("dvclive") / "airline-stateful")
    before = predicted(capsys, ["airline-stateful", "--steps", "3"])
    assert before.splitlines()[1].split()[0] == "1961-01"
    (workdir / "params.yaml").write_text((ROOT / "params.yaml").read_text().replace("look_back: 1", "look_back: 5"))
    assert predicted(capsys, ["airline-stateful", "--steps", "3"]) == before
    shutil.rmtree(workdir / "data" / "prepared")
    (workdir / "params.yaml").unlink()
    assert predicted(capsys, ["airline-stateful", "--steps", "3"]) == before


def test_classify_reads_its_own_settings_not_params_or_prepared_data(workdir, capsys):
    write_raw(workdir, "texts.csv", toy_texts().to_csv(index=False).encode())
    prepare_texts("toy", text_dataset(), workdir / "data" / "prepared" / "toy")
    experiment, folder = classifier(), workdir / "models" / "toy"
    folder.mkdir(parents=True)
    save_trained(folder, experiment, text_dataset())
    classify.train("toy", experiment, folder, Path("dvclive") / "toy")
    before = predicted(capsys, ["toy", "goal match team", "bank rates profit"])
    shutil.rmtree(workdir / "data" / "prepared")  # and there is no params.yaml here at all
    assert predicted(capsys, ["toy", "goal match team", "bank rates profit"]) == before
    assert len(before.splitlines()) == 2


@pytest.mark.parametrize("name", ["airline-window", "bbc-bilstm", "nursery-bilstm"])
def test_an_untrained_experiment_of_any_task_is_one_line(workdir, name: str):
    shutil.copy(ROOT / "params.yaml", workdir / "params.yaml")
    with pytest.raises(SystemExit) as error:
        predict.main([name])
    assert str(error.value) == f"error: {name} is not trained yet (run: dvc repro train@{name})"


def test_a_broken_settings_file_names_the_file_and_the_remedy(workdir):
    shutil.copy(ROOT / "params.yaml", workdir / "params.yaml")
    (workdir / "models" / "airline-window").mkdir(parents=True)
    (workdir / "models" / "airline-window" / "settings.json").write_text('{"experiment": ')
    with pytest.raises(SystemExit) as error:
        predict.main(["airline-window"])
    message = str(error.value)
    assert message.startswith("error: models/airline-window/settings.json: unreadable (") and "\n" not in message
    assert message.endswith("run: dvc checkout --force models/airline-window or dvc repro train@airline-window")


@pytest.mark.parametrize("name", ["airline-stacked", "bbc-bilstm"])
def test_a_folder_from_before_the_network_block_loads_as_it_was_trained(tmp_path: Path, name: str):
    """Forecasts had `units: [..]` beside the other settings and text networks one int `units`
    until the one `network:` block; such a folder (from dvc.lock's history) still loads and predicts."""
    import json

    from stages.io import write_json
    from stages.params import load_trained

    params = load_params(ROOT / "params.yaml")
    experiment = params.experiment(name)
    save_trained(tmp_path, experiment, params.dataset(experiment.dataset))
    saved = json.loads((tmp_path / "settings.json").read_text())
    network = saved["experiment"].pop("network")
    if experiment.task == "forecast":
        saved["experiment"]["units"] = network["units"]
    else:
        saved["experiment"]["network"] = network | {"units": network["units"][0]}
    write_json(tmp_path / "settings.json", saved)
    assert load_trained(tmp_path, name) == (experiment, params.dataset(experiment.dataset))
