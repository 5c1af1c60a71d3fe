"""Claiming campaign contacts: `FOR UPDATE SKIP LOCKED` plus a lease, so no contact is dialled twice.

One transaction per campaign and batch: the campaign row is locked (SKIP LOCKED: another worker is
claiming for it right now, try the next campaign) so `max_concurrent` holds across processes; due
contacts — pending and due, or in progress under an expired lease (their process died) — are leased to
this worker. Each is then checked against the do-not-call list, its calling window and, for debt
campaigns, the 230-ФЗ counters; the ones that pass get a fresh call id and an attempt, the rest are put
back with the time they may be tried again.
"""

from __future__ import annotations

import json
import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from voicebot import rules
from voicebot.campaigns.limits import DebtHistory, debt_call_allowed_at
from voicebot.campaigns.policy import CampaignPolicy
from voicebot.db.models import Call, CampaignContact, DoNotCall, MaxUser

log = logging.getLogger(__name__)

DEBT_LOCK_KEY = 230_0001
INTERRUPTED = "interrupted"  # outcome of a call whose process died (see voicebot.calls.reaper)  # pg advisory lock serialising debt decisions across processes


@dataclass(frozen=True)
class RunningCampaign:
    id: int
    scenario: str
    max_concurrent: int
    calls_per_second: float
    policy: CampaignPolicy


@dataclass(frozen=True)
class ClaimedContact:
    id: int
    campaign_id: int
    phone: str
    timezone: str
    account_number: str | None
    variables: dict[str, Any]
    attempts: int  # including the one about to be made
    call_id: uuid.UUID


_LOCK_CAMPAIGN = text(
    "SELECT id, scenario, max_concurrent, calls_per_second, settings FROM campaigns "
    "WHERE id = :cid AND status = 'running' FOR UPDATE SKIP LOCKED"
)
_IN_FLIGHT = text(
    "SELECT count(*) FROM campaign_contacts WHERE campaign_id = :cid AND state = 'in_progress' "
    "AND lease_expires_at > :now"
)
# Two index-ordered claims (ix_campaign_contacts_due: campaign_id, state, next_attempt_at) instead of one
# OR-ed query: an OR over states makes PostgreSQL sort every pending row of the campaign on each claim.
# Which of a campaign's contacts a dialer takes (see `ContactFilter`): a contact whose own `channel`
# column says `max` goes out in MAX even in a phone campaign, when a MAX dialer runs.
_PREFERS_MAX = "lower(trim(COALESCE(c.variables->>'channel', ''))) = 'max'"
_CONTACT_OK = f"(:all_contacts OR {_PREFERS_MAX}) AND NOT (:skip_max AND {_PREFERS_MAX})"
_CLAIM_EXPIRED = text(
    f"""
    WITH picked AS (
        SELECT id, lease_expires_at AS old_lease FROM campaign_contacts c
         WHERE campaign_id = :cid AND state = 'in_progress' AND lease_expires_at <= :now AND {_CONTACT_OK}
         LIMIT :n
         FOR UPDATE SKIP LOCKED)
    UPDATE campaign_contacts c
       SET lease_owner = :worker, lease_expires_at = :lease
      FROM picked WHERE c.id = picked.id
    RETURNING c.id, c.phone, c.timezone, c.account_number, c.variables, c.attempts, c.last_call_id,
              picked.old_lease AS lease_expires_at
    """
)
_CLAIM_PENDING = text(
    f"""
    WITH picked AS (
        SELECT id FROM campaign_contacts c
         WHERE campaign_id = :cid AND state = 'pending' AND (next_attempt_at IS NULL OR next_attempt_at <= :now)
           AND {_CONTACT_OK}
         ORDER BY next_attempt_at, id  -- ties (never tried yet) in the order of the uploaded list
         LIMIT :n
         FOR UPDATE SKIP LOCKED)
    UPDATE campaign_contacts c
       SET state = 'in_progress', lease_owner = :worker, lease_expires_at = :lease
      FROM picked WHERE c.id = picked.id
    RETURNING c.id, c.phone, c.timezone, c.account_number, c.variables, c.attempts, c.last_call_id
    """
)
_CAMPAIGN_MAX = "COALESCE(k.settings->>'channel', 'voice') = 'max'"
# The contacts a dialer of `:dialer` (voice or max) takes in campaign k: the MAX dialer every contact of a
# MAX campaign and those preferring MAX in a phone campaign; the phone dialer the rest of phone campaigns.
_MINE = f"""CASE WHEN :dialer = 'max' THEN ({_CAMPAIGN_MAX} OR {_PREFERS_MAX})
                 ELSE (NOT {_CAMPAIGN_MAX} AND NOT (:skip_max AND {_PREFERS_MAX})) END"""
