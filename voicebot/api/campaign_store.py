"""Campaign rows for the API: creation (the dialer's row rules and contact COPY, plus the API's
idempotency record and row report), state changes and progress (the dialer's own functions), results export.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError

from voicebot.api.contacts import Contact
from voicebot.api.errors import ApiError
from voicebot.api.paging import jsonable, to_dict
from voicebot.campaigns import store as dialer_store
from voicebot.campaigns.store import insert_contacts
from voicebot.db.models import Campaign, CampaignImport
from voicebot.db.session import Database

ACTIONS = ("start", "pause", "resume", "cancel")


@dataclass(frozen=True)
class CampaignSpec:
    name: str
    scenario: str
    webhook_url: str | None = None
    max_concurrent: int = 5
    calls_per_second: float = 1.0
    settings: dict[str, Any] | None = None


async def find_by_idempotency_key(db: Database, key: str) -> tuple[Campaign, CampaignImport | None] | None:
    async with db.session() as s:
        campaign = await s.scalar(select(Campaign).where(Campaign.idempotency_key == key))
        if campaign is None:
            return None
        return campaign, await s.get(CampaignImport, campaign.id)


async def create_campaign(
    db: Database,
    spec: CampaignSpec,
    contacts: list[Contact],
    *,
    idempotency_key: str | None,
    actor: str,
    request_sha256: str,
    report: dict[str, Any],
) -> Campaign:
    """One transaction: the campaign row, then every contact through COPY (100 000 rows in about a second)."""
    try:
        async with db.transaction() as s:
            campaign = Campaign(
                name=spec.name,
                scenario=spec.scenario,
                status="draft",
                max_concurrent=spec.max_concurrent,
                calls_per_second=spec.calls_per_second,
                settings=spec.settings or {},
                webhook_url=spec.webhook_url,
                idempotency_key=idempotency_key,
                created_by=actor,
            )
            s.add(campaign)
            await s.flush()
            s.add(CampaignImport(campaign_id=campaign.id, request_sha256=request_sha256, report=report))
            await insert_contacts(s, campaign.id, contacts)
    except IntegrityError:
        if idempotency_key is None:
            raise
        raise ApiError(409, "a campaign with this Idempotency-Key is being created; retry") from None
    return campaign


async def get_campaign(db: Database, campaign_id: int) -> Campaign:
    async with db.session() as s:
        campaign = await s.get(Campaign, campaign_id)
    if campaign is None:
        raise ApiError(404, f"campaign {campaign_id} not found")
    return campaign


_ACTIONS = {
    "start": dialer_store.start_campaign,
    "pause": dialer_store.pause_campaign,
    "resume": dialer_store.resume_campaign,
    "cancel": dialer_store.cancel_campaign,
}


async def change_status(db: Database, campaign_id: int, action: str) -> Campaign:
    """The dialer's state machine decides; its refusals become 409, unknown campaigns 404."""
    try:
        await _ACTIONS[action](db, campaign_id)
    except dialer_store.CampaignNotFound:
        raise ApiError(404, f"campaign {campaign_id} not found") from None
    except dialer_store.CampaignError as exc:
        raise ApiError(409, str(exc), details={"action": action}) from None
    return await get_campaign(db, campaign_id)


async def progress(db: Database, campaign_id: int) -> dict[str, Any]:
    try:
        report = (await dialer_store.campaign_progress(db, campaign_id)).as_dict()
    except dialer_store.CampaignNotFound:
        raise ApiError(404, f"campaign {campaign_id} not found") from None
    finished = sum(report["by_state"].get(s, 0) for s in ("done", "failed", "cancelled", "blocked"))
    total = report["total"]
    return {**report, "finished": finished, "percent": round(100 * finished / total, 1) if total else 100.0}


RESULT_FIELDS = (
    "contact_id",
    "phone",
    "account_number",
    "state",
    "attempts",
    "outcome",
    "last_result",
    "call_id",
    "call_ended_at",
    "promise_date",
    "promise_amount",
    "nps_score",
    "visit_status",
    "readings",
    "variables",
)

_RESULTS_SQL = text(
    """
    SELECT cc.id AS contact_id, cc.phone, cc.account_number, cc.state, cc.attempts, cc.outcome,
           cc.last_result, cc.last_call_id AS call_id, c.ended_at AS call_ended_at,
           p.promised_date AS promise_date, p.amount AS promise_amount, n.score AS nps_score,
           v.status AS visit_status, r.readings, cc.variables
    FROM campaign_contacts cc
    LEFT JOIN calls c ON c.id = cc.last_call_id
    LEFT JOIN LATERAL (SELECT promised_date, amount FROM promises WHERE call_id = cc.last_call_id
                       ORDER BY id DESC LIMIT 1) p ON true
    LEFT JOIN LATERAL (SELECT score FROM nps_answers WHERE call_id = cc.last_call_id
                       ORDER BY id DESC LIMIT 1) n ON true
    LEFT JOIN LATERAL (SELECT status FROM visits WHERE call_id = cc.last_call_id
                       ORDER BY id DESC LIMIT 1) v ON true
    LEFT JOIN LATERAL (SELECT count(*) AS readings FROM readings WHERE call_id = cc.last_call_id) r ON true
    WHERE cc.campaign_id = :campaign_id AND cc.id > :after
    ORDER BY cc.id
    LIMIT :batch
    """
)


async def iter_results(db: Database, campaign_id: int, batch: int = 5000) -> AsyncIterator[dict[str, Any]]:
    """Every contact's result, in batches by id so a 100 000-contact export never sits in memory whole."""
    after = 0
    while True:
        async with db.session() as s:
            rows = (
                await s.execute(_RESULTS_SQL, {"campaign_id": campaign_id, "after": after, "batch": batch})
            ).all()
        for row in rows:
            yield {k: jsonable(v) for k, v in row._mapping.items()}
        if len(rows) < batch:
            return
        after = rows[-1].contact_id


def campaign_dict(campaign: Campaign) -> dict[str, Any]:
    data = to_dict(campaign)
    data.pop("idempotency_key", None)
    return data
