"""Campaign events for the webhook outbox tests: a campaign with one contact, finishing it (which queues
the `campaign.contact_finished` event), and one pass of the outbox worker."""

from __future__ import annotations

import httpx
from sqlalchemy import text

from voicebot.services import outbox, sms


async def run_outbox(db, settings) -> int:  # noqa: ANN001
    async with httpx.AsyncClient(timeout=5) as client:
        return await outbox.run_once(db, settings, client, sms.load_templates(None))


async def campaign_with_contact(db, url: str | None) -> tuple[int, int]:  # noqa: ANN001
    async with db.transaction() as s:
        cid = await s.scalar(
            text(
                "INSERT INTO campaigns (name, scenario, status, max_concurrent, calls_per_second, webhook_url) "
                "VALUES ('c', 'debt_reminder', 'running', 1, 1, :url) RETURNING id"
            ),
            {"url": url},
        )
        contact = await s.scalar(
            text(
                "INSERT INTO campaign_contacts (campaign_id, phone, timezone, state, attempts) "
                "VALUES (:c, '+79161110001', 'Europe/Moscow', 'pending', 0) RETURNING id"
            ),
            {"c": cid},
        )
    return cid, contact


async def finish_contact(db, contact: int, outcome: str = "promise_to_pay") -> None:  # noqa: ANN001
    async with db.transaction() as s:
        await s.execute(
            text(
                "UPDATE campaign_contacts SET state = 'done', outcome = :outcome, attempts = 1 WHERE id = :id"
            ),
            {"id": contact, "outcome": outcome},
        )
