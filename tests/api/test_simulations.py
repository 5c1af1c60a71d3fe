"""The simulations API runs a meter_readings dialogue on the demo company, turn by turn."""

from __future__ import annotations

from sqlalchemy import text

from tests.api.conftest import auth
from voicebot.demo import load_demo_data

CALLER = [
    "Лицевой… ноль семь, двадцать три, сорок пять, ноль один.",
    "Да-да, всё верно.",
    "Холодная… сто двадцать три. Ой, нет, подождите, это я на горячий смотрю. Холодная — двести пятнадцать.",
    "Угу.",
    "Горячая — сто двадцать три… и там ещё красненькие цифры, пятьсот шестьдесят.",
    "Правильно.",
    "А за свет вам можно?",
    "Давайте СМС.",
]


async def test_meter_readings_over_the_api(client, keys, db, api_settings):
    await load_demo_data(db, api_settings.default_timezone)
    staff = auth(keys["staff"])
    created = await client.post(
        "/api/v1/simulations",
        json={"scenario": "meter_readings", "phone": "+79990000101", "now": "2025-11-18T10:00:00+03:00"},
        headers=staff,
    )
    assert created.status_code == 201, created.text
    sim = created.json()
    assert sim["turn"]["bot"] and sim["turn"]["listen"]
    final = None
    for line in CALLER:
        response = await client.post(
            f"/api/v1/simulations/{sim['id']}/turns", json={"text": line}, headers=staff
        )
        assert response.status_code == 200, response.text
        if "final" in response.json():
            final = response.json()["final"]
            break
    assert final is not None, "the dialogue did not end"
    assert final["outcome"] == "readings_accepted"
    assert final["call_id"] == sim["call_id"]
    values = sorted(float(r["value"]) for r in final["records"]["readings"])
    assert values == [123.0, 215.0]
    gone = await client.post(f"/api/v1/simulations/{sim['id']}/turns", json={"text": "алло"}, headers=staff)
    assert gone.status_code == 404
    assert [t["kind"] for t in final["records"]["tasks"]] == ["sms"]  # what a real call would queue
    async with db.session() as s:  # a simulation is a sandbox: none of it was written
        counts = await s.scalar(
            text(
                "SELECT (SELECT count(*) FROM calls) + (SELECT count(*) FROM tasks) + (SELECT count(*) FROM readings)"
            )
        )
    assert counts == 0


async def test_bad_requests_and_hangup(client, keys, db, api_settings):
    staff = auth(keys["staff"])
    unknown = await client.post("/api/v1/simulations", json={"scenario": "nope"}, headers=staff)
    assert unknown.status_code == 422 and "nope" in unknown.json()["error"]["message"]
    bad_phone = await client.post(
        "/api/v1/simulations", json={"scenario": "meter_readings", "phone": "12"}, headers=staff
    )
    assert bad_phone.status_code == 422
    wrong_direction = await client.post(
        "/api/v1/simulations", json={"scenario": "request_intake", "direction": "outbound"}, headers=staff
    )
    assert wrong_direction.status_code == 422
    sim = (
        await client.post("/api/v1/simulations", json={"scenario": "request_intake"}, headers=staff)
    ).json()
    hung = await client.post(
        f"/api/v1/simulations/{sim['id']}/turns", json={"text": "<hangup>"}, headers=staff
    )
    assert hung.json()["final"]["outcome"] == "hangup"


async def test_idle_simulations_expire(app, client, keys, db):
    staff = auth(keys["staff"])
    sim = (
        await client.post("/api/v1/simulations", json={"scenario": "request_intake"}, headers=staff)
    ).json()
    store = app.state.simulations
    store.idle_seconds = 0
    await store.sweep()
    response = await client.post(
        f"/api/v1/simulations/{sim['id']}/turns", json={"text": "течёт"}, headers=staff
    )
    assert response.status_code == 404
    assert store.live == {}  # hung up and dropped (a sandbox: there is no calls row to close)


async def test_one_key_cannot_take_every_simulation_slot(app, client, keys, db):
    await load_demo_data(db)
    app.state.key_limiter.per_minute = 0
    app.state.simulations.per_owner = 2
    hog, other = {"Authorization": f"Bearer {keys['ops']}"}, {"Authorization": f"Bearer {keys['staff']}"}
    for _ in range(2):
        assert (
            await client.post("/api/v1/simulations", json={"scenario": "request_intake"}, headers=hog)
        ).status_code == 201
    refused = await client.post("/api/v1/simulations", json={"scenario": "request_intake"}, headers=hog)
    assert refused.status_code == 429 and refused.headers["retry-after"]
    assert (
        await client.post("/api/v1/simulations", json={"scenario": "request_intake"}, headers=other)
    ).status_code == 201
