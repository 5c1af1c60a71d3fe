"""Webhooks (signed, retried with backoff while the receiver fails, logged) and SMS from dialogue tasks."""

from __future__ import annotations

import asyncio
import json

import pytest
from sqlalchemy import text

from tests.api.outbox_events import campaign_with_contact, finish_contact, run_outbox
from voicebot.services import outbox, sms
from voicebot.services.webhooks import SIGNATURE_HEADER, TIMESTAMP_HEADER, verify


async def _make_due(db, table: str) -> None:
    async with db.transaction() as s:
        await s.execute(text(f"UPDATE {table} SET next_attempt_at = now() WHERE status = 'pending'"))


async def test_finished_contact_is_delivered_after_the_receiver_recovers(db, api_settings, receiver):
    receiver.statuses = [500, 503]
    _cid, contact = await campaign_with_contact(db, receiver.url + "/hook")
    async with db.transaction() as s:  # an update that does not finish the contact makes no event
        await s.execute(
            text("UPDATE campaign_contacts SET attempts = 1, state = 'in_progress' WHERE id = :id"),
            {"id": contact},
        )
    await finish_contact(db, contact)

    assert await run_outbox(db, api_settings) == 1  # attempt 1: 500
    assert await run_outbox(db, api_settings) == 0  # backing off: nothing due
    for _ in range(2):  # attempt 2: 503, attempt 3: 200
        await _make_due(db, "webhook_outbox")
        await run_outbox(db, api_settings)

    assert len(receiver.requests) == 3
    request = receiver.requests[-1]
    assert request.path == "/hook"
    assert verify(
        "test-secret",
        request.headers[TIMESTAMP_HEADER.lower()],
        request.body,
        request.headers[SIGNATURE_HEADER.lower()],
    )
    assert not verify(
        "other-secret",
        request.headers[TIMESTAMP_HEADER.lower()],
        request.body,
        request.headers[SIGNATURE_HEADER.lower()],
    )
    event = json.loads(request.body)
    assert event["type"] == "contact.finished"
    assert event["data"]["outcome"] == "promise_to_pay" and event["data"]["contact_id"] == contact
    async with db.session() as s:
        row = (await s.execute(text("SELECT status, attempts FROM webhook_outbox"))).one()
        log = (await s.execute(text("SELECT ok, status_code FROM webhook_deliveries ORDER BY id"))).all()
    assert tuple(row) == ("delivered", 3)
    assert [tuple(r) for r in log] == [(False, 500), (False, 503), (True, 200)]


async def test_ticket_event_goes_to_the_global_url_and_gives_up_after_max_attempts(
    db, api_settings, receiver
):
    api_settings.webhook_url = receiver.url + "/global"
    api_settings.webhook_max_attempts = 2
    receiver.statuses = [500, 500, 500]
    async with db.transaction() as s:
        await s.execute(
            text(
                "INSERT INTO tickets (number, category, priority, address, description, status) "
                "VALUES ('24001', 'leak', 'emergency', 'ул. Мира, 8', 'течёт', 'new')"
            )
        )
    await run_outbox(db, api_settings)
    await _make_due(db, "webhook_outbox")
    await run_outbox(db, api_settings)
    await _make_due(db, "webhook_outbox")
    assert await run_outbox(db, api_settings) == 0
    assert json.loads(receiver.requests[0].body)["data"]["number"] == "24001"
    async with db.session() as s:
        assert await s.scalar(text("SELECT status FROM webhook_outbox")) == "failed"


async def test_events_wait_while_there_is_no_secret_and_are_skipped_without_a_url(db, api_settings, receiver):
    _cid, contact = await campaign_with_contact(db, None)
    await finish_contact(db, contact)
    await run_outbox(db, api_settings)
    async with db.session() as s:
        assert await s.scalar(text("SELECT status FROM webhook_outbox")) == "skipped"
    api_settings.webhook_secret = ""
    _cid, contact = await campaign_with_contact(db, receiver.url)
    await finish_contact(db, contact)
    await run_outbox(db, api_settings)
    assert receiver.requests == []
    async with db.session() as s:
        assert await s.scalar(text("SELECT count(*) FROM webhook_outbox WHERE status = 'pending'")) == 1


def test_backoff_doubles_and_is_capped(api_settings):
    api_settings.webhook_backoff_seconds, api_settings.webhook_backoff_max_seconds = 5, 3600
    assert 4 <= outbox.retry_in(api_settings, 1) <= 5
    assert 16 <= outbox.retry_in(api_settings, 3) <= 20
    assert 2880 <= outbox.retry_in(api_settings, 30) <= 3600


