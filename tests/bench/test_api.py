"""`voicebot bench api` at a small size: it runs end to end and prints both bars."""

from __future__ import annotations

import pytest

from voicebot.bench.api import api_command

pytestmark = pytest.mark.slow


def test_bench_api_small(pg_admin_url, capsys):
    api_command(calls=3000, contacts=300, runs=2, database_url=pg_admin_url)
    out = capsys.readouterr().out
    assert "campaign from CSV, 300 contacts:" in out
    assert "analytics summary over 3000 calls:" in out
