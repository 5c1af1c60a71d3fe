"""The `voicebot` command as a user runs it: exit codes, messages on stderr, the summary line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

GOOD_AND_BAD = """account,address,owner,phones,timezone,debt,debt_period
5001,"ул. Гагарина, д. 1, кв. 1",Иванов,+79160000001,,10.50,
5002,"ул. Гагарина, д. 1, кв. 2",Петров,not-a-phone,,0,
"""


def _run(args: list[str], url: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": url, "VOICEBOT_DATA_DIR": str(tmp_path / "var")}
    return subprocess.run(
        [sys.executable, "-m", "voicebot", *args], env=env, capture_output=True, text=True, timeout=120
    )


@pytest.fixture
async def fresh_url(pg_server) -> str:
    return await pg_server.create("voicebot_cli")


def test_upgrade_then_import_reports_lines_and_exit_status(fresh_url, tmp_path):
    assert _run(["db", "upgrade"], fresh_url, tmp_path).returncode == 0

    bad = tmp_path / "accounts.csv"
    bad.write_text(GOOD_AND_BAD, encoding="utf-8")
    result = _run(["import", "accounts", str(bad)], fresh_url, tmp_path)
    assert result.returncode == 1
    assert f"{bad}:3: rejected: телефон 'not-a-phone'" in result.stderr
    assert result.stdout.strip().endswith("accounts: 2 rows read, 1 imported (1 new, 0 updated), 1 rejected")

    good = tmp_path / "good.csv"
    good.write_text("\n".join(GOOD_AND_BAD.splitlines()[:2]) + "\n", encoding="utf-8")
    again = _run(["import", "accounts", str(good)], fresh_url, tmp_path)
    assert again.returncode == 0, again.stderr
    assert "1 imported (0 new, 1 updated), 0 rejected" in again.stdout


def test_import_of_unreadable_file_fails_clearly(fresh_url, tmp_path):
    binary = tmp_path / "binary.csv"  # 0x98 is neither UTF-8 nor a Windows-1251 character
    binary.write_bytes(b"account,address\n1,\x98\n")
    result = _run(["import", "accounts", str(binary)], fresh_url, tmp_path)
    assert result.returncode == 2
    assert "UTF-8" in result.stderr and "Windows-1251" in result.stderr

    missing = tmp_path / "nocols.csv"
    missing.write_text("number,street\n1,x\n", encoding="utf-8")
    result = _run(["import", "accounts", str(missing)], fresh_url, tmp_path)
    assert result.returncode == 2
    assert "нет столбцов: account, address" in result.stderr
