"""The UI over HTTP without a browser: login, sessions, roles, CSRF, pages with data, uploads, audio."""

from __future__ import annotations

import uuid

from sqlalchemy import text

from tests.web.conftest import csrf_of, login
from tests.web.seed import seed
from voicebot.services.keys import revoke_key
from voicebot.web import session as cookies


async def test_login_sets_a_signed_httponly_cookie_and_sends_each_role_home(client, keys):
    anonymous = await client.get("/dashboard?period=7d")
    assert anonymous.status_code == 401 and 'name="key"' in anonymous.text
    assert 'name="next" value="/dashboard?period=7d"' in anonymous.text
    for role, home in (
        ("ops", "/dashboard"),
        ("supervisor", "/calls"),
        ("staff", "/campaigns"),
        ("admin", "/dashboard"),
    ):
        client.cookies.clear()
        response = await login(client, keys[role])
        assert response.status_code == 303 and response.headers["location"] == home
        cookie = response.headers["set-cookie"]
        assert "HttpOnly" in cookie and "SameSite=lax" in cookie.replace("Lax", "lax")
        assert keys[role] not in cookie  # the key itself never leaves the server
        assert (await client.get("/")).headers["location"] == home


async def test_bad_key_stale_form_tampered_cookie_and_revoked_key(client, keys, db):
    wrong = await login(client, "vb_nope_nope")
    assert wrong.status_code == 401 and "Ключ не подошёл" in wrong.text
    no_token = await client.post("/login", data={"key": keys["ops"], "login_token": "forged"})
    assert no_token.status_code == 400
    await login(client, keys["ops"])
    value = client.cookies[cookies.COOKIE]
    payload, signature = value.rsplit(".", 1)
    client.cookies.set(cookies.COOKIE, payload.replace("A", "B", 1) + "." + signature)
    assert (await client.get("/dashboard")).status_code == 401
    client.cookies.set(cookies.COOKIE, value)
    assert (await client.get("/dashboard")).status_code == 200
    async with db.session() as s:
        ops_id = await s.scalar(text("SELECT id FROM api_keys WHERE role = 'ops'"))
    await revoke_key(db, ops_id)
    assert (await client.get("/dashboard")).status_code == 401


async def test_roles_see_their_areas_and_get_a_russian_403_elsewhere(client, keys):
    await login(client, keys["staff"])
    page = await client.get("/campaigns")
    assert page.status_code == 200 and "Обзвоны" in page.text and 'href="/dashboard"' not in page.text
    denied = await client.get("/dashboard")
    assert denied.status_code == 403 and "Нет доступа" in denied.text
    assert (await client.get("/try")).status_code == 200
    client.cookies.clear()
    await login(client, keys["ops"])
    assert (await client.get("/campaigns")).status_code == 403
    assert (await client.get("/queues")).status_code == 403  # resident data: not for analytics
    assert (await client.get("/dashboard")).status_code == 200


async def test_logout_needs_the_csrf_token(client, keys):
    await login(client, keys["supervisor"])
    page = await client.get("/queues")
    assert (await client.post("/logout", data={"csrf": "wrong"})).status_code == 403
    out = await client.post("/logout", data={"csrf": csrf_of(page.text)})
    assert out.status_code == 303 and out.headers["location"] == "/login"
    client.cookies.delete(cookies.COOKIE)
    assert (await client.get("/queues")).status_code == 401


