"""Background workers of `voicebot serve`: webhook delivery and SMS sending from their outbox tables.

Rows are claimed with FOR UPDATE SKIP LOCKED plus a short lease, so several processes share the work and
a crashed worker's rows come back after the lease. A failed attempt is retried with exponential backoff;
after the last attempt the row is marked failed (it stays in the table, with the delivery log).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from sqlalchemy import text

from voicebot.db.session import Database
from voicebot.retry import Backoff
from voicebot.services import sms
from voicebot.services.destinations import DestinationRefused, pinned_client, resolve_public
from voicebot.services.webhooks import Attempt, envelope, post_event
from voicebot.settings import Settings

log = logging.getLogger(__name__)


def retry_in(settings: Settings, attempts: int) -> float:
    """Seconds before the next delivery after `attempts` failed ones: doubling, capped, 20 % jitter."""
    schedule = Backoff(settings.webhook_backoff_seconds, settings.webhook_backoff_max_seconds, jitter=0.2)
    return schedule.delay(attempts - 1)


LEASE = "interval '2 minutes'"
BATCH = 20

_CLAIM_WEBHOOKS = text(
    f"""
    UPDATE webhook_outbox o SET lease_expires_at = now() + {LEASE}
    WHERE o.id IN (
        SELECT id FROM webhook_outbox
        WHERE status = 'pending' AND next_attempt_at <= now()
          AND (lease_expires_at IS NULL OR lease_expires_at < now())
        ORDER BY next_attempt_at, id LIMIT :batch FOR UPDATE SKIP LOCKED)
    RETURNING o.id, o.event_id, o.event_type, o.payload, o.attempts, o.created_at,
        (SELECT cp.webhook_url FROM campaigns cp WHERE cp.id = coalesce(o.campaign_id,
            (SELECT c.campaign_id FROM calls c WHERE c.id = (o.payload->>'call_id')::uuid))) AS campaign_url
    """
)


async def _record_attempt(
    db: Database, row: Any, url: str, attempt: Any, settings: Settings, *, final: bool = False
) -> None:
    attempts = row.attempts + 1
    async with db.transaction() as s:
        await s.execute(
            text(
                "INSERT INTO webhook_deliveries (outbox_id, attempt, url, ok, status_code, error, duration_ms) "
                "VALUES (:id, :attempt, :url, :ok, :code, :error, :ms)"
            ),
            {
                "id": row.id,
                "attempt": attempts,
                "url": url,
                "ok": attempt.ok,
                "code": attempt.status_code,
                "error": attempt.error,
                "ms": attempt.duration_ms,
            },
        )
        if attempt.ok:
            status, next_at = "delivered", datetime.now(UTC)
        else:
            status = "failed" if final or attempts >= settings.webhook_max_attempts else "pending"
            delay = retry_in(settings, attempts)
            next_at = datetime.now(UTC) + timedelta(seconds=delay)
        await s.execute(
            text(
                "UPDATE webhook_outbox SET status = :status, attempts = :attempts, url = :url, "
                "next_attempt_at = :next_at, lease_expires_at = NULL, last_error = :error, "
                "delivered_at = CASE WHEN :ok THEN now() ELSE NULL END WHERE id = :id"
            ),
            {
                "status": status,
                "attempts": attempts,
                "url": url,
                "next_at": next_at,
                "error": attempt.error,
                "ok": attempt.ok,
                "id": row.id,
            },
        )
    log.info(
        "webhook attempt",
        extra={
            "event_id": str(row.event_id),
            "attempt": attempts,
            "ok": attempt.ok,
            "status_code": attempt.status_code,
        },
    )


async def _set_webhook(db: Database, row_id: int, sql: str) -> None:
    async with db.transaction() as s:
        await s.execute(text(f"UPDATE webhook_outbox SET {sql} WHERE id = :id"), {"id": row_id})


async def _deliver(db: Database, settings: Settings, client: httpx.AsyncClient, row: Any) -> None:
    url = row.campaign_url or settings.webhook_url
    if not url:  # nobody wants this event
        await _set_webhook(db, row.id, "status = 'skipped', lease_expires_at = NULL")
        return
    if not settings.webhook_secret:
        # Unsigned events are never sent; they wait for the secret to be configured.
        await _set_webhook(
            db, row.id, "lease_expires_at = NULL, next_attempt_at = now() + interval '1 minute'"
        )
        log.warning(
            "webhook waiting: VOICEBOT_WEBHOOK_SECRET is not set", extra={"event_id": str(row.event_id)}
        )
        return
    body = envelope(str(row.event_id), row.event_type, row.created_at.isoformat(), row.payload)
    if row.campaign_url and not settings.webhook_allow_private:
        try:
            address = await resolve_public(url)  # the one DNS lookup of this delivery
        except DestinationRefused as exc:
            # a forbidden destination stays forbidden: fail the event now, not after 30 retries
            await _record_attempt(db, row, url, Attempt(False, None, str(exc), 0), settings, final=True)
            return
        async with pinned_client(url, address, timeout=settings.webhook_timeout) as pinned:
            attempt = await post_event(
                pinned, url, settings.webhook_secret, str(row.event_id), row.event_type, body
            )
    else:  # the administrator's own URL (VOICEBOT_WEBHOOK_URL) or private destinations explicitly allowed
        attempt = await post_event(
            client, url, settings.webhook_secret, str(row.event_id), row.event_type, body
        )
    await _record_attempt(db, row, url, attempt, settings)


async def deliver_webhooks_once(db: Database, settings: Settings, client: httpx.AsyncClient) -> int:
    """Claim due events and try each once; the number claimed."""
    async with db.transaction() as s:
        rows = (await s.execute(_CLAIM_WEBHOOKS, {"batch": BATCH})).all()
    await asyncio.gather(*(_deliver(db, settings, client, row) for row in rows))
    return len(rows)


# --- SMS ------------------------------------------------------------------------------------------------


def _send_time(payload: dict[str, Any], zone: str) -> datetime | None:
    """Reminders carry `send_on` (a date): send that day at 10:00 local time, not at once."""
    raw = payload.get("send_on")
    if not raw:
        return None
    try:
        day = datetime.fromisoformat(str(raw)).date()
    except ValueError:
        return None
    moment = datetime.combine(day, time(10, 0), tzinfo=ZoneInfo(zone))
    return moment if moment > datetime.now(UTC) else None


async def queue_sms_tasks_once(db: Database, settings: Settings, templates: dict[str, str]) -> int:
    """Turn open `tasks` of kind sms into sms_outbox rows (one per task) with their rendered text."""
    async with db.transaction() as s:
        tasks = (
            await s.execute(
                text(
                    "SELECT id, payload FROM tasks WHERE kind = 'sms' AND status = 'open' "
                    "ORDER BY id LIMIT 100 FOR UPDATE SKIP LOCKED"
                )
            )
        ).all()
        for task in tasks:
            payload = task.payload or {}
            try:
                phone = payload.get("phone")
                if not phone:
                    raise ValueError("the task has no phone")
                body = sms.render(str(payload.get("template")), payload, settings, templates)
            except ValueError as exc:
                await s.execute(
                    text(
                        "UPDATE tasks SET status = 'failed', payload = payload || jsonb_build_object('error', "
                        "CAST(:error AS text)) WHERE id = :id"
                    ),
                    {"id": task.id, "error": str(exc)},
                )
                log.warning("sms task rejected", extra={"task_id": task.id, "reason": str(exc)})
                continue
            await s.execute(
                text(
                    "INSERT INTO sms_outbox (task_id, phone, template, text, next_attempt_at) "
                    "VALUES (:task, :phone, :template, :text, coalesce(:at, now())) ON CONFLICT (task_id) DO NOTHING"
                ),
                {
                    "task": task.id,
                    "phone": phone,
                    "template": payload.get("template"),
                    "text": body,
                    "at": _send_time(payload, settings.default_timezone),
                },
            )
            await s.execute(text("UPDATE tasks SET status = 'queued' WHERE id = :id"), {"id": task.id})
    return len(tasks)


_CLAIM_SMS = text(
    f"""
    UPDATE sms_outbox o SET lease_expires_at = now() + {LEASE}
    WHERE o.id IN (
        SELECT id FROM sms_outbox WHERE status = 'pending' AND next_attempt_at <= now()
          AND (lease_expires_at IS NULL OR lease_expires_at < now())
        ORDER BY next_attempt_at, id LIMIT :batch FOR UPDATE SKIP LOCKED)
    RETURNING o.id, o.task_id, o.phone, o.text, o.attempts
    """
)


async def _send_one(db: Database, settings: Settings, client: httpx.AsyncClient, row: Any) -> None:
    result = await sms.send(client, settings, row.phone, row.text)
    attempts = row.attempts + 1
    if result.ok:
        status, next_at = "sent", datetime.now(UTC)
    else:
        status = "failed" if attempts >= settings.sms_max_attempts else "pending"
        delay = retry_in(settings, attempts)
        next_at = datetime.now(UTC) + timedelta(seconds=delay)
    async with db.transaction() as s:
        await s.execute(
            text(
                "UPDATE sms_outbox SET status = :status, attempts = :attempts, next_attempt_at = :next_at, "
                "lease_expires_at = NULL, last_error = :error, provider_response = :response, "
                "sent_at = CASE WHEN :ok THEN now() ELSE NULL END WHERE id = :id"
            ),
            {
                "status": status,
                "attempts": attempts,
                "next_at": next_at,
                "ok": result.ok,
                "id": row.id,
                "error": None if result.ok else (result.response or f"HTTP {result.status_code}")[:500],
                "response": result.response,
            },
        )
        if row.task_id is not None and status != "pending":
            await s.execute(
                text("UPDATE tasks SET status = :s WHERE id = :id"),
                {"s": "done" if result.ok else "failed", "id": row.task_id},
            )
    log.info("sms attempt", extra={"sms_id": row.id, "attempt": attempts, "ok": result.ok})


async def send_sms_once(db: Database, settings: Settings, client: httpx.AsyncClient) -> int:
    if not settings.sms_gateway_url:
        return 0  # queued texts wait for a gateway to be configured
    async with db.transaction() as s:
        rows = (await s.execute(_CLAIM_SMS, {"batch": BATCH})).all()
    await asyncio.gather(*(_send_one(db, settings, client, row) for row in rows))
    return len(rows)


# --- the service ------------------------------------------------------------------------------------------


async def run_once(
    db: Database, settings: Settings, client: httpx.AsyncClient, templates: dict[str, str]
) -> int:
    """One pass of every worker; the amount of work found (tests call this directly)."""
    done = await deliver_webhooks_once(db, settings, client)
    done += await queue_sms_tasks_once(db, settings, templates)
    done += await send_sms_once(db, settings, client)
    return done


async def _loop(db: Database, settings: Settings, stop: asyncio.Event) -> None:
    templates = sms.load_templates(settings.sms_templates_file)
    async with httpx.AsyncClient(timeout=settings.webhook_timeout) as client:
        while not stop.is_set():
            try:
                found = await run_once(db, settings, client, templates)
            except Exception:  # a database hiccup must not kill the worker; try again after a pause
                log.exception("outbox pass failed")
                found = 0
            if not found:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), settings.outbox_poll_seconds)


class OutboxWorkers:
    """The webhook and SMS delivery loop, as an async context manager: runs while the block runs."""

    def __init__(self, db: Database, settings: Settings) -> None:
        self.db, self.settings = db, settings
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> OutboxWorkers:
        self._task = asyncio.create_task(_loop(self.db, self.settings, self._stop), name="api-outbox")
        return self

    async def __aexit__(self, *_exc: object) -> None:
        self._stop.set()
        assert self._task is not None
        try:
            await asyncio.wait_for(self._task, timeout=10)
        except TimeoutError:
            log.warning("outbox workers did not stop within 10 s; cancelled")
            self._task.cancel()
