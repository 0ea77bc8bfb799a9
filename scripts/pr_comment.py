"""Post the pull-request report as one comment, updated in place on later pushes.

    python -m scripts.pr_comment pr-report --repository OWNER/NAME --pr N --images-url URL

Run by .github/workflows/pr-comment.yml after the pull-request workflow, with the base
repository's token, so pull requests from forks get their comment too. The report's figures are
committed to a branch of the repository by that workflow (no third-party host; private
repositories' figures stay on GitHub); `--images-url` is where that branch serves them, and every
relative image link of report.md is rewritten to it. The comment is found again by a marker line
and edited with GitHub's REST API through the `gh` CLI the runners have.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
from pathlib import Path

MARKER = "<!-- dvc-pipeline-report -->"
IMAGE = re.compile(r"(!\[[^\]]*\]\()(?!https?://)([^)\s]+)(\))")


def with_image_urls(report: str, images_url: str) -> str:
    return IMAGE.sub(lambda match: f"{match.group(1)}{images_url.rstrip('/')}/{match.group(2)}{match.group(3)}", report)


def gh(arguments: list[str], body: str | None = None) -> str:
    payload = None if body is None else json.dumps({"body": body})
    command = ["gh", "api", *arguments] + ([] if payload is None else ["--input", "-"])
    return subprocess.run(command, input=payload, capture_output=True, text=True, check=True).stdout


def existing_comment(repository: str, pr: int) -> int | None:
    """The id of the comment this script wrote on the pull request before, if any."""
    pages = gh(["--paginate", "--slurp", f"repos/{repository}/issues/{pr}/comments"])
    for comment in (comment for page in json.loads(pages) for comment in page):
        if MARKER in (comment.get("body") or ""):
            return comment["id"]
    return None


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folder", type=Path)
    parser.add_argument("--repository", required=True)
    parser.add_argument("--pr", type=int, required=True)
    parser.add_argument("--images-url", required=True)
    args = parser.parse_args(argv)
    body = f"{MARKER}\n{with_image_urls((args.folder / 'report.md').read_text(encoding='utf-8'), args.images_url)}"
    comment = existing_comment(args.repository, args.pr)
    if comment is None:
        gh(["--method", "POST", f"repos/{args.repository}/issues/{args.pr}/comments"], body)
        print(f"pr_comment: commented on #{args.pr}")
    else:
        gh(["--method", "PATCH", f"repos/{args.repository}/issues/comments/{comment}"], body)
        print(f"pr_comment: updated comment {comment} on #{args.pr}")


if __name__ == "__main__":
    main()
