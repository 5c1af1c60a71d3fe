"""Campaign CRUD the CLI and the HTTP API call: create from rows, start / pause / resume / cancel, progress."""

from __future__ import annotations

import json
import logging
from collections.abc import Collection, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from sqlalchemy import func, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from voicebot.campaigns.contacts import ContactReport, contacts_from_rows
from voicebot.campaigns.policy import CampaignPolicy
from voicebot.db.models import Campaign, CampaignContact
from voicebot.db.session import Database

log = logging.getLogger(__name__)

# status -> statuses it may move to
TRANSITIONS = {
    "draft": {"running", "cancelled"},
    "running": {"paused", "cancelled", "finished"},
    "paused": {"running", "cancelled"},
    "cancelled": set(),
    "finished": set(),
}


def outbound_scenarios(scenarios_dir: str) -> list[str]:
    """The scenarios a campaign may run, as the flows declare them (`direction` includes outbound and
    not `campaigns: false`): the one answer for the API, the web UI, the CLI and `create_campaign`."""
    from voicebot.dialogue.library import cached_library

    library = cached_library(scenarios_dir)
    return [name for name in library.names() if library.get(name).takes_campaigns]


class CampaignError(ValueError):
    """Invalid campaign input or a state change that is not allowed (HTTP 4xx)."""


class CampaignNotFound(LookupError):
    pass


@dataclass
class CreateReport:
    campaign_id: int | None
    accepted: int
    rejected: list[dict[str, Any]] = field(default_factory=list)  # {line, reason}

    def as_dict(self) -> dict[str, Any]:
        return {"campaign_id": self.campaign_id, "accepted": self.accepted, "rejected": self.rejected}


@dataclass
class Progress:
    campaign_id: int
    name: str
    scenario: str
    status: str
    total: int
    by_state: dict[str, int]
    by_outcome: dict[str, int]
    attempts: int

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


async def create_campaign(
    db: Database,
    *,
    name: str,
    scenario: str,
    rows: ContactReport | Iterable[Mapping[str, Any]],
    needs: Collection[str] = (),
    max_concurrent: int = 5,
    calls_per_second: float = 1.0,
    settings: dict[str, Any] | None = None,
    default_timezone: str = "Europe/Moscow",
    webhook_url: str | None = None,
    idempotency_key: str | None = None,
    created_by: str | None = None,
    start: bool = False,
    allowed_scenarios: Iterable[str] | None = None,
) -> CreateReport:
    """Store the campaign with its accepted contacts (none stored if none accepted). `rows` is a checked
    ContactReport, or rows the one contact validator checks here (`needs`: the scenario's required).
    `allowed_scenarios`: by default the configured library's `outbound_scenarios`."""
    if allowed_scenarios is None:
        from voicebot.settings import get_settings

        allowed_scenarios = outbound_scenarios(str(get_settings().scenarios_dir))
    _check_campaign(name, scenario, max_concurrent, calls_per_second, allowed_scenarios)
    try:
        CampaignPolicy.from_settings(scenario, settings)
    except ValueError as exc:
        raise CampaignError(str(exc)) from None
    batch = rows if isinstance(rows, ContactReport) else contacts_from_rows(rows, needs, default_timezone)
    if not batch.accepted:
        return CreateReport(None, 0, batch.rejected)
    now = datetime.now(UTC)
    async with db.transaction() as session:
        campaign_id = await session.scalar(
            insert(Campaign)
            .values(
                name=name,
                scenario=scenario,
                status="running" if start else "draft",
                max_concurrent=max_concurrent,
                calls_per_second=calls_per_second,
                settings=settings or {},
                webhook_url=webhook_url,
                idempotency_key=idempotency_key,
                created_by=created_by,
                started_at=now if start else None,
            )
            .returning(Campaign.id)
        )
        await insert_contacts(session, campaign_id, batch.accepted)
    log.info("campaign created", extra={"campaign_id": campaign_id, "contacts": len(batch.accepted)})
    return CreateReport(campaign_id, len(batch.accepted), batch.rejected)


class ContactLike(Protocol):
    phone: str
    timezone: str
    account_number: str | None
    variables: dict[str, Any]


CONTACT_COLUMNS = ("campaign_id", "phone", "timezone", "account_number", "variables", "state", "attempts")


