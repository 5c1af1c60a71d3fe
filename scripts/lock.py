"""Split the hash-pinned lock: `requirements-dev.lock` holds everything (runtime + the dev extra, what
scripts/setup.sh installs for tests); `requirements.lock` is its subset the service needs at runtime (what
the Docker image installs), computed from pyproject.toml's dependencies and each package's own
requirements as declared in the dev lock's installed metadata.

    .venv/bin/python scripts/lock.py          # rewrite requirements.lock from requirements-dev.lock
    .venv/bin/python scripts/lock.py --check  # exit 1 if requirements.lock is not that subset

A new dependency: add it to pyproject.toml, pin it with its hashes in requirements-dev.lock
(`pip download --no-deps` + `pip hash`), install it in the venv, then run this script.
"""

from __future__ import annotations

import re
import sys
import tomllib
from importlib import metadata
from pathlib import Path

from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
DEV_LOCK = ROOT / "requirements-dev.lock"
RUNTIME_LOCK = ROOT / "requirements.lock"
HEADER = (
    "# The runtime subset of requirements-dev.lock (what the Docker image installs), written by\n"
    "#    python scripts/lock.py\n"
)
_ENTRY = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==")


def lock_entries(text: str) -> dict[str, str]:
    """name → the entry's lines (pin, hashes, `# via` comments)."""
    entries: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in text.splitlines():
        match = _ENTRY.match(line)
        if match:
            current = entries.setdefault(canonicalize_name(match.group(1)), [])
        elif current is None or not line.startswith(" "):
            current = None
            continue
        current.append(line)
    return {name: "\n".join(lines) + "\n" for name, lines in entries.items()}


def runtime_closure() -> set[str]:
    """The runtime dependencies of voicebot and theirs, for this platform and Python (extras followed)."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    pending = [Requirement(r) for r in project["dependencies"]]
    visited: set[tuple[str, frozenset[str]]] = set()  # a package is visited again for new extras
    while pending:
        requirement = pending.pop()
        key = (canonicalize_name(requirement.name), frozenset(requirement.extras))
        if key in visited:
            continue
        visited.add(key)
        for raw in metadata.requires(requirement.name) or []:
            child = Requirement(raw)
            if child.marker is None or any(
                child.marker.evaluate({**default_environment(), "extra": extra})
                for extra in (requirement.extras or {""})
            ):
                pending.append(child)
    return {name for name, _ in visited}


def runtime_lock() -> str:
    entries = lock_entries(DEV_LOCK.read_text(encoding="utf-8"))
    wanted = runtime_closure()
    missing = sorted(wanted - set(entries))
    if missing:
        raise SystemExit(f"requirements-dev.lock lacks runtime packages: {', '.join(missing)}")
    return HEADER + "".join(entries[name] for name in sorted(wanted))


def main() -> int:
    text = runtime_lock()
    if "--check" in sys.argv:
        if RUNTIME_LOCK.read_text(encoding="utf-8") != text:
            print("requirements.lock is not the runtime subset of requirements-dev.lock: run scripts/lock.py")
            return 1
        return 0
    RUNTIME_LOCK.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
