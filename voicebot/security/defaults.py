"""Shipped default secrets: `serve` refuses to start with one outside development mode.

The repository ships example secrets so the demo runs out of the box (telephony/manager.conf's AMI
secret, the softphone's SIP password, the compose file's database password). Left in place on a real
system they are public knowledge, so they are refused unless VOICEBOT_DEV_MODE=1 says this is a lab.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

SHIPPED = frozenset(
    {"change-me-now", "softphone-test", "voicebot", "changeme", "change-me", "secret", "password", "admin"}
)
# (file in the telephony folder, option holding a secret)
_CONFIG_SECRETS = (("manager.conf", "secret"), ("pjsip.conf", "password"))


def _shipped(value: str | None) -> bool:
    return (value or "").strip().lower() in SHIPPED


def _database_password(url: str | None) -> str | None:
    if not url:
        return None
    try:
        return urlsplit(url).password
    except ValueError:
        return None


def _config_file_secrets(folder: Path) -> list[str]:
    found = []
    for name, option in _CONFIG_SECRETS:
        try:
            text = (folder / name).read_text(errors="replace")
        except OSError:
            continue
        pattern = re.compile(rf"^\s*{option}\s*=\s*([^;\s]+)", re.MULTILINE)
        for value in pattern.findall(text):
            if _shipped(value):
                found.append(f"{folder / name}: {option} = {value} is the shipped example")
    return found


def default_secret_problems(settings: Any) -> list[str]:
    """Every shipped or missing secret the configuration would run with, one sentence each."""
    problems = []
    if _shipped(settings.ami_secret):
        problems.append("VOICEBOT_AMI_SECRET is a shipped example secret")
    if settings.dialer_enabled and (not settings.agi_secret or _shipped(settings.agi_secret)):
        problems.append("VOICEBOT_AGI_SECRET is empty or a shipped example: anyone local could route calls")
    if _shipped(_database_password(settings.database_url)):
        problems.append("the DATABASE_URL password is a shipped example")
    if settings.webhook_url and (not settings.webhook_secret or _shipped(settings.webhook_secret)):
        problems.append("VOICEBOT_WEBHOOK_URL is set but VOICEBOT_WEBHOOK_SECRET is empty or an example")
    if _shipped(settings.webhook_secret):
        problems.append("VOICEBOT_WEBHOOK_SECRET is a shipped example secret")
    if getattr(settings, "max_mode", "") == "webhook" and (
        not settings.max_webhook_secret or _shipped(settings.max_webhook_secret)
    ):
        problems.append(
            "VOICEBOT_MAX_MODE=webhook without a real VOICEBOT_MAX_WEBHOOK_SECRET: anyone could post MAX updates"
        )
    problems.extend(_config_file_secrets(Path(settings.telephony_dir)))
    return problems