async def insert_contacts(session: AsyncSession, campaign_id: int, contacts: Iterable[ContactLike]) -> None:
    """All contacts of a new campaign through COPY (100 000 rows in about a second, batched INSERTs take
    tens), then numbers on the do-not-call list marked blocked: kept for the report, never dialled."""
    records = [
        (
            campaign_id,
            c.phone,
            c.timezone,
            c.account_number,
            json.dumps(c.variables, ensure_ascii=False),
            "pending",
            0,
        )
        for c in contacts
    ]
    connection = await session.connection()
    raw = await connection.get_raw_connection()
    await raw.driver_connection.copy_records_to_table(
        "campaign_contacts", records=records, columns=list(CONTACT_COLUMNS)
    )
    await session.execute(
        text(
            "UPDATE campaign_contacts SET state = 'blocked' WHERE campaign_id = :id "
            "AND phone IN (SELECT phone FROM do_not_call)"
        ),
        {"id": campaign_id},
    )


def _check_campaign(
    name: str, scenario: str, max_concurrent: int, cps: float, allowed: Iterable[str]
) -> None:
    if not name.strip():
        raise CampaignError("the campaign needs a name")
    if scenario not in set(allowed):
        raise CampaignError(f"scenario {scenario!r} cannot be used for outbound calls")
    if not 1 <= max_concurrent <= 1000:
        raise CampaignError("max_concurrent must be between 1 and 1000")
    if not 0 < cps <= 100:
        raise CampaignError("calls_per_second must be above 0 and at most 100")


async def _transition(db: Database, campaign_id: int, target: str) -> str:
    async with db.transaction() as session:
        current = await session.scalar(
            select(Campaign.status).where(Campaign.id == campaign_id).with_for_update()
        )
        if current is None:
            raise CampaignNotFound(f"campaign {campaign_id} does not exist")
        if current == target:
            return current
        if target not in TRANSITIONS[current]:
            raise CampaignError(f"a {current} campaign cannot be made {target}")
        values: dict[str, Any] = {"status": target}
        now = datetime.now(UTC)
        if target == "running":
            values["started_at"] = func.coalesce(Campaign.started_at, now)
        if target in ("cancelled", "finished"):
            values["finished_at"] = now
        await session.execute(update(Campaign).where(Campaign.id == campaign_id).values(**values))
        if target == "cancelled":
            # Calls already ringing finish; nothing new is dialled.
            await session.execute(
                update(CampaignContact)
                .where(CampaignContact.campaign_id == campaign_id, CampaignContact.state == "pending")
                .values(state="cancelled", lease_owner=None, lease_expires_at=None)
            )
    log.info("campaign status", extra={"campaign_id": campaign_id, "status": target})
    return target


async def start_campaign(db: Database, campaign_id: int) -> str:
    return await _transition(db, campaign_id, "running")


async def pause_campaign(db: Database, campaign_id: int) -> str:
    return await _transition(db, campaign_id, "paused")


async def resume_campaign(db: Database, campaign_id: int) -> str:
    """A paused campaign runs again; resuming a draft starts it."""
    return await _transition(db, campaign_id, "running")


async def cancel_campaign(db: Database, campaign_id: int) -> str:
    return await _transition(db, campaign_id, "cancelled")


async def campaign_progress(db: Database, campaign_id: int) -> Progress:
    async with db.session() as session:
        campaign = await session.get(Campaign, campaign_id)
        if campaign is None:
            raise CampaignNotFound(f"campaign {campaign_id} does not exist")
        states = await session.execute(
            select(CampaignContact.state, func.count(), func.sum(CampaignContact.attempts))
            .where(CampaignContact.campaign_id == campaign_id)
            .group_by(CampaignContact.state)
        )
        by_state: dict[str, int] = {}
        attempts = 0
        for state, count, tries in states:
            by_state[state] = count
            attempts += int(tries or 0)
        outcomes = await session.execute(
            select(CampaignContact.outcome, func.count())
            .where(CampaignContact.campaign_id == campaign_id, CampaignContact.outcome.is_not(None))
            .group_by(CampaignContact.outcome)
        )
        by_outcome = {outcome: count for outcome, count in outcomes}
    return Progress(
        campaign_id,
        campaign.name,
        campaign.scenario,
        campaign.status,
        sum(by_state.values()),
        by_state,
        by_outcome,
        attempts,
    )