_DUE_CAMPAIGNS = text(
    f"""
    SELECT k.id FROM campaigns k
     WHERE k.status = 'running' AND (
        EXISTS (SELECT 1 FROM campaign_contacts c
                 WHERE c.campaign_id = k.id AND c.state = 'pending'
                   AND (c.next_attempt_at IS NULL OR c.next_attempt_at <= :now) AND {_MINE})
        OR EXISTS (SELECT 1 FROM campaign_contacts c
                    WHERE c.campaign_id = k.id AND c.state = 'in_progress' AND c.lease_expires_at <= :now
                      AND {_MINE}))
     ORDER BY k.id
    """
)


@dataclass(frozen=True)
class ContactFilter:
    """Which contacts a dialer takes. `dialer`: the channel it places on (voice or max); `skip_max`: a
    phone dialer leaves contacts preferring MAX to the MAX dialer (it runs: VOICEBOT_MAX_MODE is on)."""

    dialer: str = "voice"
    skip_max: bool = False

    def params(self) -> dict[str, Any]:
        return {"dialer": self.dialer, "skip_max": self.skip_max}

    def for_campaign(self, campaign: RunningCampaign) -> dict[str, Any]:
        """`:all_contacts` / `:skip_max` of the claims for one campaign."""
        if self.dialer == "max":
            return {"all_contacts": campaign.policy.channel == "max", "skip_max": False}
        return {"all_contacts": True, "skip_max": self.skip_max}


async def due_campaigns(
    session: AsyncSession, now: datetime, contacts: ContactFilter | None = None
) -> list[int]:
    """Running campaigns with contacts due that this dialer takes (see `ContactFilter`)."""
    params = {"now": now, **(contacts or ContactFilter()).params()}
    return list((await session.execute(_DUE_CAMPAIGNS, params)).scalars())


async def lock_campaign(session: AsyncSession, campaign_id: int) -> RunningCampaign | None:
    row = (await session.execute(_LOCK_CAMPAIGN, {"cid": campaign_id})).first()
    if row is None:
        return None
    try:
        policy = CampaignPolicy.from_settings(row.scenario, row.settings)
    except ValueError:
        log.exception("campaign settings invalid; using defaults", extra={"campaign_id": campaign_id})
        policy = CampaignPolicy.from_settings(row.scenario, {})
    return RunningCampaign(row.id, row.scenario, row.max_concurrent, float(row.calls_per_second), policy)


