"""Stage download@<dataset>: fetch each source file, verify its sha256, publish data/raw/<dataset>/.

Each file is tried from its sources in order until one gives the verified bytes: with
DATA_MIRROR set, $DATA_MIRROR/<dataset>/<file> first; then its `url`; then its `fallbacks`
(pinned public copies, or a member of a zip). A source that fails (missing, network, HTTP error,
checksum) falls through to the next; if none verifies, one line lists every source tried with its
reason. `file:` URLs are read where they point. Nothing is published unless every file
verifies, so a bad fetch never replaces good data. DOWNLOAD_BASE_URL (for tests) serves every
`https://<host>/<path>` from `<base>/<host>/<path>` instead.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import sys
import urllib.error
import urllib.request
import zipfile
from pathlib import Path

from stages.datasets import Fallback, SourceFile
from stages.io import RAW_DIR, PipelineError, exit_on_error, replace_directory
from stages.params import load_params

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


def _address(url: str) -> str:
    base = os.environ.get("DOWNLOAD_BASE_URL")
    return f"{base.rstrip('/')}/{url.removeprefix('https://')}" if base and url.startswith("https://") else url


def _download(url: str, target: Path) -> None:
    """`url` into `target`, with progress on stderr for large files; any failure is an OSError."""
    try:
        with urllib.request.urlopen(_address(url), timeout=60) as response, open(target, "wb") as out:
            total = int(response.headers.get("Content-Length") or 0)
            done = 0
            for chunk in iter(lambda: response.read(CHUNK), b""):
                out.write(chunk)
                done += len(chunk)
                if total > 10 * CHUNK:
                    print(f"\r{target.name}: {done * 100 // total}% of {total >> 20} MiB", end="", file=sys.stderr)
            if total > 10 * CHUNK:
                print(file=sys.stderr)
    except (urllib.error.URLError, OSError, ValueError) as error:
        raise OSError(f"download failed: {getattr(error, 'reason', error)}") from None


def _from_network(fallback: Fallback, target: Path) -> None:
    if fallback.member is None:
        _download(fallback.url, target)
        return
    archive = target.with_name(f".{target.name}.zip")
    try:
        _download(fallback.url, archive)
        with zipfile.ZipFile(archive) as zipped, zipped.open(fallback.member) as member, open(target, "wb") as out:
            shutil.copyfileobj(member, out, CHUNK)
    except (zipfile.BadZipFile, KeyError) as error:
        raise OSError(f"no member {fallback.member} in a readable zip ({error})") from None
    finally:
        archive.unlink(missing_ok=True)


def _sources(dataset: str, source: SourceFile, mirror: Path | None) -> list[tuple[str, Path | Fallback, str]]:
    """(where, what to read, expected sha256) for every place `source` may come from, in order."""
    tries: list[tuple[str, Path | Fallback, str]] = []
    if mirror is not None and not source.url.startswith("file:"):
        tries += [(str(path), path, sha256) for path, sha256 in _mirror_candidates(mirror, dataset, source)]
    for fallback in [Fallback(source.url), *source.fallbacks]:
        where = fallback.url + (f" (member {fallback.member})" if fallback.member else "")
        tries.append((where, fallback, source.sha256))
    return tries


def fetch(dataset: str, sources: list[SourceFile], folder: Path, mirror: Path | None) -> None:
    """Fetch and verify every source file into `folder`, each from the first of its sources that verifies."""
    for source in sources:
        target = folder / source.name
        target.parent.mkdir(parents=True, exist_ok=True)
        failures = []
        for where, what, expected in _sources(dataset, source, mirror):
            try:
                if isinstance(what, Path):
                    shutil.copyfile(what, target)
                else:
                    _from_network(what, target)
            except FileNotFoundError:
                failures.append(f"{where} (not there)")
                continue
            except OSError as error:
                failures.append(f"{where} ({error})")
                continue
            actual = sha256_of(target)
            if actual == expected:
                os.chmod(target, 0o644)
                break
            failures.append(f"{where} (sha256 mismatch: expected {expected}, got {actual})")
        else:
            raise PipelineError(f"{source.name} of dataset {dataset}: no source gave the verified file; tried " + "; ".join(failures))


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
