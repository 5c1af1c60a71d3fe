"""The UI session: a signed cookie naming the API key that logged in, its role and a CSRF token.

The key itself never goes into the cookie; its row id does, and every request re-reads that row so a
revoked key ends its sessions at once.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

COOKIE = "vb_session"
LOGIN_COOKIE = "vb_login"  # carries the login form's CSRF token before a session exists
LIFETIME = 12 * 3600


@dataclass(frozen=True)
class WebSession:
    key_id: int
    name: str
    role: str
    csrf: str
    expires: int


def load_secret(data_dir: Path) -> bytes:
    """The HMAC key, generated on first use into data_dir/ui_secret (readable by the owner only)."""
    path = data_dir / "ui_secret"
    try:
        secret = path.read_text().strip()
        if len(secret) >= 32:
            return secret.encode()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(secret)
    log.info("generated the web UI session secret", extra={"path": str(path)})
    return secret.encode()


def _sign(secret: bytes, payload: bytes) -> str:
    digest = hmac.new(secret, payload, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def encode(secret: bytes, session: WebSession) -> str:
    body = {
        "k": session.key_id,
        "n": session.name,
        "r": session.role,
        "c": session.csrf,
        "e": session.expires,
    }
    payload = base64.urlsafe_b64encode(json.dumps(body, ensure_ascii=False).encode()).decode().rstrip("=")
    return f"{payload}.{_sign(secret, payload.encode())}"


def decode(secret: bytes, value: str | None, now: float | None = None) -> WebSession | None:
    """The session, or None for a missing, tampered, malformed or expired cookie."""
    if not value or len(value) > 4096 or "." not in value:
        return None
    payload, _, signature = value.rpartition(".")
    if not hmac.compare_digest(signature, _sign(secret, payload.encode())):
        return None
    try:
        body = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        session = WebSession(int(body["k"]), str(body["n"]), str(body["r"]), str(body["c"]), int(body["e"]))
    except (ValueError, KeyError, TypeError):
        return None
    if session.expires < (time.time() if now is None else now):
        return None
    return session


def new_session(key_id: int, name: str, role: str, lifetime: int = LIFETIME) -> WebSession:
    return WebSession(key_id, name, role, secrets.token_urlsafe(24), int(time.time()) + lifetime)


def same_token(expected: str | None, presented: str | None) -> bool:
    return bool(expected) and bool(presented) and hmac.compare_digest(str(expected), str(presented))


def safe_next(path: str | None) -> str:
    """Where to go after logging in: a path on this site, else "/". Browsers read `/\\host` and
    `/<tab>/host` as `//host` (another site), so backslashes, whitespace and control characters anywhere
    make the target "/" too (no open redirect)."""
    if not path or not path.startswith("/") or path.startswith("/login"):
        return "/"
    if len(path) > 1 and path[1] in "/\\":
        return "/"
    if any(ch == "\\" or ord(ch) <= 0x20 or ord(ch) == 0x7F for ch in path):
        return "/"
    return path
