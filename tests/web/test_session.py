"""The signed session cookie and the secret behind it."""

from __future__ import annotations

import stat
import time

from voicebot.web import session as cookies
from voicebot.web.auth import WebUser
from voicebot.web.login import _safe_next


def test_round_trip_and_tampering_and_expiry(tmp_path):
    secret = cookies.load_secret(tmp_path)
    assert cookies.load_secret(tmp_path) == secret  # generated once, then reused
    assert stat.S_IMODE((tmp_path / "ui_secret").stat().st_mode) == 0o600
    original = cookies.new_session(7, "Смена Иванова", "supervisor")
    value = cookies.encode(secret, original)
    assert cookies.decode(secret, value) == original
    payload, signature = value.rsplit(".", 1)
    forged = cookies.encode(b"another secret that is long enough!!", cookies.new_session(7, "x", "admin"))
    assert cookies.decode(secret, forged) is None
    assert cookies.decode(secret, payload[:-2] + "xx." + signature) is None
    assert cookies.decode(secret, "garbage") is None and cookies.decode(secret, None) is None
    assert cookies.decode(secret, value, now=time.time() + cookies.LIFETIME + 1) is None


def test_tokens_and_redirect_targets():
    assert cookies.same_token("abc", "abc") and not cookies.same_token("abc", "abd")
    assert not cookies.same_token("", "") and not cookies.same_token("abc", None)
    assert _safe_next("/calls?page=2") == "/calls?page=2"
    for hostile in ("//evil.example", "https://evil.example", "/login", "calls"):
        assert _safe_next(hostile) == "/"


def test_areas_per_role():
    def user(role: str) -> WebUser:
        return WebUser(cookies.new_session(1, "k", role))

    assert user("ops").may("dashboard") and not user("ops").may("listen") and not user("ops").may("campaigns")
    assert user("supervisor").may("listen") and not user("supervisor").may("dashboard")
    assert user("staff").may("campaigns") and not user("staff").may("calls")
    assert all(user("admin").may(a) for a in ("dashboard", "calls", "listen", "campaigns", "queues", "try"))
    assert [user(r).home() for r in ("ops", "supervisor", "staff", "admin")] == [
        "/dashboard",
        "/calls",
        "/campaigns",
        "/dashboard",
    ]