async def test_dashboard_calls_and_queues_show_seeded_data(client, keys, db, web_settings):
    seeded = await seed(db, web_settings.recordings_path)
    await login(client, keys["admin"])
    dashboard = await client.get("/dashboard")
    assert dashboard.status_code == 200 and 'id="figures"' in dashboard.text
    assert '<span class="num">30</span>' in dashboard.text
    week = await client.get(
        "/dashboard", params={"period": "custom", "from": "2026-01-10", "to": "2025-01-01"}
    )
    assert week.status_code == 200 and "раньше" in week.text
    filtered = await client.get("/calls", params={"scenario": "debt_reminder", "phone": "8 916 123-45-03"})
    assert "Найдено звонков: 5" in filtered.text
    bad_phone = await client.get("/calls", params={"phone": "12"})
    assert bad_phone.status_code == 200 and "Телефон не распознан" in bad_phone.text
    page_two = await client.get("/calls", params={"page": 2})
    assert "Страница 2 из 2" in page_two.text
    call = await client.get(f"/calls/{seeded.recorded_call}")
    assert 'id="player"' in call.text and "сообщает о проблеме" in call.text and "Т-0001" in call.text
    missing = await client.get(f"/calls/{uuid.uuid4()}")
    assert missing.status_code == 404 and "Не найдено" in missing.text
    queues = await client.get("/queues")
    assert "Т-0001" in queues.text and "просрочена" in queues.text
    voice = await client.get("/queues", params={"tab": "voice_messages"})
    assert "+79161234507" in voice.text and "просрочено" in voice.text
    callbacks = await client.get("/queues", params={"tab": "callbacks"})
    assert "+79161234509" in callbacks.text


async def test_empty_states(client, keys):
    await login(client, keys["admin"])
    assert "звонков нет" in (await client.get("/dashboard")).text
    assert "Звонков по этим условиям нет" in (await client.get("/calls")).text
    assert "Открытых заявок нет" in (await client.get("/queues")).text
    assert "Обзвонов пока нет" in (await client.get("/campaigns")).text


async def test_audio_streams_with_range_and_audit_for_supervisors_only(client, keys, db, web_settings):
    seeded = await seed(db, web_settings.recordings_path)
    await login(client, keys["ops"])
    call = await client.get(f"/calls/{seeded.recorded_call}")
    assert call.status_code == 403 and "+7916" not in call.text  # ops: analytics only, as in the API
    denied = await client.get(f"/calls/{seeded.recorded_call}/audio")
    assert denied.status_code == 403
    client.cookies.clear()
    await login(client, keys["supervisor"])
    whole = await client.get(f"/calls/{seeded.recorded_call}/audio")
    assert whole.status_code == 200 and whole.headers["accept-ranges"] == "bytes"
    part = await client.get(f"/calls/{seeded.recorded_call}/audio", headers={"Range": "bytes=100-199"})
    assert part.status_code == 206 and part.content == whole.content[100:200]
    async with db.session() as s:
        rows = (await s.execute(text("SELECT actor, action, object_id FROM audit_log ORDER BY id"))).all()
    assert [r.action for r in rows] == ["recording.denied", "recording.listen", "recording.listen"]
    assert "тест ops" in rows[0].actor  # the refused ops user is audited, and every range request
    assert rows[1].object_id == str(seeded.recorded_call) and "тест supervisor" in rows[1].actor


