"""The campaign form's calling windows and retry rules reach campaigns.settings; bad ones are refused in
Russian and the form keeps what was typed; the CSV template follows the scenario."""

from __future__ import annotations

from sqlalchemy import text

from tests.web.conftest import csrf_of, login

CSV = "phone,full_name,amount\n+79161234501,Иванов Иван,100\n".encode()


async def test_windows_and_retries_are_saved(client, keys, db):
    await login(client, keys["staff"])
    page = await client.get("/campaigns/new")
    assert "будни 08:00–22:00" in page.text and "занято — через 15 мин, всего 3 попытки" in page.text
    csrf = csrf_of(page.text)
    form = {
        "name": "Долги", "scenario": "debt_reminder", "csrf": csrf, "token": "f1",
        "weekday_from": "10:00", "weekday_to": "19:00", "busy_delay": "20", "busy_max": "4",
    }  # fmt: skip
    created = await client.post("/campaigns/new", data=form, files={"file": ("c.csv", CSV, "text/csv")})
    assert created.status_code == 200 and 'id="accepted">1<' in created.text
    async with db.session() as s:
        settings = await s.scalar(text("SELECT settings FROM campaigns"))
    assert settings == {
        "windows": {"weekday": ["10:00", "19:00"]},
        "retry": {"busy": {"delay_minutes": 20.0, "max_attempts": 4}},
    }
    late = {**form, "token": "f2", "weekday_from": "06:00", "weekday_to": "07:00"}
    refused = await client.post("/campaigns/new", data=late, files={"file": ("c.csv", CSV, "text/csv")})
    assert refused.status_code == 422 and "230-ФЗ" in refused.text and 'value="06:00"' in refused.text
    half = {**form, "token": "f3", "weekday_to": ""}
    assert (
        "и начало, и конец"
        in (await client.post("/campaigns/new", data=half, files={"file": ("c.csv", CSV, "text/csv")})).text
    )


async def test_template_follows_the_scenario(client, keys):
    await login(client, keys["staff"])
    template = await client.get("/campaigns/template/visit_warning.csv")
    assert template.status_code == 200 and template.content.startswith(b"\xef\xbb\xbf")
    header = template.text.lstrip("\ufeff").splitlines()[0].split(",")
    assert header[:3] == ["phone", "timezone", "visit_date"] and "specialist" in header
    assert (await client.get("/campaigns/template/inbound_router.csv")).status_code == 404


async def test_a_campaign_in_max_is_chosen_on_the_form(client, keys, db):
    await login(client, keys["staff"])
    page = await client.get("/campaigns/new")
    assert "Сообщение в MAX" in page.text
    form = {"name": "Оповещение в MAX", "scenario": "debt_reminder", "csrf": csrf_of(page.text), "token": "m1",
            "channel": "max"}  # fmt: skip
    created = await client.post("/campaigns/new", data=form, files={"file": ("c.csv", CSV, "text/csv")})
    assert created.status_code == 200
    async with db.session() as s:
        settings = await s.scalar(text("SELECT settings FROM campaigns"))
    assert settings == {"channel": "max"}


async def test_a_refused_scenario_is_said_in_russian_on_the_form(client, keys):
    """The service's own message is English ("scenario 'inbound_router' cannot be used…"): not on the form."""
    await login(client, keys["staff"])
    csrf = csrf_of((await client.get("/campaigns/new")).text)
    for scenario in ("inbound_router", "nope"):
        form = {"name": "Входящие", "scenario": scenario, "csrf": csrf, "token": f"r-{scenario}"}
        refused = await client.post("/campaigns/new", data=form, files={"file": ("c.csv", CSV, "text/csv")})
        assert refused.status_code in (404, 422), refused.text
        assert "cannot be used" not in refused.text and "unknown scenario" not in refused.text, scenario
        assert "Проверьте введённые данные" in refused.text or "Нет такого сценария" in refused.text
