"""/api/v1: who am I, and the integration logs (webhook events with their attempts, SMS outbox)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from fastapi import APIRouter, Depends, Request
from sqlalchemy import select

from voicebot.api.access import authorize
from voicebot.api.errors import ApiError
from voicebot.api.paging import RowId, page_params
from voicebot.db.models import SmsOutbox, WebhookDelivery, WebhookOutbox
from voicebot.services.keys import Principal
from voicebot.services.paging import Page, PageParams, paginate, to_dict

router = APIRouter(tags=["integration"], dependencies=[Depends(authorize)])


@router.get("/me", name="whoami", summary="The calling key's name and role")
async def whoami(principal: Principal = Depends(authorize)) -> dict[str, Any]:
    return {"key_id": principal.key_id, "name": principal.name, "role": principal.role}


@router.get(
    "/webhooks/events", name="list_webhook_events", summary="Webhook events and their delivery attempts"
)
async def list_webhook_events(
    request: Request,
    status: Literal["pending", "delivered", "failed", "skipped"] | None = None,
    page: PageParams = Depends(page_params),
) -> Page:
    query = select(WebhookOutbox)
    if status:
        query = query.where(WebhookOutbox.status == status)
    async with request.app.state.db.session() as s:
        result = await paginate(s, query, page, (WebhookOutbox.id.desc(),))
        ids = [item["id"] for item in result.items]
        attempts = await s.scalars(
            select(WebhookDelivery).where(WebhookDelivery.outbox_id.in_(ids)).order_by(WebhookDelivery.id)
        )
        by_event: dict[int, list[dict[str, Any]]] = {}
        for attempt in attempts:
            by_event.setdefault(attempt.outbox_id, []).append(to_dict(attempt))
    for item in result.items:
        item["deliveries"] = by_event.get(item["id"], [])
    return result


@router.get("/sms", name="list_sms", summary="SMS outbox")
async def list_sms(
    request: Request,
    status: Literal["pending", "sent", "failed"] | None = None,
    page: PageParams = Depends(page_params),
) -> Page:
    query = select(SmsOutbox)
    if status:
        query = query.where(SmsOutbox.status == status)
    async with request.app.state.db.session() as s:
        return await paginate(s, query, page, (SmsOutbox.id.desc(),))


@router.post(
    "/webhooks/events/{event_id}/retry",
    name="retry_webhook_event",
    summary="Deliver a failed (or skipped) event again, from a fresh attempt count",
)
async def retry_webhook_event(event_id: RowId, request: Request) -> dict[str, Any]:
    async with request.app.state.db.transaction() as s:
        event = await s.get(WebhookOutbox, event_id, with_for_update=True)
        if event is None:
            raise ApiError(404, f"webhook event {event_id} not found")
        if event.status == "delivered":
            raise ApiError(409, "the event was delivered already")
        event.status = "pending"
        event.attempts = 0
        event.next_attempt_at = datetime.now(UTC)
        event.lease_expires_at = None
    return to_dict(event)
