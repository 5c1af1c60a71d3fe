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
    assert "416" in schema["paths"][f"{API}/calls/{{call_id}}/recording"]["get"]["responses"]
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


async def test_a_bad_csv_upload_form_is_422_not_415(client, keys):
    """The CSV endpoint takes multipart: a missing file or a bad field names the field, not "send JSON"."""
    no_file = await client.post(
        f"{API}/campaigns/csv", data={"name": "x", "scenario": "announcement"}, headers=auth(keys["staff"])
    )
    assert no_file.status_code == 422, no_file.text
    assert [(d["location"], d["field"], d["code"]) for d in no_file.json()["error"]["details"]] == [
        ("body", "file", "missing")
    ]
    bad_field = await client.post(
        f"{API}/campaigns/csv",
        data={"name": "x", "scenario": "announcement", "max_concurrent": "abc"},
        files={"file": ("c.csv", b"phone,message\n+79161234501,m\n", "text/csv")},
        headers=auth(keys["staff"]),
    )
    assert bad_field.status_code == 422, bad_field.text
    assert bad_field.json()["error"]["details"][0]["field"] == "max_concurrent"


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
    assert bad.status_code == 422
    assert [(d["location"], d["field"]) for d in bad.json()["error"]["details"]] == [("query", "phone")]


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


ITEM_KEYS = {"location", "field", "reason", "code", "allowed"}


def _error(response) -> dict:
    body = response.json()
    assert set(body) == {"error"}, body
    assert set(body["error"]) == {"code", "message", "details"}, body
    assert isinstance(body["error"]["details"], list)
    for item in body["error"]["details"]:
        assert set(item) == ITEM_KEYS, item
        assert item["location"] in {"body", "query", "path", "header", "cookie", "contacts", "request"}
        assert isinstance(item["field"], str) and item["reason"] and item["code"]
    return body["error"]


async def test_every_error_has_one_shape_with_fixed_items(client, keys):
    staff = auth(keys["staff"])
    cases = {
        "unauthenticated": await client.get(f"{API}/calls"),
        "not_found": await client.get(f"{API}/campaigns/999", headers=staff),
        "bad_path": await client.get(f"{API}/campaigns/abc", headers=staff),
        "bad_query": await client.get(f"{API}/campaigns", params={"limit": "-1"}, headers=staff),
        "bad_body": await client.post(f"{API}/campaigns", json={"name": "", "contacts": []}, headers=staff),
        "not_json": await client.post(f"{API}/campaigns", content=b"x", headers={**staff, "Content-Type": "text/plain"}),
        "unknown_scenario": await client.post(f"{API}/campaigns", headers=staff, json={
            "name": "x", "scenario": "no_such", "contacts": [{"phone": "+79161110001"}]}),
        "no_valid_contacts": await client.post(f"{API}/campaigns", headers=staff, json={
            "name": "x", "scenario": "announcement", "contacts": [{"phone": "xx"}, {"phone": "+7916"}]}),
        "unknown_url": await client.get(f"{API}/no-such-thing", headers=staff),
    }  # fmt: skip
    errors = {name: _error(response) for name, response in cases.items()}
    assert {name: r.status_code for name, r in cases.items()} == {
        "unauthenticated": 401, "not_found": 404, "bad_path": 422, "bad_query": 422, "bad_body": 422,
        "not_json": 415, "unknown_scenario": 422, "no_valid_contacts": 422, "unknown_url": 404}  # fmt: skip
    assert ("path", "campaign_id") in {(d["location"], d["field"]) for d in errors["bad_path"]["details"]}
    assert ("query", "limit") in {(d["location"], d["field"]) for d in errors["bad_query"]["details"]}
    body_fields = {(d["location"], d["field"]) for d in errors["bad_body"]["details"]}
    assert {("body", "name"), ("body", "scenario"), ("body", "contacts")} <= body_fields
    (unknown,) = errors["unknown_scenario"]["details"]
    assert (unknown["field"], unknown["code"]) == ("scenario", "unknown_value") and "announcement" in unknown[
        "allowed"
    ]
    assert [d["location"] for d in errors["no_valid_contacts"]["details"]] == ["contacts", "contacts"]


async def test_the_documented_error_item_is_the_one_sent(client):
    schema = (await client.get("/openapi.json")).json()
    item = schema["components"]["schemas"]["ErrorItem"]
    assert set(item["properties"]) == ITEM_KEYS
    assert set(item["required"]) == {"location", "field", "reason", "code"}
    detail = schema["components"]["schemas"]["ErrorDetail"]
    assert detail["properties"]["details"]["items"]["$ref"] == "#/components/schemas/ErrorItem"


async def test_a_refused_query_or_body_value_is_named_in_details(client, keys):
    """details points at the value whenever there is one (docs/api.md: empty only when nothing to point at)."""
    ops = auth(keys["ops"])  # webhook_url: tests/api/test_webhook_destinations.py
    zone = await client.get(f"{API}/analytics/summary", params={"tz": "Mars/Olympus"}, headers=ops)
    since = await client.get(
        f"{API}/analytics/summary", params={"since": "2026-12-02", "until": "2026-12-01"}, headers=ops
    )
    for response, where in (
        (zone, ("query", "tz")),
        (since, ("query", "since")),
    ):
        assert response.status_code == 422, response.text
        details = response.json()["error"]["details"]
        assert [(d["location"], d["field"]) for d in details] == [where], response.text


async def test_a_value_outside_a_short_list_says_which_values_are_allowed(client, keys):
    answer = await client.get(
        f"{API}/analytics/timeseries", params={"interval": "minute"}, headers=auth(keys["ops"])
    )
    assert answer.status_code == 422
    [item] = answer.json()["error"]["details"]
    assert (item["field"], item["code"], item["allowed"]) == ("interval", "literal_error", ["hour", "day"])


async def test_a_refused_scenario_or_campaign_settings_are_named_in_details(client, keys):
    contacts = [{"phone": "+79161234501", "variables": {"message": "m"}}]
    inbound = await client.post(
        f"{API}/campaigns",
        json={"name": "x", "scenario": "inbound_router", "contacts": contacts},
        headers=auth(keys["staff"]),
    )
    assert inbound.status_code == 422
    [item] = inbound.json()["error"]["details"]
    assert (item["location"], item["field"]) == ("body", "scenario")
    assert "announcement" in item["allowed"] and "inbound_router" not in item["allowed"]
    window = await client.post(
        f"{API}/campaigns",
        json={
            "name": "x",
            "scenario": "announcement",
            "contacts": contacts,
            "settings": {"windows": {"weekday": ["25:00", "21:00"]}},
        },
        headers=auth(keys["staff"]),
    )
    assert window.status_code == 422
    assert [(d["location"], d["field"]) for d in window.json()["error"]["details"]] == [("body", "settings")]
