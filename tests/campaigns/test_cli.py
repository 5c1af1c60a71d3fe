"""`voicebot campaign ...` as a user runs it (subprocesses against a fresh database)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from voicebot.cli import campaigns
from voicebot.settings import get_settings

CSV = """phone;full_name;amount;account;timezone;note
+79160000001;Иванов И.И.;1234,50;1001;Asia/Yekaterinburg;домофон
89160000002;Петров П.П.;10;1002;;
not-a-phone;Сидоров;5;1003;;
+79160000004;;5;1004;;
+79160000001;Иванов И.И.;1;1001;;
"""


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str


def run(args: list[str], url: str, tmp_path: Path) -> Result:
    """In-process (a subprocess per command costs seconds of imports); the database is the given one."""
    result = CliRunner().invoke(
        campaigns.app, args, env={"DATABASE_URL": url, "VOICEBOT_DATA_DIR": str(tmp_path)}
    )
    return Result(result.exit_code, result.stdout, result.stderr)


@pytest.fixture
async def fresh_url(pg_server) -> AsyncIterator[str]:
    yield await pg_server.create("voicebot_campaign_cli")


@pytest.fixture(autouse=True)
def fresh_settings() -> Iterator[None]:
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_mounted_as_voicebot_campaign():
    result = subprocess.run([sys.executable, "-m", "voicebot", "campaign", "--help"], capture_output=True,
                            text=True, timeout=60, env={**os.environ})  # fmt: skip
    assert result.returncode == 0 and "create" in result.stdout and "pause" in result.stdout


def test_create_status_pause_resume_cancel(fresh_url, tmp_path):
    path = tmp_path / "debtors.csv"
    path.write_text(CSV, encoding="utf-8")
    created = run(["create", str(path), "--name", "Долги март", "--scenario", "debt_reminder",
                   "--max-concurrent", "3", "--cps", "2", "--json"], fresh_url, tmp_path)  # fmt: skip
    assert created.returncode == 0, created.stderr
    assert f"{path}:4: rejected: телефон 'not-a-phone'" in created.stderr
    assert f"{path}:5: rejected: сценарию нужны столбцы: full_name" in created.stderr
    assert f"{path}:6: rejected: телефон +7" in created.stderr
    report = json.loads(created.stdout.splitlines()[0])
    assert report["accepted"] == 2 and len(report["rejected"]) == 3
    campaign = str(report["campaign_id"])
    assert created.stdout.strip().endswith(f"campaign {campaign}: 2 contacts, 3 rejected")

    status = run(["status", campaign, "--json"], fresh_url, tmp_path)
    progress = json.loads(status.stdout)
    assert progress["status"] == "draft" and progress["by_state"] == {"pending": 2}
    assert run(["start", campaign], fresh_url, tmp_path).stdout.strip() == f"campaign {campaign}: running"
    assert run(["pause", campaign], fresh_url, tmp_path).stdout.strip() == f"campaign {campaign}: paused"
    assert run(["resume", campaign], fresh_url, tmp_path).stdout.strip() == f"campaign {campaign}: running"
    assert run(["cancel", campaign], fresh_url, tmp_path).returncode == 0
    refused = run(["resume", campaign], fresh_url, tmp_path)
    assert refused.returncode == 2 and "cancelled campaign cannot be made running" in refused.stderr
    assert run(["status", "999"], fresh_url, tmp_path).returncode == 1


def test_bad_inputs_fail_clearly(fresh_url, tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("name\nx\n", encoding="utf-8")
    result = run(["create", str(path), "--name", "x", "--scenario", "announcement"], fresh_url, tmp_path)
    assert result.returncode == 2 and "нет столбцов: phone" in result.stderr
    path.write_text("phone,message\n+79160000001,hi\n", encoding="utf-8")
    result = run(["create", str(path), "--name", "x", "--scenario", "inbound_router"], fresh_url, tmp_path)
    assert result.returncode == 2 and "cannot be used for outbound" in result.stderr
