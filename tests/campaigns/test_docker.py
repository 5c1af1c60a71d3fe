"""Docker does not run here: the compose file must parse and hang together, the Dockerfile say what it must."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def compose() -> dict:
    return yaml.safe_load((ROOT / "docker" / "compose.yml").read_text(encoding="utf-8"))


def test_compose_services_and_wiring():
    doc = compose()
    services = doc["services"]
    assert set(services) == {"postgres", "asterisk", "voicebot", "vosk-server", "sounds"}
    assert services["vosk-server"]["profiles"] == ["asr"]
    assert services["vosk-server"]["image"].startswith("alphacep/kaldi-ru")
    assert "../telephony:/etc/asterisk:ro" in services["asterisk"]["volumes"]
    assert (ROOT / "telephony" / "asterisk.conf").is_file()  # so /etc/asterisk/asterisk.conf exists
    # The dialplan's prompts are rendered by the bot's own command before Asterisk starts.
    assert services["sounds"]["command"][:2] == ["telephony", "sounds"]
    assert services["asterisk"]["depends_on"]["sounds"]["condition"] == "service_completed_successfully"
    out = services["sounds"]["command"][-1]
    assert f"sounds:{out}" in services["sounds"]["volumes"]
    assert "sounds:/var/lib/asterisk/sounds/ru:ro" in services["asterisk"]["volumes"]
    env = services["voicebot"]["environment"]
    assert env["DATABASE_URL"].startswith("postgresql://voicebot:")
    assert {"VOICEBOT_AMI_HOST", "VOICEBOT_AMI_PORT", "VOICEBOT_AMI_SECRET"} <= set(env)
    assert services["voicebot"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    # Every named volume a service uses is declared.
    used = {
        v.split(":")[0]
        for s in services.values()
        for v in s.get("volumes", [])
        if not v.startswith((".", "$"))
    }
    assert used <= set(doc["volumes"])
    # Asterisk and the bot meet on 127.0.0.1 as telephony/*.conf expect: both on the host network.
    assert services["asterisk"]["network_mode"] == services["voicebot"]["network_mode"] == "host"
    conf = (ROOT / "telephony" / "extensions.conf").read_text()
    assert "agi://127.0.0.1:4573" in conf and "127.0.0.1:9092" in conf


def test_dockerfile_requirements():
    text = (ROOT / "docker" / "Dockerfile").read_text()
    assert text.startswith("#") and "FROM python:3.11-slim-bookworm" in text
    assert re.search(r"apt-get install .*espeak-ng ffmpeg sox", text)
    assert "--require-hashes" in text and "requirements.lock" in text
    assert re.search(r"^USER voicebot$", text, re.M)
    assert re.search(r"^EXPOSE 8000 9092 4573$", text, re.M)
    assert "HEALTHCHECK" in text and "/healthz" in text
    for path in ("voicebot", "migrations", "scenarios", "telephony", "requirements.lock", "pyproject.toml"):
        assert (ROOT / path).exists(), path
    asterisk = (ROOT / "docker" / "Dockerfile.asterisk").read_text()
    assert "debian:bookworm" in asterisk and "chan_audiosocket" in asterisk


def test_dockerignore_keeps_what_the_image_copies():
    ignored = (ROOT / ".dockerignore").read_text().split()
    for needed in ("voicebot", "migrations", "scenarios", "telephony", "requirements.lock"):
        assert needed not in ignored
