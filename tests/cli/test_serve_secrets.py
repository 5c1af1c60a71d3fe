"""`voicebot serve` refuses the repository's example secrets outside development mode."""

from __future__ import annotations

import os
import subprocess
import sys

from voicebot.security.defaults import default_secret_problems
from voicebot.settings import PROJECT_ROOT, Settings


def _serve(env_overrides: dict[str, str]) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VOICEBOT_")}
    env.update(env_overrides)
    return subprocess.run(
        [sys.executable, "-m", "voicebot", "serve", "--port", "1"],
        env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip


def test_serve_with_shipped_secrets_exits_before_listening():
    done = _serve(
        {
            "VOICEBOT_AMI_SECRET": "change-me-now",
            "DATABASE_URL": "postgresql://voicebot:voicebot@127.0.0.1:9/x",
        }
    )
    assert done.returncode == 2
    for expected in ("VOICEBOT_AMI_SECRET", "VOICEBOT_AGI_SECRET", "DATABASE_URL password", "softphone-test"):
        assert expected in done.stderr
    assert "VOICEBOT_DEV_MODE=1" in done.stderr


def test_each_shipped_default_is_named(tmp_path):
    (tmp_path / "manager.conf").write_text("[voicebot]\nsecret = change-me-now ; example\n")
    (tmp_path / "pjsip.conf").write_text("[softphone]\npassword = softphone-test\n")
    settings = Settings(
        ami_secret="Change-Me-Now", agi_secret="", database_url="postgresql://voicebot:voicebot@db/voicebot",
        webhook_url="https://crm.example.ru/hook", webhook_secret="", telephony_dir=tmp_path,
    )  # fmt: skip
    problems = "\n".join(default_secret_problems(settings))
    for expected in (
        "AMI_SECRET",
        "AGI_SECRET",
        "DATABASE_URL",
        "WEBHOOK_SECRET",
        "manager.conf",
        "pjsip.conf",
    ):
        assert expected in problems


def test_real_secrets_pass(tmp_path):
    (tmp_path / "manager.conf").write_text("[voicebot]\nsecret = 9f8e7d6c5b4a\n")
    settings = Settings(
        ami_secret="9f8e7d6c5b4a", agi_secret="a1b2c3d4e5", database_url="postgresql://vb:Xk29fjq@db/vb",
        webhook_url="https://crm.example.ru/hook", webhook_secret="hmac-key-0042", telephony_dir=tmp_path,
    )  # fmt: skip
    assert default_secret_problems(settings) == []
    assert default_secret_problems(
        Settings(telephony_dir=PROJECT_ROOT / "telephony", dev_mode=True)
    )  # still named
