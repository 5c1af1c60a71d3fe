"""The test channels are a sandbox: a tester hears real residents only if their role may see them, and no
test reaches the billing tables, the SMS/webhook outboxes, the dialer or the call figures."""

from __future__ import annotations

from sqlalchemy import text

from tests.api.conftest import auth
from tests.api.test_simulations import CALLER
from voicebot.demo import load_demo_data

REAL_RESIDENT = "+79161234501"  # the demo company's Орлова Н. П., ул. Гагарина, д. 15, кв. 42
NOW = "2025-11-18T10:00:00+03:00"
TABLES = ("calls", "call_turns", "readings", "promises", "tickets", "ticket_events", "tasks", "callbacks",
          "nps_answers", "visits", "voice_messages", "do_not_call", "sms_outbox", "webhook_outbox")  # fmt: skip


async def _talk(
    client, headers, scenario: str, lines: list[str], phone: str = REAL_RESIDENT
) -> tuple[list, dict]:
    created = await client.post(
        "/api/v1/simulations", json={"scenario": scenario, "phone": phone, "now": NOW}, headers=headers
    )
    assert created.status_code == 201, created.text
    sim = created.json()
    said = [_text(sim["turn"]["bot"])]
    for line in lines:
        reply = (
            await client.post(f"/api/v1/simulations/{sim['id']}/turns", json={"text": line}, headers=headers)
        ).json()
        said.append(_text(reply["turn"]["bot"]))
        if "final" in reply:
            return said, reply["final"]
    return said, {}


def _text(bot: str | list[str]) -> str:
    return bot if isinstance(bot, str) else " ".join(bot)


async def _written(db) -> dict[str, int]:
    async with db.session() as s:
        counts = {t: await s.scalar(text(f"SELECT count(*) FROM {t}")) for t in TABLES}
        meters = await s.scalar(text("SELECT sum(last_value) FROM meters"))
    return {k: v for k, v in counts.items() if v} | {"meters": meters}


async def test_a_role_without_resident_data_gets_the_demo_resident(app, client, keys, db, api_settings):
    await load_demo_data(db, api_settings.default_timezone)
    before = await _written(db)
    app.state.key_limiter.per_minute = 0
    said, final = await _talk(client, auth(keys["ops"]), "meter_readings", CALLER)  # API and UI alike
    text_heard = " ".join(said)
    assert "Гагарина" not in text_heard and "Орлова" not in text_heard and "Наталья" not in text_heard
    assert final["outcome"] == "readings_accepted"
    assert {r["account"] for r in final["records"]["readings"]} == {"000001"}  # the synthetic resident
    assert await _written(db) == before


async def test_staff_hears_the_resident_but_writes_nothing_anywhere(client, keys, db, api_settings):
    await load_demo_data(db, api_settings.default_timezone)
    before = await _written(db)
    _, final = await _talk(client, auth(keys["staff"]), "meter_readings", CALLER)
    assert {r["account"] for r in final["records"]["readings"]} == {"07234501"}
    assert [r["status"] for r in final["records"]["readings"]] == ["accepted", "accepted"]
    intake = [
        "У нас в подъезде не горит свет на третьем этаже",
        "Гагарина пятнадцать",
        "да",
        "да",
        "нет",
        "да",
    ]
    _, intake_final = await _talk(client, auth(keys["staff"]), "request_intake", [*intake, "<hangup>"])
    assert intake_final["outcome"]  # the dialogue ran to its end (a hang-up at the latest)
    assert await _written(db) == before  # no call rows, readings, meter values, tickets, SMS, callbacks


async def test_test_calls_are_not_in_the_figures(client, keys, db, api_settings):
    await load_demo_data(db, api_settings.default_timezone)
    await _talk(client, auth(keys["staff"]), "meter_readings", CALLER)
    summary = await client.get(
        "/api/v1/analytics/summary", params={"from": "2025-11-01T00:00:00+03:00", "to": "2025-12-01T00:00:00+03:00"},
        headers=auth(keys["ops"]),
    )  # fmt: skip
    assert summary.status_code == 200, summary.text
    assert summary.json()["calls"]["total"] == 0
    assert summary.json()["compliance"] == (await _empty_compliance(client, keys))


async def _empty_compliance(client, keys) -> dict:
    """The 5-/10-minute figures of a period with no calls at all."""
    empty = await client.get(
        "/api/v1/analytics/summary", params={"from": "2001-01-01T00:00:00+03:00", "to": "2001-02-01T00:00:00+03:00"},
        headers=auth(keys["ops"]),
    )  # fmt: skip
    return empty.json()["compliance"]


async def test_a_simulation_belongs_to_the_key_that_started_it(client, keys, db):
    mine = await client.post(
        "/api/v1/simulations", json={"scenario": "request_intake"}, headers=auth(keys["staff"])
    )
    sim_id = mine.json()["id"]
    other = auth(keys["admin"])
    assert (
        await client.post(f"/api/v1/simulations/{sim_id}/turns", json={"text": "алло"}, headers=other)
    ).status_code == 404
    assert (await client.delete(f"/api/v1/simulations/{sim_id}", headers=other)).status_code == 404
    assert (
        await client.delete(f"/api/v1/simulations/{sim_id}", headers=auth(keys["staff"]))
    ).status_code == 204
