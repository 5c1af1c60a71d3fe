"""What a dispatcher's screen shows right now: calls in progress, the callback queue and voice messages with
their deadlines, overflow, and the state of telephony and speech recognition.

Everything comes from the database, so the view is right whichever process runs the calls; the in-process
handles (AMI client, voice engine), when this process has them, add the live line and recogniser state.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import text

from voicebot.db.session import Database
from voicebot.metrics import OBLIGATION_OLDEST_AGE, OPEN_OBLIGATIONS
from voicebot.services.paging import rows_of

# a row without an end this old is a call whose process died, not a call in progress
STALE_AFTER = timedelta(hours=2)
OVERFLOW_WINDOW = timedelta(minutes=15)
LIST_LIMIT = 50

_ACTIVE = text(
    """
    SELECT c.id, c.direction, c.channel, c.scenario, c.phone, c.started_at, c.answered_at, c.campaign_id,
           (SELECT t.step FROM call_turns t WHERE t.call_id = c.id AND t.step IS NOT NULL
             ORDER BY t.seq DESC LIMIT 1) AS step,
           (SELECT left(t.text, 120) FROM call_turns t WHERE t.call_id = c.id AND t.speaker = 'bot'
             ORDER BY t.seq DESC LIMIT 1) AS bot_said,
           (SELECT count(*) FROM call_turns t WHERE t.call_id = c.id) AS turns
    FROM calls c
    WHERE c.ended_at IS NULL AND c.status <> 'ended' AND c.started_at > :since
    ORDER BY c.started_at
    LIMIT :limit
    """
)
_CALLBACKS = text(
    """
    SELECT id, phone, reason, status, attempts, due_at, missed_at FROM callbacks
    WHERE status IN ('pending', 'in_progress') ORDER BY due_at, id LIMIT :limit
    """
)
_VOICE = text(
    """
    SELECT id, phone, created_at, review_due_at, listened_at, listened_by, transcript FROM voice_messages
    WHERE reviewed_at IS NULL ORDER BY review_due_at, id LIMIT :limit
    """
)
_COUNTS = text(
    """
    SELECT (SELECT count(*) FROM callbacks WHERE status IN ('pending', 'in_progress')) AS callbacks,
           (SELECT count(*) FROM voice_messages WHERE reviewed_at IS NULL) AS voice_messages,
           (SELECT count(*) FROM calls WHERE outcome = 'overflow' AND started_at > :overflow_since) AS overflow
    """
)


_OBLIGATIONS = text(
    """
    SELECT (SELECT count(*) FROM callbacks WHERE status IN ('pending', 'in_progress')) AS callbacks,
           (SELECT min(coalesce(missed_at, created_at)) FROM callbacks
             WHERE status IN ('pending', 'in_progress')) AS callbacks_since,
           (SELECT count(*) FROM voice_messages WHERE reviewed_at IS NULL) AS voice_messages,
           (SELECT min(created_at) FROM voice_messages WHERE reviewed_at IS NULL) AS voice_messages_since
    """
)


async def publish_obligations(db: Database, now: datetime) -> None:
    """Open legal obligations (callbacks owed, voice messages not reviewed) and their age, for /metrics."""
    async with db.session() as s:
        row = (await s.execute(_OBLIGATIONS)).one()
    for kind in ("callbacks", "voice_messages"):
        since = getattr(row, f"{kind}_since")
        OPEN_OBLIGATIONS.labels(kind).set(getattr(row, kind))
        OBLIGATION_OLDEST_AGE.labels(kind).set(max(0.0, (now - since).total_seconds()) if since else 0.0)


def mask_phone(phone: str | None) -> str:
    """+7916•••4501: enough to tell callers apart on a shared screen, not enough to dial."""
    if not phone:
        return "—"
    return phone[:5] + "•••" + phone[-4:] if len(phone) >= 8 else phone


async def snapshot(db: Database, now: datetime, shared: dict[str, Any] | None = None) -> dict[str, Any]:
    async with db.session() as s:
        params = {"limit": LIST_LIMIT}
        calls = rows_of(await s.execute(_ACTIVE, {**params, "since": now - STALE_AFTER}))
        callbacks = rows_of(await s.execute(_CALLBACKS, params))
        voice = rows_of(await s.execute(_VOICE, params))
        counts = (await s.execute(_COUNTS, {"overflow_since": now - OVERFLOW_WINDOW})).one()
    for row in calls:
        started = datetime.fromisoformat(row["started_at"])
        row["seconds"] = max(0, int((now - started).total_seconds()))
        row["phone"] = mask_phone(row["phone"])
    for row in (*callbacks, *voice):
        row["phone"] = mask_phone(row["phone"])
    return {
        "now": now.isoformat(),
        "calls": calls,
        "callbacks": callbacks,
        "voice_messages": voice,
        "totals": {
            "calls": len(calls),
            "callbacks": counts.callbacks,
            "voice_messages": counts.voice_messages,
            "overflow": counts.overflow,
        },
        "systems": systems(shared or {}),
    }


def systems(shared: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """AMI, speech recognition and line load as the voice side reports them (`ami_connected`, `asr_ok`,
    `lines`, `problems`); `known` is False for what nobody reported."""
    ami, asr, lines = shared.get("ami_connected"), shared.get("asr_ok"), shared.get("lines")
    result: dict[str, dict[str, Any]] = {
        "ami": {"known": ami is not None, "ok": bool(ami)},
        "asr": {"known": asr is not None, "ok": bool(asr)},
        "lines": {"known": False, "busy": None, "limit": None, "full": False},
        "telephony": {"problems": len(shared.get("problems") or [])},
    }
    if lines is not None:
        busy, limit = int(lines["busy"]), int(lines["limit"])
        result["lines"] = {"known": True, "busy": busy, "limit": limit, "full": busy >= limit}
    return result
