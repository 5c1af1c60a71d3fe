"""What a campaign page shows beyond progress: attempts by result, the next retries, and a searchable page
of contacts with every attempt each one had (from the campaign_attempts log)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import text

from voicebot.dialogue.library import FlowLibrary
from voicebot.services.paging import like_pattern, rows_of

_ATTEMPTS = text(
    "SELECT result, count(*) AS n FROM campaign_attempts WHERE campaign_id = :id GROUP BY result ORDER BY 2 DESC"
)
_RETRIES = text(
    """
    SELECT id, phone, attempts, last_result, next_attempt_at FROM campaign_contacts
    WHERE campaign_id = :id AND state = 'pending' AND attempts > 0
    ORDER BY next_attempt_at NULLS LAST, id LIMIT :limit
    """
)
_RETRY_COUNT = text(
    "SELECT count(*) FROM campaign_contacts WHERE campaign_id = :id AND state = 'pending' AND attempts > 0"
)
CONTACT_STATES = ("pending", "in_progress", "done", "failed", "cancelled", "blocked")


@dataclass(frozen=True)
class ContactQuery:
    q: str = ""
    state: str = ""
    result: str = ""
    limit: int = 50
    offset: int = 0


async def attempt_counts(db: Any, campaign_id: int) -> dict[str, int]:
    async with db.session() as s:
        return {row.result: row.n for row in (await s.execute(_ATTEMPTS, {"id": campaign_id})).all()}


async def next_retries(db: Any, campaign_id: int, limit: int = 5) -> tuple[list[dict[str, Any]], int]:
    async with db.session() as s:
        rows = rows_of(await s.execute(_RETRIES, {"id": campaign_id, "limit": limit}))
        total = await s.scalar(_RETRY_COUNT, {"id": campaign_id})
    return rows, int(total or 0)


def _contact_filter(query: ContactQuery) -> tuple[str, dict[str, Any]]:
    parts, params = ["cc.campaign_id = :id"], {}
    if query.state in CONTACT_STATES:
        parts.append("cc.state = :state")
        params["state"] = query.state
    if query.result:
        parts.append("(cc.last_result = :result OR cc.outcome = :result)")
        params["result"] = query.result
    if query.q.strip():
        params["q"] = like_pattern(query.q)
        parts.append(
            "(cc.phone ILIKE :q OR coalesce(cc.account_number, '') ILIKE :q OR cc.variables::text ILIKE :q)"
        )
    return " AND ".join(parts), params


async def contacts(db: Any, campaign_id: int, query: ContactQuery) -> tuple[list[dict[str, Any]], int]:
    """A page of contacts, each with `attempts_log`: [{attempt, result, outcome, call_id, at}, …]."""
    where, params = _contact_filter(query)
    params = {**params, "id": campaign_id}
    rows_sql = text(
        f"""
        SELECT cc.id, cc.phone, cc.account_number, cc.state, cc.attempts, cc.last_result, cc.outcome,
               cc.next_attempt_at, cc.last_call_id, cc.variables,
               coalesce((SELECT json_agg(json_build_object('attempt', a.attempt, 'result', a.result,
                                'outcome', a.outcome, 'call_id', a.call_id, 'at', a.at) ORDER BY a.id)
                         FROM campaign_attempts a WHERE a.contact_id = cc.id), '[]') AS attempts_log
        FROM campaign_contacts cc WHERE {where}
        ORDER BY cc.id LIMIT :limit OFFSET :offset
        """
    )
    async with db.session() as s:
        rows = rows_of(await s.execute(rows_sql, {**params, "limit": query.limit, "offset": query.offset}))
        total = await s.scalar(text(f"SELECT count(*) FROM campaign_contacts cc WHERE {where}"), params)
    return rows, int(total or 0)


async def variable_names(db: Any, campaign_id: int) -> list[str]:
    """Every variable any contact of the campaign carries, in a stable order (the export's columns)."""
    sql = text(
        "SELECT DISTINCT jsonb_object_keys(variables) AS k FROM campaign_contacts WHERE campaign_id = :id ORDER BY 1"
    )
    async with db.session() as s:
        return list((await s.execute(sql, {"id": campaign_id})).scalars())


_UNANSWERED = text(
    """
    SELECT result, count(*) AS n FROM campaign_attempts
    WHERE result <> 'answered' AND at >= :since AND at < :until GROUP BY result ORDER BY 2 DESC
    """
)


async def unanswered_attempts(db: Any, since: Any, until: Any) -> dict[str, int]:
    """Outbound dials nobody answered in a period, by result (busy, no_answer, …): they leave no call row,
    so call counts alone never show them."""
    async with db.session() as s:
        rows = (await s.execute(_UNANSWERED, {"since": since, "until": until})).all()
    return {row.result: row.n for row in rows}


@dataclass(frozen=True)
class ScenarioColumns:
    scenario: str
    required: tuple[str, ...]
    optional: tuple[str, ...]

    @property
    def header(self) -> list[str]:
        return ["phone", "timezone", *self.required, *self.optional]


def scenario_columns(library: FlowLibrary, scenario: str) -> ScenarioColumns:
    """The CSV columns a scenario reads: required ones are checked at upload, the rest of the flow's
    variables are optional (the bot skips what is missing)."""
    flow = library.get(scenario)
    required, flow_vars = flow.required, flow.variables
    # every contact may carry its account number; the bot then skips identification
    optional = ("account", *(v for v in flow_vars if v not in required and v != "account"))
    return ScenarioColumns(scenario, tuple(required), optional)
