"""Stage download@<dataset>: fetch each source file, verify its sha256, publish data/raw/<dataset>/.

With DATA_MIRROR set, files come from $DATA_MIRROR/<dataset>/<file> instead of the network.
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


def _copy_from_mirror(mirror: Path, dataset: str, source: SourceFile, target: Path) -> None:
    path = mirror / (source.mirror or f"{dataset}/{source.name}")
    if not path.is_file():
        raise PipelineError(f"{path}: not in the mirror DATA_MIRROR={mirror} (upstream: {source.url})")
    shutil.copyfile(path, target)


def _fetch_url(source: SourceFile, target: Path) -> None:
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
        raise PipelineError(f"{source.url}: download failed ({reason})") from None


def fetch(dataset: str, sources: list[SourceFile], folder: Path, mirror: Path | None) -> None:
    """Fetch and verify every source file into `folder`."""
    for source in sources:
        target = folder / source.name
        target.parent.mkdir(parents=True, exist_ok=True)
        if mirror is not None:
            _copy_from_mirror(mirror, dataset, source, target)
        else:
            _fetch_url(source, target)
        actual = sha256_of(target)
        if actual != source.sha256:
            raise PipelineError(f"{source.name}: sha256 mismatch for dataset {dataset} (expected {source.sha256}, got {actual})")
        os.chmod(target, 0o644)


@exit_on_error
def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("dataset", help="a name from the datasets: or resources: section of params.yaml")
    args = parser.parse_args(argv)
    files = load_params().files(args.dataset)
    mirror = Path(os.environ["DATA_MIRROR"]) if os.environ.get("DATA_MIRROR") else None
    replace_directory(RAW_DIR / args.dataset, lambda folder: fetch(args.dataset, files, folder, mirror))
    print(f"download@{args.dataset}: {len(files)} file(s) verified" + (f" from mirror {mirror}" if mirror else ""))


if __name__ == "__main__":
    main()
