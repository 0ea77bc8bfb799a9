"""The pull-request comment, rehearsed against a stand-in `gh` that records what it was asked."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from scripts.pr_comment import MARKER, with_image_urls
from tests.conftest import ROOT

FAKE_GH = """#!/usr/bin/env python3
import json, os, sys
calls = os.environ["GH_CALLS"]
record = {"args": sys.argv[1:], "stdin": sys.stdin.read() if "--input" in sys.argv else None}
with open(calls, "a") as handle:
    handle.write(json.dumps(record) + "\\n")
if "--paginate" in sys.argv:
    print(os.environ["GH_COMMENTS"])
"""


def test_image_links_point_at_the_branch_and_absolute_ones_stay():
    report = "| ![base a.png](figures/base-a.png) | ![x](https://example.org/x.png) |"
    assert with_image_urls(report, "https://github.com/o/r/raw/imgs/12/") == (
        "| ![base a.png](https://github.com/o/r/raw/imgs/12/figures/base-a.png) | ![x](https://example.org/x.png) |"
    )


@pytest.mark.parametrize(
    ("comments", "method", "path"), [([[]], "POST", "repos/o/r/issues/7/comments"), (None, "PATCH", "repos/o/r/issues/comments/99")]
)
def test_one_comment_created_then_updated_in_place(tmp_path: Path, comments, method: str, path: str):
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "gh").write_text(FAKE_GH)
    (tmp_path / "bin" / "gh").chmod(0o755)
    (tmp_path / "pr-report").mkdir()
    (tmp_path / "pr-report" / "report.md").write_text("## Pipeline report\n![a](figures/a.png)\n")
    existing = comments if comments is not None else [[{"id": 5, "body": "other"}, {"id": 99, "body": f"{MARKER}\nold"}]]
    environment = os.environ | {
        "PATH": f"{tmp_path / 'bin'}:{os.environ['PATH']}",
        "GH_CALLS": str(tmp_path / "calls"),
        "GH_COMMENTS": json.dumps(existing),
    }
    command = [sys.executable, "-m", "scripts.pr_comment", str(tmp_path / "pr-report"), "--repository", "o/r", "--pr", "7"]
    subprocess.run([*command, "--images-url", "https://github.com/o/r/raw/imgs/7"], cwd=ROOT, env=environment, check=True)
    calls = [json.loads(line) for line in (tmp_path / "calls").read_text().splitlines()]
    assert calls[0]["args"][:4] == ["api", "--paginate", "--slurp", "repos/o/r/issues/7/comments"]
    assert calls[1]["args"][:4] == ["api", "--method", method, path] and len(calls) == 2
    body = json.loads(calls[1]["stdin"])["body"]
    assert body.startswith(MARKER) and "![a](https://github.com/o/r/raw/imgs/7/figures/a.png)" in body