async def test_campaign_csv_upload_reports_bad_rows_and_actions_work(client, keys, db):
    await login(client, keys["staff"])
    form = await client.get("/campaigns/new")
    csrf = csrf_of(form.text)
    csv = (
        "phone,account_number,full_name,amount\n+79161234501,07234501,Орлова Н. П.,1200\n"
        "не телефон,1,Кто-то,2\n+79161234502,11000007,Белов А. В.,300\n"
    )
    fields = {
        "name": "Долги ноябрь",
        "scenario": "debt_reminder",
        "csrf": csrf,
        "token": "t1",
        "max_concurrent": "3",
        "calls_per_second": "1",
    }
    created = await client.post(
        "/campaigns/new", data=fields, files={"file": ("c.csv", csv.encode(), "text/csv")}
    )
    assert created.status_code == 200, created.text
    assert 'id="accepted">2<' in created.text and 'id="rejected">1<' in created.text
    assert "<td>3</td>" in created.text  # the bad row's line number
    again = await client.post(
        "/campaigns/new", data=fields, files={"file": ("c.csv", csv.encode(), "text/csv")}
    )
    assert again.status_code == 200
    async with db.session() as s:
        assert await s.scalar(text("SELECT count(*) FROM campaigns")) == 1  # resubmitting did not duplicate
        campaign_id = await s.scalar(text("SELECT id FROM campaigns"))
    forged = await client.post(f"/campaigns/{campaign_id}/start", data={"csrf": "x"})
    assert forged.status_code == 403
    started = await client.post(f"/campaigns/{campaign_id}/start", data={"csrf": csrf})
    assert started.status_code == 303
    progress = (await client.get(f"/campaigns/progress.json?ids={campaign_id},x")).json()
    assert progress[str(campaign_id)]["status"] == "running" and progress[str(campaign_id)]["total"] == 2
    page = await client.get(f"/campaigns/{campaign_id}")
    assert "Пауза</button>" in page.text and "Запустить</button>" not in page.text
    assert "не телефон" in page.text  # the upload report stays on the campaign page
    assert "(web:" not in page.text and "(key:" not in page.text  # who created it, as the other pages say it
    assert (await client.post(f"/campaigns/{campaign_id}/cancel", data={"csrf": csrf})).status_code == 303
    conflict = await client.post(f"/campaigns/{campaign_id}/pause", data={"csrf": csrf})
    assert conflict.status_code == 409 and "другом состоянии" in conflict.text
    results = await client.get(f"/campaigns/{campaign_id}/results.csv")
    assert results.status_code == 200 and results.content.startswith(b"\xef\xbb\xbf")
    header = results.text.lstrip("\ufeff").splitlines()[0]
    assert header.startswith("№ контакта,Телефон,Лицевой счёт,Состояние") and "variables" not in header
    assert "Отменено" in results.text  # the state in Russian, not `cancelled`
    all_bad = await client.post(
        "/campaigns/new",
        data={**fields, "token": "t2"},
        files={"file": ("c.csv", b"phone\n12\n", "text/csv")},
    )
    assert all_bad.status_code == 422 and "обзвон не создан" in all_bad.text
    not_utf8 = await client.post(
        "/campaigns/new",
        data={**fields, "token": "t3"},
        files={"file": ("c.csv", b"phone\n\x98", "text/csv")},  # neither UTF-8 nor Windows-1251
    )
    assert not_utf8.status_code == 422 and "UTF-8" in not_utf8.text


async def test_chat_endpoints_need_csrf_and_report_errors_as_json(client, keys):
    await login(client, keys["ops"])
    page = await client.get("/try")
    headers = {"Accept": "application/json", "X-CSRF-Token": csrf_of(page.text)}
    no_token = await client.post(
        "/try/chats", json={"scenario": "meter_readings"}, headers={"Accept": "application/json"}
    )
    assert no_token.status_code == 403 and no_token.json()["error"]["status"] == 403
    unknown = await client.post("/try/chats", json={"scenario": "nope"}, headers=headers)
    assert unknown.status_code == 422 and "Проверьте" in unknown.json()["error"]["message"]  # Russian
    gone = await client.post("/try/chats/abc", json={"text": "алло"}, headers=headers)
    assert gone.status_code == 404
    junk = await client.post(
        "/try/chats", content=b"{", headers={**headers, "Content-Type": "application/json"}
    )
    assert junk.status_code == 400


async def test_static_files_the_local_plotly_bundle_and_the_upload_allowance(client, web_app):
    assert (await client.get("/static/app.css")).status_code == 200
    plotly = await client.get("/static/vendor/plotly.min.js")
    assert plotly.status_code == 200 and len(plotly.content) > 1_000_000
    limits = [m.kwargs["upload_paths"] for m in web_app.user_middleware if "upload_paths" in m.kwargs]
    assert limits and all("/campaigns/new" in paths for paths in limits)


async def test_a_missing_record_or_a_bad_address_answers_in_russian(client, keys):
    """The services' messages are English (the API's); a page never shows them to staff."""
    await login(client, keys["admin"])
    for path in ("/calls/00000000-0000-0000-0000-000000000000", "/campaigns/999999"):
        missing = await client.get(path)
        assert missing.status_code == 404, path
        assert "not found" not in missing.text and "Такой записи нет" in missing.text, path
    bad = await client.get("/campaigns/abc")
    assert bad.status_code == 422
    assert "Input should" not in bad.text and "Проверьте введённые данные" in bad.text
