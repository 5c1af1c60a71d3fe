"""Analytics numbers on a small hand-made day of calls."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import text

from tests.api.conftest import auth

MSK = ZoneInfo("Europe/Moscow")
DAY = "2025-11-18"
SINCE = f"{DAY}T00:00:00%2B03:00"
UNTIL = f"{DAY}T23:59:59%2B03:00"

# scenario, direction, outcome, local hour, answer wait in seconds (None: not an offered inbound call)
CALLS = [
    ("meter_readings", "inbound", "readings_accepted", 9, 5),
    ("meter_readings", "inbound", "readings_accepted", 9, 20),
    ("meter_readings", "inbound", "not_identified", 10, 400),
    ("meter_readings", "inbound", "hangup", 10, 30),
    ("debt_reminder", "outbound", "promise_to_pay", 11, None),
    ("debt_reminder", "outbound", "refused", 11, None),
    ("visit_warning", "outbound", "visit_confirmed", 12, None),
    ("request_intake", "inbound", None, 23, 1000),  # still unfinished
]


async def _seed(db) -> None:
    async with db.transaction() as s:
        for scenario, direction, outcome, hour, wait in CALLS:
            started = datetime(2025, 11, 18, hour, tzinfo=MSK)
            await s.execute(
                text(
                    "INSERT INTO calls (id, direction, channel, status, scenario, outcome, started_at, offered_at, "
                    "answered_at) VALUES (gen_random_uuid(), :d, 'voice', 'ended', :s, :o, :t, :offered, :answered)"
                ),
                {
                    "d": direction,
                    "s": scenario,
                    "o": outcome,
                    "t": started,
                    "offered": started if wait is not None else None,
                    "answered": started + timedelta(seconds=wait) if wait is not None else None,
                },
            )
        await s.execute(
            text(
                f"INSERT INTO nps_answers (score, created_at) VALUES (10, '{DAY} 12:00+03'), (9, '{DAY} 12:00+03'), "
                f"(7, '{DAY} 12:00+03'), (3, '{DAY} 12:00+03')"
            )
        )
        await s.execute(
            text(
                "INSERT INTO callbacks (phone, reason, due_at, missed_at, status, attempts, last_attempt_at) VALUES "
                f"('+79161110001', 'missed', '{DAY} 10:10+03', '{DAY} 10:00+03', 'done', 1, '{DAY} 10:04+03'),"
                f"('+79161110002', 'abandoned', '{DAY} 10:10+03', '{DAY} 10:00+03', 'done', 1, '{DAY} 10:25+03')"
            )
        )
        await s.execute(
            text(
                "INSERT INTO voice_messages (transcript, created_at, review_due_at, reviewed_at) VALUES "
                f"('a', '{DAY} 10:00+03', '{DAY} 10:10+03', '{DAY} 10:05+03'),"
                f"('b', '{DAY} 10:00+03', '{DAY} 10:10+03', NULL)"
            )
        )
        await s.execute(
            text(
                "INSERT INTO tickets (number, category, priority, address, description, status, due_at) VALUES "
                "('1', 'leak', 'emergency', '', '', 'new', now() - interval '1 hour'),"
                "('2', 'leak', 'routine', '', '', 'done', now() - interval '1 hour'),"
                "('3', 'leak', 'routine', '', '', 'in_progress', now() + interval '1 day')"
            )
        )


async def test_summary(client, keys, db):
    await _seed(db)
    response = await client.get(
        f"/api/v1/analytics/summary?since={SINCE}&until={UNTIL}", headers=auth(keys["ops"])
    )
    assert response.status_code == 200, response.text
    body = response.json()
    calls = body["calls"]
    assert calls["total"] == 8
    assert calls["by_direction"] == {"inbound": 5, "outbound": 3}
    assert calls["by_scenario"]["meter_readings"] == {
        "readings_accepted": 2,
        "not_identified": 1,
        "hangup": 1,
    }
    assert calls["by_hour"][9] == 2 and calls["by_hour"][23] == 1 and sum(calls["by_hour"]) == 8
    assert calls["answer_time"] == {"le_10s": 1, "le_30s": 2, "le_10m": 1, "gt_10m": 1}
    success = body["success"]
    assert success["meter_readings"]["readings_accepted_rate"] == 0.5
    assert success["debt_reminder"]["promise_rate"] == 0.5
    assert success["visit_warning"]["visit_confirmation_rate"] == 1.0
    assert success["request_intake"]["calls"] == 0  # unfinished calls do not count
    assert (
        body["nps"]["answers"] == 4 and body["nps"]["nps"] == 25.0 and body["nps"]["distribution"]["10"] == 1
    )
    compliance = body["compliance"]
    assert compliance["offered_inbound"] == 5 and compliance["answered_within_5m"] == 3
    assert compliance["answered_within_5m_rate"] == 0.6
    assert compliance["callbacks_owed"] == 2 and compliance["called_back_within_10m_rate"] == 0.5
    assert compliance["voice_messages_reviewed_within_10m_rate"] == 0.5
    assert body["overdue"]["tickets"] == 1 and body["overdue"]["oldest_tickets"][0]["number"] == "1"
    assert body["overdue"]["voice_messages"] == 1


async def test_timeseries(client, keys, db):
    await _seed(db)
    response = await client.get(
        f"/api/v1/analytics/timeseries?since={SINCE}&until={UNTIL}&interval=hour&by=outcome&scenario=meter_readings",
        headers=auth(keys["ops"]),
    )
    points = response.json()["points"]
    assert [p["t"][11:13] for p in points] == ["09", "10"]
    assert points[0]["counts"] == {"readings_accepted": 2}
    daily = (
        await client.get(
            f"/api/v1/analytics/timeseries?since={SINCE}&until={UNTIL}", headers=auth(keys["ops"])
        )
    ).json()["points"]
    assert len(daily) == 1 and sum(daily[0]["counts"].values()) == 8


async def test_bad_ranges(client, keys):
    ops = auth(keys["ops"])
    assert (
        await client.get(f"/api/v1/analytics/summary?since={UNTIL}&until={SINCE}", headers=ops)
    ).status_code == 422
    assert (await client.get("/api/v1/analytics/summary?tz=Mars/Base", headers=ops)).status_code == 422
    long_hourly = (
        "/api/v1/analytics/timeseries?interval=hour&since=2020-01-01T00:00:00Z&until=2025-01-01T00:00:00Z"
    )
    assert (await client.get(long_hourly, headers=ops)).status_code == 422


async def test_hourly_counts_follow_inserts_updates_and_deletes(db):
    await _seed(db)
    async with db.transaction() as s:
        await s.execute(text("UPDATE calls SET outcome = 'ticket_created' WHERE outcome IS NULL"))
        await s.execute(
            text("UPDATE calls SET started_at = started_at - interval '5 hours' WHERE outcome = 'hangup'")
        )
        await s.execute(text("DELETE FROM calls WHERE outcome = 'refused'"))
        raw = (
            await s.execute(
                text(
                    "SELECT date_trunc('hour', started_at) AS h, direction, coalesce(scenario, '') AS s, "
                    "coalesce(outcome, '') AS o, call_wait_bucket(direction, offered_at, answered_at) AS w, count(*) AS n "
                    "FROM calls GROUP BY 1, 2, 3, 4, 5"
                )
            )
        ).all()
        kept = (
            await s.execute(
                text(
                    "SELECT hour, direction, scenario, outcome, wait_bucket, calls FROM call_stats_hourly WHERE calls <> 0"
                )
            )
        ).all()
    assert sorted(map(tuple, raw)) == sorted(map(tuple, kept))
    assert len(raw) >= 6
