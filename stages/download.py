"""Stage download@<dataset>: fetch each source file, verify its sha256, publish data/raw/<dataset>/.

With DATA_MIRROR set, files come from $DATA_MIRROR/<dataset>/<file> instead of the network
(a file the mirror lacks still comes from its URL); `file:` URLs are always read where they point.
Nothing is published unless every file verifies, so a bad fetch never replaces good data.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import sys
import urllib.error
import urllib.request
from pathlib import Path

from stages.io import RAW_DIR, PipelineError, exit_on_error, replace_directory
from stages.params import SourceFile, load_params

CHUNK = 1 << 20


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _mirror_candidates(mirror: Path, dataset: str, source: SourceFile) -> list[tuple[Path, str]]:
    """Where the source (or one of its alternatives) may lie in the mirror, each with its sha256."""
    candidates = [(mirror / (source.mirror or f"{dataset}/{source.name}"), source.sha256)]
    return candidates + [(mirror / dataset / alternative.name, alternative.sha256) for alternative in source.alternatives]


def _fetch_url(source: SourceFile, target: Path, tried: str = "") -> str:
    try:
        with urllib.request.urlopen(source.url, timeout=60) as response, open(target, "wb") as out:
            total = int(response.headers.get("Content-Length") or 0)
            done = 0
            for chunk in iter(lambda: response.read(CHUNK), b""):
                out.write(chunk)
                done += len(chunk)
                if total > 10 * CHUNK:
                    print(f"\r{source.name}: {done * 100 // total}% of {total >> 20} MiB", end="", file=sys.stderr)
            if total > 10 * CHUNK:
                print(file=sys.stderr)
    except (urllib.error.URLError, OSError, ValueError) as error:
        reason = getattr(error, "reason", error)
        raise PipelineError(
            f"{source.url}: download failed ({reason})" + (f"; not in the mirror either ({tried})" if tried else "")
        ) from None
    return source.sha256


def fetch(dataset: str, sources: list[SourceFile], folder: Path, mirror: Path | None) -> None:
    """Fetch and verify every source file into `folder`."""
    for source in sources:
        target = folder / source.name
        target.parent.mkdir(parents=True, exist_ok=True)
        candidates = _mirror_candidates(mirror, dataset, source) if mirror is not None and not source.url.startswith("file:") else []
        found = next(((path, sha256) for path, sha256 in candidates if path.is_file()), None)
        if found:
            shutil.copyfile(found[0], target)
            expected = found[1]
        else:  # no mirror, a file: URL, or a partial mirror without this file
            expected = _fetch_url(source, target, " or ".join(str(path) for path, _ in candidates))
        actual = sha256_of(target)
        if actual != expected:
            raise PipelineError(f"{source.name}: sha256 mismatch for dataset {dataset} (expected {expected}, got {actual})")
        os.chmod(target, 0o644)


@exit_on_error
def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("dataset", help="a name from the datasets: or resources: section of params.yaml")
    args = parser.parse_args(argv)
    files = load_params(only=args.dataset).files(args.dataset)
    mirror = Path(os.environ["DATA_MIRROR"]) if os.environ.get("DATA_MIRROR") else None
    replace_directory(RAW_DIR / args.dataset, lambda folder: fetch(args.dataset, files, folder, mirror))
    local = all(source.url.startswith("file:") for source in files)
    print(f"download@{args.dataset}: {len(files)} file(s) verified" + (f" from mirror {mirror}" if mirror and not local else ""))


if __name__ == "__main__":
    main()