async def claim_contacts(
    session: AsyncSession,
    campaign: RunningCampaign,
    *,
    worker: str,
    now: datetime,
    lease: timedelta,
    limit: int,
    contacts: ContactFilter | None = None,
) -> list[ClaimedContact]:
    """Lease up to `limit` due contacts (respecting max_concurrent) and decide which may be dialled now.
    `contacts`: which of them this dialer takes (a MAX dialer counts 230-ФЗ message limits, not calls).

    Must run inside the transaction that called `lock_campaign`.
    """
    contacts = contacts or ContactFilter()
    messages = contacts.dialer == "max"
    in_flight = int(await session.scalar(_IN_FLIGHT, {"cid": campaign.id, "now": now}) or 0)
    room = min(limit, campaign.max_concurrent - in_flight)
    if room <= 0:
        return []
    params = {"cid": campaign.id, "now": now, "n": room, "worker": worker, "lease": now + lease,
              **contacts.for_campaign(campaign)}  # fmt: skip
    expired = (await session.execute(_CLAIM_EXPIRED, params)).all()  # crashed workers' calls first
    if expired:
        await _settle_taken_over(session, campaign, expired, now, lease)
    rows = (await session.execute(_CLAIM_PENDING, params)).all()
    if not rows:
        return []
    blocked = await _do_not_call(session, [r.phone for r in rows], messages=messages)
    history = None
    if campaign.policy.debt_limits:
        await session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": DEBT_LOCK_KEY})
        history = await DebtHistory.load(
            session,
            [r.phone for r in rows],
            [r.account_number for r in rows if r.account_number],
            now,
            exclude_contacts=[r.id for r in rows],
            scenarios=(campaign.scenario,),
            messages=messages,
        )
    dial: list[ClaimedContact] = []
    later: list[dict[str, Any]] = []
    stop: list[dict[str, Any]] = []
    max_attempts = max(r.max_attempts for r in campaign.policy.retry.values())
    for row in rows:
        if row.phone in blocked:
            stop.append({"cid_": row.id, "state": "blocked", "outcome": "do_not_call"})
            continue
        if row.attempts >= max_attempts:
            stop.append({"cid_": row.id, "state": "failed", "outcome": "max_attempts"})
            continue
        when = _next_allowed(campaign.policy, history, row, now, messages=messages)
        if when > now:
            later.append({"cid_": row.id, "next": when})
            continue
        if history is not None:
            history.add(row.phone, row.account_number, now)
        dial.append(
            ClaimedContact(
                row.id,
                campaign.id,
                row.phone,
                row.timezone,
                row.account_number,
                dict(row.variables or {}),
                row.attempts + 1,
                uuid.uuid4(),
            )
        )
    await _apply(session, dial, later, stop)
    return dial


def _next_allowed(
    policy: CampaignPolicy, history: DebtHistory | None, row: Any, now: datetime, *, messages: bool = False
) -> datetime:
    """The first moment at or after `now` inside the window and (for debts) within the counters (of
    messages for a conversation in MAX, of calls otherwise)."""
    moment = now
    for _ in range(40):  # window and counters alternate until both agree; a few rounds suffice
        moment = policy.next_call_time(moment, row.timezone)
        if history is None:
            return moment
        limits = rules.DEBT_MESSAGE_LIMITS if messages else rules.DEBT_LIMITS
        earlier = history.calls_for(row.phone, row.account_number)
        reopen = debt_call_allowed_at(earlier, moment, row.timezone, limits)
        if reopen is None:
            return moment
        moment = reopen
    raise ValueError("no moment found to call this debtor")


async def _settle_taken_over(
    session: AsyncSession, campaign: RunningCampaign, rows: list[Any], now: datetime, lease: timedelta
) -> None:
    """Contacts whose worker died mid-call. A finished call makes the contact done; an unfinished one was
    an attempt all the same (it may have rung, or been answered): it keeps its place in the attempt count
    and in the 230-ФЗ counters (a calls row, outcome `interrupted`), and is retried by the policy's
    "failed" rule — never straight away, so nobody is called twice in a row because we crashed."""
    call_ids = [r.last_call_id for r in rows if r.last_call_id is not None]
    found = (
        await session.execute(
            select(Call.id, Call.outcome).where(Call.id.in_(call_ids), ~Call.meta.has_key("attempt"))
        )
        if call_ids
        else []
    )
    outcomes = {cid: outcome for cid, outcome in found}
    done = [r for r in rows if outcomes.get(r.last_call_id) not in (None, INTERRUPTED)]
    unfinished = [r for r in rows if r not in done]
    table = CampaignContact.__table__
    where = table.c.id == bindparam("cid_")
    if done:
        await session.execute(
            table.update().where(where)
            .values(state="done", outcome=bindparam("outcome"), lease_owner=None, lease_expires_at=None),
            [{"cid_": r.id, "outcome": outcomes[r.last_call_id]} for r in done],
        )  # fmt: skip
    if not unfinished:
        return
    await _close_interrupted(session, campaign, [r for r in unfinished if r.last_call_id], now, lease)
    rule = campaign.policy.retry["failed"]
    retry = [r for r in unfinished if r.attempts < rule.max_attempts or not r.last_call_id]
    give_up = [r for r in unfinished if r not in retry]
    if retry:
        await session.execute(
            table.update().where(where)
            .values(state="pending", next_attempt_at=bindparam("next"), last_result=INTERRUPTED,
                    lease_owner=None, lease_expires_at=None),
            [{"cid_": r.id, "next": now + rule.delay if r.last_call_id else now} for r in retry],
        )  # fmt: skip
    if give_up:
        await session.execute(
            table.update().where(where)
            .values(state="failed", outcome="max_attempts", last_result=INTERRUPTED, lease_owner=None,
                    lease_expires_at=None),
            [{"cid_": r.id} for r in give_up],
        )  # fmt: skip
    log.warning(
        "calls in flight at a crash counted as attempts",
        extra={"campaign_id": campaign.id, "retried": len(retry), "given_up": len(give_up)},
    )


