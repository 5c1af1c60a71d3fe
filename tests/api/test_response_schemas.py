"""What the API sends is what its OpenAPI document says: every /api/v1 operation with a JSON answer is
called here with real data, and each answer is checked against the schema documented for its status."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import httpx
import jsonschema_rs
import pytest

from tests.emulators.max_api import MaxApiEmulator
from voicebot.api.app import create_app
from voicebot.db.models import ROLES
from voicebot.demo import load_demo_data
from voicebot.dialogue.context import CallerInput
from voicebot.dialogue.library import FlowLibrary
from voicebot.dialogue.session import open_dialogue
from voicebot.max.client import MaxClient
from voicebot.services.keys import create_key
from voicebot.settings import PROJECT_ROOT, Settings

API = "/api/v1"
NOT_JSON = {("GET", "/api/v1/calls/{call_id}/recording")}  # audio


def _validator(openapi: dict[str, Any], schema: dict[str, Any]) -> Any:
    return jsonschema_rs.Draft202012Validator({**schema, "components": openapi["components"]})


class Checked:
    def __init__(self, http: httpx.AsyncClient, openapi: dict[str, Any], key: str) -> None:
        self.http, self.openapi, self.key = http, openapi, key
        self.seen: set[tuple[str, str]] = set()
        self.db: Any = None
        self.nlu: Any = None
        self.settings: Any = None
        self.problems: list[str] = []

    async def __call__(self, method: str, template: str, path: str | None = None, **kwargs: Any) -> Any:
        headers = {"Authorization": f"Bearer {self.key}", **kwargs.pop("headers", {})}
        response = await self.http.request(method, path or template, headers=headers, **kwargs)
        assert response.status_code < 300, (
            method,
            path or template,
            response.status_code,
            response.text[:500],
        )
        self.seen.add((method, template))
        if response.status_code == 204:
            return None
        body = response.json()
        documented = self.openapi["paths"][template][method.lower()]["responses"].get(
            str(response.status_code)
        )
        if documented is None:
            self.problems.append(f"{method} {template}: status {response.status_code} is not documented")
            return body
        schema = documented.get("content", {}).get("application/json", {}).get("schema")
        if not schema:
            self.problems.append(f"{method} {template}: no JSON schema for {response.status_code}")
            return body
        errors = [
            f"{e.instance_path}: {e.message[:200]}"
            for e in _validator(self.openapi, schema).iter_errors(body)
        ]
        if errors:
            self.problems.append(f"{method} {template}: " + "; ".join(errors[:5]))
        return body


async def _a_real_call(db, nlu, settings) -> None:
    """A meter-readings conversation through the real store: a call with turns and readings."""
    dialogue = await open_dialogue(db=db, settings=settings, nlu=nlu, library=FlowLibrary.load(PROJECT_ROOT / "scenarios"),
                                   scenario="meter_readings", phone="+79161234501", channel="text")  # fmt: skip
    turn = await dialogue.start()
    for line in ("да", "215", "сто двадцать", "да", "нет, спасибо"):
        if turn.end:
            break
        turn = await dialogue.respond(CallerInput("text", line))
    if not turn.end:
        await dialogue.respond(CallerInput("hangup"))


@pytest.fixture
async def checked(db, nlu, tmp_path):
    await load_demo_data(db)
    async with MaxApiEmulator() as max_api:
        max_api.add_chat(7001, "Гагарина 15", 130)
        client = MaxClient(max_api.token, max_api.url)
        settings = Settings(data_dir=tmp_path, recordings_dir=tmp_path / "rec", webhook_secret="s",
                            webhook_allow_private=True)  # fmt: skip
        app = create_app(settings, database=db, max_service=SimpleNamespace(client=client, mode="polling"))
        key = (await create_key(db, "admin", "schemas")).key
        assert "admin" in ROLES
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http:
            openapi = (await http.get("/openapi.json")).json()
            checked = Checked(http, openapi, key)
            checked.db, checked.nlu, checked.settings = db, nlu, settings
            yield checked
        await client.close()


async def test_every_json_answer_matches_its_documented_schema(checked) -> None:
    call = checked
    await call("GET", f"{API}/me")
    created = await call("POST", f"{API}/campaigns", json={
        "name": "Долги", "scenario": "debt_reminder", "calls_per_second": 2.5,
        "contacts": [{"phone": "+79161110001", "variables": {"full_name": "Орлова Н. П.", "amount": "4870.50"}},
                     {"phone": "xx"}]})  # fmt: skip
    campaign_id = created["campaign"]["id"]
    csv = "phone;message\n+79161110002;Нет воды\n".encode("cp1251")
    await call("POST", f"{API}/campaigns/csv", files={"file": ("c.csv", csv, "text/csv")},
               data={"name": "Оповещение", "scenario": "announcement"})  # fmt: skip
    await call("GET", f"{API}/campaigns")
    cid = f"{API}/campaigns/{{campaign_id}}"
    await call("GET", cid, f"{API}/campaigns/{campaign_id}")
    for action in ("start", "pause", "resume", "cancel"):
        await call("POST", f"{cid}/{action}", f"{API}/campaigns/{campaign_id}/{action}")
    await call("GET", f"{cid}/progress", f"{API}/campaigns/{campaign_id}/progress")
    await call("GET", f"{cid}/results/page", f"{API}/campaigns/{campaign_id}/results/page")
    await call("GET", f"{cid}/results", f"{API}/campaigns/{campaign_id}/results")

    sim = await call(
        "POST", f"{API}/simulations", json={"scenario": "meter_readings", "phone": "+79161234501"}
    )
    await call("POST", f"{API}/simulations/{{simulation_id}}/turns", f"{API}/simulations/{sim['id']}/turns",
               json={"text": "да"})  # fmt: skip
    await call("DELETE", f"{API}/simulations/{{simulation_id}}", f"{API}/simulations/{sim['id']}")

    await _a_real_call(checked.db, checked.nlu, checked.settings)
    calls = await call("GET", f"{API}/calls")
    for listing in ("readings", "promises", "tickets", "nps", "visits", "voice-messages", "callbacks", "sms",
                    "webhooks/events"):  # fmt: skip
        await call("GET", f"{API}/{listing}")
    if calls["items"]:  # always: the real call above
        call_id = calls["items"][0]["id"]
        await call("GET", f"{API}/calls/{{call_id}}", f"{API}/calls/{call_id}")
        await call("GET", f"{API}/calls/{{call_id}}/transcript", f"{API}/calls/{call_id}/transcript")
    tickets = await call("GET", f"{API}/tickets")
    number = tickets["items"][0]["number"]
    await call("GET", f"{API}/tickets/{{number}}", f"{API}/tickets/{number}")
    await call("POST", f"{API}/tickets/{{number}}/status", f"{API}/tickets/{number}/status",
               json={"status": "in_progress", "comment": "взяли"})  # fmt: skip
    await call("GET", f"{API}/analytics/summary")
    await call("GET", f"{API}/analytics/timeseries", params={"by": "scenario"})

    await call("GET", f"{API}/company-card")
    card = await call("GET", f"{API}/company-card")
    await call("PUT", f"{API}/company-card", json=card)

    chat = await call(
        "POST", f"{API}/house-chats", json={"street": "Гагарина", "house": "15", "chat_id": 7001}
    )
    await call("GET", f"{API}/house-chats")
    outage = await call("POST", f"{API}/outages", json={
        "title": "Нет горячей воды", "message": "Горячей воды нет до вечера.",
        "buildings": [{"street": "Гагарина", "house": "15"}]})  # fmt: skip
    oid = f"{API}/outages/{{outage_id}}"
    await call("GET", f"{API}/outages")
    await call("GET", oid, f"{API}/outages/{outage['id']}")
    await call("PATCH", oid, f"{API}/outages/{outage['id']}", json={"message": "Дадут в 21:00."})
    await call("POST", f"{oid}/end", f"{API}/outages/{outage['id']}/end")
    await call("DELETE", f"{API}/house-chats/{{chat_row_id}}", f"{API}/house-chats/{chat['id']}")

    day = (datetime.now(UTC) + timedelta(days=2)).date()
    await call(
        "POST", f"{API}/office/slots", json={"day": day.isoformat(), "first": "10:00", "last": "12:00"}
    )
    later = day + timedelta(days=1)
    await call("POST", f"{API}/office/slots/import", content=f"date,start,end\n{later},10:00,10:30\n".encode(),
               headers={"Content-Type": "text/csv"})  # fmt: skip
    slots = await call("GET", f"{API}/office/appointments", params={"day": day.isoformat()})
    free = [s["slot_id"] for s in slots if not s.get("appointment")]
    booked = await call(
        "POST", f"{API}/office/appointments", json={"slot_id": free[0], "phone": "+79161234501"}
    )
    await call("PATCH", f"{API}/office/appointments/{{appointment_id}}", f"{API}/office/appointments/{booked['id']}",
               json={"slot_id": free[1]})  # fmt: skip
    await call("POST", f"{API}/office/slots/{{slot_id}}/close", f"{API}/office/slots/{free[2]}/close")

    assert checked.problems == []
    documented = {
        (method.upper(), path)
        for path, operations in checked.openapi["paths"].items()
        if path.startswith(API)
        for method in operations
    }
    missing = (
        documented
        - checked.seen
        - NOT_JSON
        - {("POST", f"{API}/max/conversations"), ("POST", f"{API}/webhooks/events/{{event_id}}/retry")}
    )
    assert not missing, f"operations this test does not call yet: {sorted(missing)}"
