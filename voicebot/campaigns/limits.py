"""230-ФЗ frequency limits for debt calls: 1 a day, 2 a week, 8 a month per debtor.

Messenger messages (channel `max`) have their own limits (2 a day, 4 a week, 16 a month) and are counted
apart: `DebtHistory.load(messages=True)` for a campaign that reaches debtors in MAX.

Periods are calendar ones in the debtor's local time (day; ISO week Monday–Sunday; month). A debtor is
matched by phone AND by account number, across all campaigns: a call to any phone of the account counts.
What counts is a call that reached the person (answered), a call interrupted by a crash (it may have:
counted to be safe), plus debt calls being placed right now, so two processes cannot both use the day's
single call.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from voicebot.rules import DEBT_LIMITS

LOOKBACK = timedelta(days=32)


def _period_starts(local: datetime) -> dict[str, datetime]:
    day = local.replace(hour=0, minute=0, second=0, microsecond=0)
    return {"day": day, "week": day - timedelta(days=day.weekday()), "month": day.replace(day=1)}


def _next_period(kind: str, start: datetime) -> datetime:
    if kind == "day":
        naive = start.replace(tzinfo=None) + timedelta(days=1)
    elif kind == "week":
        naive = start.replace(tzinfo=None) + timedelta(days=7)
    else:
        naive = (start.replace(tzinfo=None, day=28) + timedelta(days=4)).replace(day=1)
    return naive.replace(tzinfo=start.tzinfo)  # wall-clock midnight, DST-safe with zoneinfo


def debt_call_allowed_at(
    calls: Iterable[datetime], now: datetime, timezone: str, limits: dict[str, int] | None = None
) -> datetime | None:
    """None if one more debt call is allowed at `now`; else the earliest moment (UTC-aware) it will be.

    `calls` are the moments of earlier debt calls to this debtor (any zone).
    """
    limits = limits or DEBT_LIMITS
    zone = ZoneInfo(timezone)
    local_now = now.astimezone(zone)
    starts = _period_starts(local_now)
    moments = [c.astimezone(zone) for c in calls]
    blocked_until: datetime | None = None
    for kind, limit in limits.items():
        used = sum(1 for m in moments if starts[kind] <= m <= local_now)
        if used >= limit:
            reopen = _next_period(kind, starts[kind])
            blocked_until = reopen if blocked_until is None else max(blocked_until, reopen)
    return blocked_until.astimezone(now.tzinfo) if blocked_until else None


_HISTORY = text(
    """
    SELECT c.phone, COALESCE(cc.account_number, a.number) AS account, COALESCE(c.answered_at, c.started_at) AS at
      FROM calls c
      LEFT JOIN campaign_contacts cc ON cc.id = c.contact_id
      LEFT JOIN accounts a ON a.id = c.account_id
     WHERE c.direction = 'outbound' AND c.scenario = ANY(:scenarios) AND (c.channel = 'max') = :messages
       AND (c.answered_at IS NOT NULL OR c.outcome = 'interrupted')
       AND COALESCE(c.answered_at, c.started_at) >= :since
       AND (c.phone = ANY(:phones) OR cc.account_number = ANY(:accounts) OR a.number = ANY(:accounts))
    UNION ALL
    SELECT cc.phone, cc.account_number, CAST(:now AS timestamptz)
      FROM campaign_contacts cc JOIN campaigns k ON k.id = cc.campaign_id
     WHERE cc.state = 'in_progress' AND cc.last_call_id IS NOT NULL AND k.scenario = ANY(:scenarios)
       AND (COALESCE(k.settings->>'channel', 'voice') = 'max'
            OR lower(trim(COALESCE(cc.variables->>'channel', ''))) = 'max') = :messages
       AND cc.lease_expires_at > :now AND NOT cc.id = ANY(:exclude)
       AND NOT EXISTS (SELECT 1 FROM calls x WHERE x.id = cc.last_call_id)
       AND (cc.phone = ANY(:phones) OR cc.account_number = ANY(:accounts))
    """
)


class DebtHistory:
    """Earlier debt calls of a batch of debtors, fetched in one query."""

    def __init__(self, rows: list[tuple[str | None, str | None, datetime]]) -> None:
        self._by_phone: dict[str, list[datetime]] = {}
        self._by_account: dict[str, list[datetime]] = {}
        for phone, account, at in rows:
            if phone:
                self._by_phone.setdefault(phone, []).append(at)
            if account:
                self._by_account.setdefault(account, []).append(at)

    @classmethod
    async def load(
        cls,
        session: AsyncSession,
        phones: list[str],
        accounts: list[str],
        now: datetime,
        *,
        exclude_contacts: list[int] | None = None,
        scenarios: tuple[str, ...] = ("debt_reminder",),
        messages: bool = False,
    ) -> DebtHistory:
        """`messages`: the MAX conversations (230-ФЗ counts them apart from calls) instead of calls."""
        result = await session.execute(
            _HISTORY,
            {
                "scenarios": list(scenarios),
                "since": now - LOOKBACK,
                "now": now,
                "phones": phones,
                "accounts": accounts,
                "exclude": exclude_contacts or [],
                "messages": messages,
            },
        )
        return cls([(r.phone, r.account, r.at) for r in result])

    def calls_for(self, phone: str, account: str | None) -> list[datetime]:
        moments = set(self._by_phone.get(phone, []))
        if account:
            moments |= set(self._by_account.get(account, []))
        return sorted(moments)

    def add(self, phone: str, account: str | None, at: datetime) -> None:
        """Count a call decided within this batch (two contacts of one debtor in one claim)."""
        self._by_phone.setdefault(phone, []).append(at)
        if account:
            self._by_account.setdefault(account, []).append(at)
