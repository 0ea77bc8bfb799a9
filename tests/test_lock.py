"""The locks pin exactly the direct requirements' versions, and the dev lock holds the runtime lock."""

import re
from pathlib import Path

from tests.conftest import ROOT


def pins(path: Path) -> dict[str, str]:
    """`name==version` lines (names normalised as pip does), `-r` includes followed."""
    found = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("-r "):
            found |= pins(path.parent / line.split()[1])
        elif match := re.match(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;#\\]+)", line):
            found[re.sub(r"[-_.]+", "-", match.group(1)).lower()] = match.group(2)
    return found


def test_each_lock_pins_its_direct_requirements_at_their_versions():
    for direct, lock in (("requirements.txt", "requirements.lock"), ("requirements-dev.txt", "requirements-dev.lock")):
        wanted, locked = pins(ROOT / direct), pins(ROOT / lock)
        assert {name: locked.get(name) for name in wanted} == wanted, f"{lock} disagrees with {direct}: regenerate it"


def test_the_dev_lock_holds_the_runtime_lock_unchanged():
    runtime, dev = pins(ROOT / "requirements.lock"), pins(ROOT / "requirements-dev.lock")
    assert {name: dev.get(name) for name in runtime} == runtime


def test_every_locked_line_has_a_hash():
    for lock in ("requirements.lock", "requirements-dev.lock"):
        text = (ROOT / lock).read_text(encoding="utf-8")
        assert len(re.findall(r"^\S+==\S+ \\\n\s+--hash=sha256:", text, re.MULTILINE)) == len(pins(ROOT / lock))
