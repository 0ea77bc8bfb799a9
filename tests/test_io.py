from pathlib import Path

import pytest

from stages.io import replace_directory, write_text


@pytest.mark.parametrize("in_dvc_project", [True, False])
def test_a_killed_runs_staging_is_removed_by_the_next_run(workdir: Path, in_dvc_project: bool):
    if in_dvc_project:
        (workdir / ".dvc" / "tmp").mkdir(parents=True)
    replace_directory("models/x", lambda folder: (folder / "seed-1.keras").write_text("partial"))
    staging = workdir / ".dvc" / "tmp" / "staging" if in_dvc_project else workdir / "models"
    prefix = ".models~x." if in_dvc_project else ".x."
    (staging / f"{prefix}abc123.tmp").mkdir()  # what kill -9 during fill() leaves
    (staging / f"{prefix}abc123.tmp" / "seed-1.keras").write_text("partial")
    replace_directory("models/x", lambda folder: (folder / "seed-1.keras").write_text("whole"))
    assert (workdir / "models" / "x" / "seed-1.keras").read_text() == "whole"
    assert sorted(path.name for path in staging.iterdir()) == ([] if in_dvc_project else ["x"])


def test_a_failed_fill_keeps_the_last_good_directory(workdir: Path):
    (workdir / ".dvc" / "tmp").mkdir(parents=True)
    replace_directory("reports/x", lambda folder: (folder / "seeds.json").write_text("good"))

    def fail(folder: Path) -> None:
        (folder / "seeds.json").write_text("half")
        raise RuntimeError("killed")

    with pytest.raises(RuntimeError):
        replace_directory("reports/x", fail)
    assert (workdir / "reports" / "x" / "seeds.json").read_text() == "good"
    assert list((workdir / ".dvc" / "tmp" / "staging").iterdir()) == []
    write_text("metrics/x.json", "{}\n")
    assert sorted(path.name for path in (workdir / "metrics").iterdir()) == ["x.json"]
