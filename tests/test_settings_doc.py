"""docs/configuration.md lists every setting with its default: regenerate with `voicebot settings`."""

import re
from pathlib import Path

from voicebot.settings import PROJECT_ROOT, Settings, env_name, settings_table

DOC = PROJECT_ROOT / "docs" / "configuration.md"


def _embedded_table() -> str:
    text = Path(DOC).read_text(encoding="utf-8")
    match = re.search(r"<!-- settings:begin -->\n(.*?)\n<!-- settings:end -->", text, re.S)
    assert match, "docs/configuration.md lost its settings markers"
    return match.group(1)


def test_settings_table_in_docs_is_current():
    assert _embedded_table() == settings_table(), (
        "run `voicebot settings` and paste it into docs/configuration.md"
    )


def test_every_field_is_documented_and_read_from_its_variable(monkeypatch):
    table = _embedded_table()
    for name in Settings.model_fields:
        assert f"`{env_name(name)}`" in table
    monkeypatch.setenv("VOICEBOT_HTTP_PORT", "9999")
    monkeypatch.setenv("DATABASE_URL", "postgresql://u:p@db:5432/x")
    settings = Settings()
    assert settings.http_port == 9999
    assert settings.database_url == "postgresql://u:p@db:5432/x"
