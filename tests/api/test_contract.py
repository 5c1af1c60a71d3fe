"""The API's contract as clients see it: every operation documents its errors with the body the API really
sends, a non-JSON body gets 415, an idempotent replay returns the same types, the phone filter takes the
spellings people type."""

from __future__ import annotations

from sqlalchemy import text

from tests.api.conftest import auth

API = "/api/v1"


async def test_every_operation_documents_its_errors_with_the_real_schema(app, client):
    schema = (await client.get("/openapi.json")).json()
    body = schema["components"]["schemas"]["ErrorBody"]
    detail = schema["components"]["schemas"]["ErrorDetail"]
    assert body["properties"]["error"]["$ref"] == "#/components/schemas/ErrorDetail"
    assert {"code", "message", "details"} <= set(detail["properties"])
    assert "HTTPValidationError" not in str(schema)
    operations = [
        (method, path, operation)
        for path, methods in schema["paths"].items()
        if path.startswith(API)
        for method, operation in methods.items()
    ]
    assert len(operations) > 20
    for method, path, operation in operations:
        for status in ("401", "403", "404", "415", "422", "429", "500"):
            response = operation["responses"].get(status)
            assert response, f"{method.upper()} {path} does not document {status}"
            ref = response["content"]["application/json"]["schema"]["$ref"]
            assert ref == "#/components/schemas/ErrorBody", (method, path, status)
    # what is documented is what comes back
    missing = await client.get(
        f"{API}/calls/00000000-0000-0000-0000-000000000000", headers={"X-API-Key": "vb_x_y"}
    )
    assert set(missing.json()) == {"error"} and set(missing.json()["error"]) == {"code", "message", "details"}


async def test_wrong_content_type_is_415(client, keys):
    form = await client.post(
        f"{API}/campaigns", data={"name": "x", "scenario": "announcement"}, headers=auth(keys["staff"])
    )
    assert form.status_code == 415 and form.json()["error"]["code"] == "unsupported_media_type"
    plain = await client.post(
        f"{API}/campaigns",
        content=b'{"name": "x"}',
        headers={**auth(keys["staff"]), "Content-Type": "text/plain"},
    )
    assert plain.status_code == 415
    bad_json = await client.post(f"{API}/campaigns", json={"name": "x"}, headers=auth(keys["staff"]))
    assert bad_json.status_code == 422  # JSON with missing fields stays a validation error


async def test_replay_keeps_the_types(client, keys):
    body = {
        "name": "Оповещение",
        "scenario": "announcement",
        "calls_per_second": 2.5,
        "contacts": [{"phone": "+79161110001", "variables": {"message": "Нет воды"}}],
    }
    headers = {**auth(keys["staff"]), "Idempotency-Key": "types-1"}
    first = (await client.post(f"{API}/campaigns", json=body, headers=headers)).json()["campaign"]
    again = (await client.post(f"{API}/campaigns", json=body, headers=headers)).json()["campaign"]
    assert first["calls_per_second"] == again["calls_per_second"] == 2.5
    assert {k: type(v) for k, v in first.items()} == {k: type(v) for k, v in again.items()}


async def test_phone_filter_takes_what_people_type(client, keys, db):
    async with db.transaction() as s:
        await s.execute(
            text(
                "INSERT INTO calls (id, direction, channel, status, phone) VALUES "
                "(gen_random_uuid(), 'inbound', 'voice', 'ended', '+79161234503')"
            )
        )
    for spelling in ("8 916 123-45-03", "+7 (916) 123-45-03", "+79161234503"):
        found = await client.get(f"{API}/calls", params={"phone": spelling}, headers=auth(keys["supervisor"]))
        assert found.status_code == 200 and found.json()["total"] == 1, spelling
    bad = await client.get(f"{API}/calls", params={"phone": "12"}, headers=auth(keys["supervisor"]))
    assert bad.status_code == 422 and bad.json()["error"]["details"][0]["loc"] == ["query", "phone"]


async def test_results_come_in_pages(client, keys):
    body = {
        "name": "Оповещение",
        "scenario": "announcement",
        "contacts": [{"phone": f"+7916111000{i}", "variables": {"message": "Нет воды"}} for i in range(5)],
    }
    staff = auth(keys["staff"])
    campaign = (await client.post(f"{API}/campaigns", json=body, headers=staff)).json()["campaign"]
    seen, after = [], 0
    while True:
        page = await client.get(
            f"{API}/campaigns/{campaign['id']}/results/page",
            params={"after": after, "limit": 2},
            headers=staff,
        )
        assert page.status_code == 200
        data = page.json()
        seen += [row["phone"] for row in data["items"]]
        assert all(
            row["variables"] == {"message": "Нет воды"} and row["readings"] == 0 for row in data["items"]
        )
        if data["next_after"] is None:
            break
        after = data["next_after"]
    assert sorted(seen) == [f"+7916111000{i}" for i in range(5)]
    missing = await client.get(f"{API}/campaigns/999999/results/page", headers=staff)
    assert missing.status_code == 404
