"""Webhook events: the signed envelope and one delivery attempt.

Receivers verify `X-Voicebot-Signature: sha256=<hex>` = HMAC-SHA256(secret, f"{timestamp}." + body) with
`X-Voicebot-Timestamp` (Unix seconds), and reject old timestamps to stop replays.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from dataclasses import dataclass
from typing import Any

import httpx

SIGNATURE_HEADER = "X-Voicebot-Signature"
TIMESTAMP_HEADER = "X-Voicebot-Timestamp"


def signature(secret: str, timestamp: int, body: bytes) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def verify(secret: str, timestamp: str, body: bytes, signed: str, *, tolerance: int = 300) -> bool:
    """What a receiver does (also used by the tests)."""
    if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > tolerance:
        return False
    return hmac.compare_digest(signature(secret, int(timestamp), body), signed)


def envelope(event_id: str, event_type: str, created_at: str, data: dict[str, Any]) -> bytes:
    body = {"id": event_id, "type": event_type, "created_at": created_at, "data": data}
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"), default=str).encode()


@dataclass(frozen=True)
class Attempt:
    ok: bool
    status_code: int | None
    error: str | None
    duration_ms: int


async def post_event(
    client: httpx.AsyncClient, url: str, secret: str, event_id: str, event_type: str, body: bytes
) -> Attempt:
    timestamp = int(time.time())
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "voicebot-webhooks",
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: signature(secret, timestamp, body),
        "X-Voicebot-Event": event_type,
        "X-Voicebot-Event-Id": event_id,
    }
    started = time.perf_counter()
    try:
        response = await client.post(url, content=body, headers=headers)
    except httpx.HTTPError as exc:
        took = int((time.perf_counter() - started) * 1000)
        return Attempt(False, None, f"{type(exc).__name__}: {exc}"[:500], took)
    took = int((time.perf_counter() - started) * 1000)
    ok = 200 <= response.status_code < 300
    return Attempt(ok, response.status_code, None if ok else f"HTTP {response.status_code}", took)
