"""`voicebot keys create/list/revoke` against the test database."""

from __future__ import annotations

import re

from typer.testing import CliRunner

from voicebot.cli import app
from voicebot.settings import get_settings


def test_create_list_revoke(database_url, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("VOICEBOT_AUTO_MIGRATE", "false")
    get_settings.cache_clear()
    try:
        runner = CliRunner()
        created = runner.invoke(app, ["keys", "create", "--role", "ops", "--name", "dashboards"])
        assert created.exit_code == 0, created.output
        key = re.search(r"^(vb_\w+_\S+)$", created.output, re.M).group(1)
        key_id = re.search(r"id=(\d+)", created.output).group(1)
        listed = runner.invoke(app, ["keys", "list"])
        assert "dashboards" in listed.output and key.split("_")[2] not in listed.output
        assert runner.invoke(app, ["keys", "revoke", key_id]).exit_code == 0
        assert "revoked=" in runner.invoke(app, ["keys", "list"]).output
        assert runner.invoke(app, ["keys", "revoke", key_id]).exit_code == 1
        assert runner.invoke(app, ["keys", "create", "--role", "root"]).exit_code != 0
    finally:
        get_settings.cache_clear()
