"""Admin pages over HTTP: keys created (shown once) and revoked with audit lines, the audit log with
filters, webhook and SMS outbox states; nobody but an admin gets in."""

from __future__ import annotations

import re

from sqlalchemy import text

from tests.web.conftest import csrf_of, login


async def test_admin_creates_and_revokes_a_key(client, keys, db):
    await login(client, keys["admin"])
    page = await client.get("/admin/keys")
    assert page.status_code == 200 and "тест ops" in page.text and "это вы" in page.text
    csrf = csrf_of(page.text)
    nameless = await client.post("/admin/keys", data={"name": " ", "role": "ops", "csrf": csrf})
    assert nameless.status_code == 422 and "Назовите ключ" in nameless.text
    created = await client.post(
        "/admin/keys", data={"name": "диспетчер Петрова", "role": "ops", "csrf": csrf}
    )
    assert created.status_code == 200 and "больше он не будет показан" in created.text
    new_key = re.search(r'id="new-key-value">([^<]+)<', created.text).group(1)
    assert new_key.startswith("vb_")
    async with db.session() as s:
        key_id = await s.scalar(text("SELECT id FROM api_keys WHERE name = 'диспетчер Петрова'"))
        own_id = await s.scalar(text("SELECT id FROM api_keys WHERE name = 'тест admin'"))
    assert "больше он не будет показан" not in (await client.get("/admin/keys")).text
    own = await client.post(f"/admin/keys/{own_id}/revoke", data={"csrf": csrf})
    assert own.status_code == 409 and "сейчас вошли" in own.text
    assert (await client.post(f"/admin/keys/{key_id}/revoke", data={"csrf": csrf})).status_code == 303
    assert "отозван" in (await client.get("/admin/keys")).text
    audit = await client.get("/admin/audit")
    assert "Создал ключ" in audit.text and "Отозвал ключ" in audit.text and "2 записи" in audit.text
    only = await client.get("/admin/audit?action=key.revoke")
    assert "1 запись" in only.text and "Создал ключ</td>" not in only.text
    assert new_key not in audit.text  # the secret never reaches the log


async def test_outbox_pages_and_access(client, keys, db):
    async with db.transaction() as s:
        await s.execute(
            text(
                "INSERT INTO sms_outbox (phone, text, status, attempts, last_error) "
                "VALUES ('+79161234501', 'Заявка Т-1 принята', 'failed', 5, 'шлюз ответил 500')"
            )
        )
    await login(client, keys["admin"])
    sms = await client.get("/admin/sms")
    assert sms.status_code == 200 and "не настроен" in sms.text and "шлюз ответил 500" in sms.text
    assert "Ошибка" in sms.text
    hooks = await client.get("/admin/webhooks")
    assert hooks.status_code == 200 and "Пока ничего не отправлялось" in hooks.text
    for role in ("ops", "supervisor", "staff"):
        client.cookies.clear()
        await login(client, keys[role])
        denied = await client.get("/admin/keys")
        assert denied.status_code == 403 and "Нет доступа" in denied.text
        assert 'href="/admin"' not in (await client.get("/try")).text