_CLOSE_INTERRUPTED = text(
    """
    INSERT INTO calls (id, direction, channel, scenario, phone, campaign_id, contact_id, variables, status,
                       outcome, started_at, ended_at, meta)
    VALUES (:id, 'outbound', 'voice', :scenario, :phone, :campaign_id, :contact_id, CAST(:variables AS jsonb),
            'ended', 'interrupted', :started_at, :now, '{"interrupted": true}'::jsonb)
    ON CONFLICT (id) DO UPDATE SET status = 'ended', outcome = 'interrupted', ended_at = :now,
        meta = COALESCE(calls.meta, '{}'::jsonb) || '{"interrupted": true}'::jsonb
     WHERE calls.outcome IS NULL
    """
)


async def _close_interrupted(
    session: AsyncSession, campaign: RunningCampaign, rows: list[Any], now: datetime, lease: timedelta
) -> None:
    """The interrupted attempt's calls row: it counts for 230-ФЗ (see campaigns.limits) and in reports."""
    if not rows:
        return
    await session.execute(
        _CLOSE_INTERRUPTED,
        [
            {
                "id": r.last_call_id,
                "scenario": campaign.scenario,
                "phone": r.phone,
                "campaign_id": campaign.id,
                "contact_id": r.id,
                "variables": json.dumps(
                    {
                        **{k: str(v) for k, v in (r.variables or {}).items()},
                        **({"account": r.account_number} if r.account_number else {}),
                    }
                ),  # fmt: skip
                # the attempt began when the dead worker took its lease
                "started_at": (r.lease_expires_at or now) - lease,
                "now": now,
            }
            for r in rows
        ],
    )


async def _do_not_call(session: AsyncSession, phones: list[str], *, messages: bool = False) -> set[str]:
    """Phones on the do-not-call list; with `messages`, also those whose MAX users all asked the bot not
    to write first (max_users.opted_out_at)."""
    result = await session.execute(select(DoNotCall.phone).where(DoNotCall.phone.in_(phones)))
    blocked = set(result.scalars())
    if messages:
        opted = await session.execute(
            select(MaxUser.phone)
            .where(MaxUser.phone.in_(phones))
            .group_by(MaxUser.phone)
            .having(func.bool_and(MaxUser.opted_out_at.is_not(None)))
        )
        blocked |= set(opted.scalars())
    return blocked


async def _apply(
    session: AsyncSession,
    dial: list[ClaimedContact],
    later: list[dict[str, Any]],
    stop: list[dict[str, Any]],
) -> None:
    table = CampaignContact.__table__
    where = table.c.id == bindparam("cid_")
    if dial:
        await session.execute(
            table.update().where(where).values(attempts=bindparam("n"), last_call_id=bindparam("call"),
                                               last_result="dialing"),
            [{"cid_": c.id, "n": c.attempts, "call": c.call_id} for c in dial],
        )  # fmt: skip
    if later:
        await session.execute(
            table.update()
            .where(where)
            .values(
                state="pending", next_attempt_at=bindparam("next"), lease_owner=None, lease_expires_at=None
            ),
            later,
        )
    if stop:
        await session.execute(
            table.update()
            .where(where)
            .values(
                state=bindparam("state"),
                outcome=bindparam("outcome"),
                lease_owner=None,
                lease_expires_at=None,
            ),
            stop,
        )
