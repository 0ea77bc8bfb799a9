"""Write .dvc/plots/offline.html: the page template of `dvc plots show` with Vega, Vega-Lite and
Vega-Embed inlined (the versions dvc-render links from a CDN), so the page works offline.

    npm pack vega@5.20.2 vega-lite@5.2.0 vega-embed@6.18.2    # in a scratch folder
    python -m scripts.plots_template SCRATCH                   # reads the three .tgz files

.dvc/config names the template (`plots.html_template`); the file is committed with the three
packages' BSD-3-Clause licences in it, so no user needs npm.
"""

from __future__ import annotations

import argparse
import tarfile
from pathlib import Path

from stages.io import write_text

PACKAGES = {"vega": "5.20.2", "vega-lite": "5.2.0", "vega-embed": "6.18.2"}
TEMPLATE = Path(".dvc/plots/offline.html")


def page(scripts: dict[str, tuple[str, str]]) -> str:
    """The page with each package's licence (as a comment) and build inlined; `{plot_divs}` for dvc-render."""
    inlined = "\n".join(
        f"<!-- {name}@{PACKAGES[name]}:\n{licence.replace('--', '- -')}-->\n<script>\n{code}\n</script>"
        for name, (licence, code) in scripts.items()
    )
    head = f'<meta charset="utf-8">\n<title>DVC Plot</title>\n{inlined}\n<style>table {{ border-spacing: 15px; }}</style>'
    return f"<!DOCTYPE html>\n<html>\n<head>\n{head}\n</head>\n<body>\n{{plot_divs}}\n</body>\n</html>\n"


def read_package(folder: Path, name: str) -> tuple[str, str]:
    with tarfile.open(folder / f"{name}-{PACKAGES[name]}.tgz") as archive:
        licence = archive.extractfile("package/LICENSE").read().decode()
        code = archive.extractfile(f"package/build/{name}.min.js").read().decode()
    return licence, code.replace("</script", "<\\/script")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folder", type=Path, help="where `npm pack` left the three .tgz files")
    args = parser.parse_args(argv)
    write_text(TEMPLATE, page({name: read_package(args.folder, name) for name in PACKAGES}))
    print(f"{TEMPLATE}: {TEMPLATE.stat().st_size / 1024:.0f} KiB")


if __name__ == "__main__":
    main()
