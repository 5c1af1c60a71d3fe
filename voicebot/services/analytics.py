"""Analytics: summary and time series over calls and what they wrote (the API and the dashboard).

Calls are counted from call_stats_hourly (kept by a trigger, migration 0002) plus the partial hours at the
ends of the range from calls itself; the small tables are read by parallel queries.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import text

from voicebot.db.session import Database
from voicebot.services.calls import TimeRange
from voicebot.services.errors import ServiceError
from voicebot.values import json_value

ANSWER_BUCKETS = ((10, "le_10s"), (30, "le_30s"), (60, "le_1m"), (300, "le_5m"), (600, "le_10m"))

# scenario → (outcome counted as success, name of the rate)
SUCCESS = {
    "meter_readings": ("readings_accepted", "readings_accepted_rate"),
    "debt_reminder": ("promise_to_pay", "promise_rate"),
    "visit_warning": ("visit_confirmed", "visit_confirmation_rate"),
    "nps_survey": ("nps_collected", "nps_collected_rate"),
    "request_intake": ("ticket_created", "ticket_created_rate"),
    "announcement": ("announcement_heard", "announcement_heard_rate"),
}

# Every call of [since, until) once: whole hours from the trigger-kept call_stats_hourly, the partial
# hours at both ends from calls itself (so any range is exact, and a month costs a few thousand rows).
_FACTS = """
    SELECT hour AS at, direction, scenario, outcome, wait_bucket, calls AS n FROM call_stats_hourly
    WHERE hour >= :full_since AND hour < :full_until
    UNION ALL
    SELECT started_at, direction, coalesce(scenario, ''), coalesce(outcome, ''),
           call_wait_bucket(direction, offered_at, answered_at), 1
    FROM calls
    WHERE (started_at >= :since AND started_at < :head_end) OR (started_at >= :tail_start AND started_at < :until)