async def test_sms_task_becomes_a_gateway_request_with_retries(db, api_settings, receiver):
    api_settings.sms_gateway_url = receiver.url + "/sms"
    api_settings.sms_gateway_headers = '{"Authorization": "Bearer gw-token"}'
    api_settings.sms_payment_url = "https://pay.example/{account}"
    receiver.statuses = [502]
    async with db.transaction() as s:
        await s.execute(
            text(
                "INSERT INTO tasks (kind, payload, status) VALUES "
                '(\'sms\', \'{"phone": "+79161110001", "template": "payment_link", "account": "07234501"}\', \'open\'),'
                "('sms', '{\"template\": \"payment_link\"}', 'open'),"
                '(\'sms\', \'{"phone": "+79161110002", "template": "visit_reminder", '
                '"slot": "2099-11-20 10:00-12:00", "send_on": "2099-11-19"}\', \'open\')'
            )
        )
    await run_outbox(db, api_settings)
    await _make_due(db, "sms_outbox")  # also makes the 2099 reminder due: send_on only delays it
    await run_outbox(db, api_settings)
    await _make_due(db, "sms_outbox")
    await run_outbox(db, api_settings)
    bodies = [json.loads(r.body) for r in receiver.requests]
    payment = [b for b in bodies if b["to"] == "+79161110001"]
    assert len(payment) == 2  # 502, then 200
    assert "https://pay.example/07234501" in payment[-1]["text"] and "Уютный дом" in payment[-1]["text"]
    reminder = [b for b in bodies if b["to"] == "+79161110002"]
    assert "20.11.2099 с 10:00 до 12:00" in reminder[0]["text"]
    assert receiver.requests[0].headers["authorization"] == "Bearer gw-token"
    async with db.session() as s:
        statuses = dict((await s.execute(text("SELECT phone, status FROM sms_outbox"))).all())
        tasks = [r[0] for r in (await s.execute(text("SELECT status FROM tasks ORDER BY id"))).all()]
    assert statuses == {"+79161110001": "sent", "+79161110002": "sent"}
    assert tasks == ["done", "failed", "done"]


async def test_reminder_waits_for_its_day(db, api_settings, receiver):
    api_settings.sms_gateway_url = receiver.url
    async with db.transaction() as s:
        await s.execute(
            text(
                'INSERT INTO tasks (kind, payload, status) VALUES (\'sms\', \'{"phone": "+79161110002", '
                '"template": "visit_reminder", "slot": "2099-11-20 10:00-12:00", "send_on": "2099-11-19"}\', \'open\')'
            )
        )
    await run_outbox(db, api_settings)
    await run_outbox(db, api_settings)
    assert receiver.requests == []


def test_gateway_body_escaping(api_settings):
    assert sms._escape('он сказал "да"\n', "application/json") == 'он сказал \\"да\\"\\n'
    assert sms._escape("a b&c", "application/x-www-form-urlencoded") == "a+b%26c"
    with pytest.raises(ValueError, match="unknown SMS template"):
        sms.render("nope", {}, api_settings, sms.TEMPLATES)


async def test_the_service_delivers_in_the_background(db, api_settings, receiver):
    from voicebot.services.outbox import OutboxWorkers

    api_settings.webhook_url = receiver.url
    api_settings.outbox_poll_seconds = 0.05
    async with OutboxWorkers(db, api_settings):
        async with db.transaction() as s:
            await s.execute(
                text(
                    "INSERT INTO tickets (number, category, priority, address, description, status) "
                    "VALUES ('24002', 'leak', 'routine', '', '', 'new')"
                )
            )
        for _ in range(100):
            if receiver.requests:
                break
            await asyncio.sleep(0.05)
    assert json.loads(receiver.requests[0].body)["type"] == "ticket.created"


async def test_admin_can_requeue_a_failed_event(db, api_settings, receiver, client, keys):
    from tests.api.conftest import auth

    api_settings.webhook_url = receiver.url
    api_settings.webhook_max_attempts = 1
    receiver.statuses = [500]
    async with db.transaction() as s:
        await s.execute(
            text(
                "INSERT INTO tickets (number, category, priority, address, description, status) "
                "VALUES ('24003', 'leak', 'routine', '', '', 'new')"
            )
        )
    await run_outbox(db, api_settings)
    events = (await client.get("/api/v1/webhooks/events?status=failed", headers=auth(keys["admin"]))).json()
    assert events["total"] == 1 and events["items"][0]["deliveries"][0]["status_code"] == 500
    event_id = events["items"][0]["id"]
    retried = await client.post(f"/api/v1/webhooks/events/{event_id}/retry", headers=auth(keys["admin"]))
    assert retried.status_code == 200 and retried.json()["status"] == "pending"
    await run_outbox(db, api_settings)
    again = await client.post(f"/api/v1/webhooks/events/{event_id}/retry", headers=auth(keys["admin"]))
    assert again.status_code == 409  # delivered now
    staff = await client.post(f"/api/v1/webhooks/events/{event_id}/retry", headers=auth(keys["staff"]))
    assert staff.status_code == 403


async def test_a_forbidden_destination_fails_at_once_instead_of_30_retries(db, api_settings):
    api_settings.webhook_allow_private = False
    _cid, contact = await campaign_with_contact(db, "http://0x7f000001:9/hook")  # stored before the check
    await finish_contact(db, contact)
    await run_outbox(db, api_settings)
    async with db.session() as s:
        row = (await s.execute(text("SELECT status, attempts, last_error FROM webhook_outbox"))).one()
    assert row.status == "failed" and row.attempts == 1 and "127.0.0.1" in row.last_error