"""

_CALLS_SQL = text(
    f"""
    SELECT GROUPING(scenario, outcome, direction) AS g_sod, GROUPING(hour) AS g_hour,
           GROUPING(wait_bucket) AS g_wait, scenario, outcome, direction, hour, wait_bucket, sum(n)::bigint AS n
    FROM (SELECT f.*, extract(hour FROM f.at AT TIME ZONE :tz)::int AS hour FROM ({_FACTS}) f) c
    GROUP BY GROUPING SETS ((scenario, outcome, direction), (hour), (wait_bucket))
    """
)


def _split(since: datetime, until: datetime) -> dict[str, datetime]:
    """Bounds of the whole hours inside [since, until) and of the partial ones around them."""
    full_since = since.replace(minute=0, second=0, microsecond=0)
    if full_since < since:
        full_since += timedelta(hours=1)
    full_until = until.replace(minute=0, second=0, microsecond=0)
    if full_since >= full_until:
        return {
            "since": since,
            "until": until,
            "full_since": since,
            "full_until": since,
            "head_end": until,
            "tail_start": until,
        }
    return {
        "since": since,
        "until": until,
        "full_since": full_since,
        "full_until": full_until,
        "head_end": full_since,
        "tail_start": full_until,
    }


_NPS_SQL = text(
    "SELECT score, count(*) AS n FROM nps_answers WHERE created_at >= :since AND created_at < :until "
    "AND score IS NOT NULL GROUP BY score"
)
_CALLBACKS_SQL = text(
    """
    SELECT count(*) AS owed,
           count(*) FILTER (WHERE first_try IS NOT NULL AND first_try - missed_at <= interval '10 minutes')
               AS within_10m,
           count(*) FILTER (WHERE status = 'done') AS done
    FROM (SELECT cb.status, coalesce(cb.missed_at, cb.created_at) AS missed_at,
                 coalesce(pc.started_at, cb.last_attempt_at) AS first_try
          FROM callbacks cb LEFT JOIN calls pc ON pc.id = cb.placed_call_id
          WHERE cb.reason <> 'requested' AND coalesce(cb.missed_at, cb.created_at) >= :since
            AND coalesce(cb.missed_at, cb.created_at) < :until) x
    """
)
_VOICE_SQL = text(
    """
    SELECT count(*) AS total,
           count(*) FILTER (WHERE reviewed_at IS NOT NULL AND reviewed_at - created_at <= interval '10 minutes')
               AS reviewed_10m,
           count(*) FILTER (WHERE reviewed_at IS NULL AND review_due_at < now()) AS overdue
    FROM voice_messages WHERE created_at >= :since AND created_at < :until
    """
)
_OVERDUE_TICKETS_SQL = text(
    """
    SELECT number, category, priority, address, status, created_at, due_at
    FROM tickets WHERE status IN ('new', 'in_progress') AND due_at < now() ORDER BY due_at LIMIT 20
    """
)
_OVERDUE_TICKETS_COUNT_SQL = text(
    "SELECT count(*) FROM tickets WHERE status IN ('new', 'in_progress') AND due_at < now()"
)


def _zone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ServiceError(
            422,
            f"time zone {name[:64]!r} is not an IANA name",
            details=[{"location": "query", "field": "tz", "reason": "not an IANA time zone (Europe/Moscow)",
                      "code": "unknown_value"}],
        ) from None  # fmt: skip
    return name


def _bounds(span: TimeRange, default_days: int = 30) -> tuple[datetime, datetime]:
    until = span.until or datetime.now(UTC)
    since = span.since or until - timedelta(days=default_days)
    if since >= until:
        raise ServiceError(
            422,
            "since must be before until",
            details=[
                {"location": "query", "field": "since", "reason": "must be before until", "code": "invalid"}
            ],
        )
    return since, until


async def _rows(db: Database, sql: Any, params: dict[str, Any]) -> list[dict[str, Any]]:
    async with db.session() as s:
        return [dict(r._mapping) for r in (await s.execute(sql, params)).all()]


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _calls_block(rows: list[dict[str, Any]]) -> dict[str, Any]:
    by_scenario: dict[str, dict[str, int]] = {}
    by_direction: dict[str, int] = {}
    by_outcome: dict[str, int] = {}
    by_hour = [0] * 24
    waits: dict[str, int] = {}
    total = 0
    for r in rows:
        if r["g_sod"] == 0:
            total += r["n"]
            scenario = r["scenario"] or "unknown"
            outcome = r["outcome"] or "unfinished"
            if not r["n"]:
                continue
            by_scenario.setdefault(scenario, {})[outcome] = (
                by_scenario.get(scenario, {}).get(outcome, 0) + r["n"]
            )
            by_direction[r["direction"]] = by_direction.get(r["direction"], 0) + r["n"]
            by_outcome[outcome] = by_outcome.get(outcome, 0) + r["n"]
        elif r["g_hour"] == 0 and r["hour"] is not None:
            by_hour[r["hour"]] += r["n"]
        elif r["g_wait"] == 0 and r["wait_bucket"] and r["n"]:
            waits[r["wait_bucket"]] = r["n"]
    return {
        "total": total,
        "by_direction": by_direction,
        "by_outcome": by_outcome,
        "by_scenario": by_scenario,
        "by_hour": by_hour,
        "answer_time": waits,
    }


def _success(by_scenario: dict[str, dict[str, int]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for scenario, (outcome, name) in SUCCESS.items():
        outcomes = by_scenario.get(scenario, {})
        finished = sum(n for o, n in outcomes.items() if o != "unfinished")
        result[scenario] = {
            "calls": finished,
            "successes": outcomes.get(outcome, 0),
            name: _rate(outcomes.get(outcome, 0), finished),
        }
    return result


def _nps(rows: list[dict[str, Any]]) -> dict[str, Any]:
    distribution = {str(score): 0 for score in range(11)}
    for r in rows:
        distribution[str(r["score"])] = r["n"]
    total = sum(distribution.values())
    promoters = distribution["9"] + distribution["10"]
    detractors = sum(distribution[str(s)] for s in range(7))
    score = round(100 * (promoters - detractors) / total, 1) if total else None
    mean = round(sum(int(k) * v for k, v in distribution.items()) / total, 2) if total else None
    return {"answers": total, "nps": score, "mean": mean, "distribution": distribution}


def _compliance(waits: dict[str, int], callbacks: dict[str, Any], voice: dict[str, Any]) -> dict[str, Any]:
    offered = sum(waits.values())
    within_5m = sum(waits.get(b, 0) for b in ("le_10s", "le_30s", "le_1m", "le_5m"))
    return {
        "offered_inbound": offered,
        "answered_within_5m": within_5m,
        "answered_within_5m_rate": _rate(within_5m, offered),
        "callbacks_owed": callbacks["owed"],
        "called_back_within_10m": callbacks["within_10m"],
        "called_back_within_10m_rate": _rate(callbacks["within_10m"], callbacks["owed"]),
        "voice_messages": voice["total"],
        "voice_messages_reviewed_within_10m": voice["reviewed_10m"],
        "voice_messages_reviewed_within_10m_rate": _rate(voice["reviewed_10m"], voice["total"]),
    }


async def summary(db: Database, span: TimeRange, tz: str) -> dict[str, Any]:
    """Calls, success per scenario, NPS, SLA compliance, what is overdue."""
    since, until = _bounds(span)
    params = {"since": since, "until": until}
    calls, nps, callbacks, voice, overdue, overdue_count = await asyncio.gather(
        _rows(db, _CALLS_SQL, {**_split(since, until), "tz": _zone(tz)}),
        _rows(db, _NPS_SQL, params),
        _rows(db, _CALLBACKS_SQL, params),
        _rows(db, _VOICE_SQL, params),
        _rows(db, _OVERDUE_TICKETS_SQL, {}),
        _rows(db, _OVERDUE_TICKETS_COUNT_SQL, {}),
    )
    block = _calls_block(calls)
    return {
        "since": since.isoformat(),
        "until": until.isoformat(),
        "calls": block,
        "success": _success(block["by_scenario"]),
        "nps": _nps(nps),
        "compliance": _compliance(block["answer_time"], callbacks[0], voice[0]),
        "overdue": {
            "tickets": overdue_count[0]["count"],
            "oldest_tickets": [{k: json_value(v) for k, v in r.items()} for r in overdue],
            "voice_messages": voice[0]["overdue"],
        },
    }


_SERIES_COLUMNS = {"scenario": "scenario", "outcome": "outcome", "direction": "direction"}


async def timeseries(
    db: Database,
    span: TimeRange,
    interval: Literal["hour", "day"],
    by: Literal["scenario", "outcome", "direction"],
    scenario: str | None,
    tz: str,
) -> dict[str, Any]:
    """Calls per hour or day, split by a dimension."""
    since, until = _bounds(span, default_days=7 if interval == "hour" else 30)
    if interval == "hour" and until - since > timedelta(days=93):
        raise ServiceError(422, "hourly series cover at most 93 days")
    column = _SERIES_COLUMNS[by]  # from a fixed table, never from the request text
    where = "WHERE f.scenario = :scenario" if scenario else ""
    sql = text(
        f"SELECT date_trunc('{interval}', f.at AT TIME ZONE :tz) AS bucket, f.{column} AS key, sum(f.n)::bigint AS n "
        f"FROM ({_FACTS}) f {where} GROUP BY 1, 2 ORDER BY 1, 2"
    )
    params: dict[str, Any] = {**_split(since, until), "tz": _zone(tz)}
    if scenario:
        params["scenario"] = scenario
    rows = await _rows(db, sql, params)
    series: dict[str, dict[str, int]] = {}
    for r in rows:
        if r["n"]:
            series.setdefault(r["bucket"].isoformat(), {})[r["key"] or "none"] = r["n"]
    return {
        "interval": interval,
        "by": by,
        "tz": tz,
        "points": [{"t": t, "counts": c} for t, c in series.items()],
    }
