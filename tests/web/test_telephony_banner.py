"""The doctor's findings on /healthz and as a banner on every page (and on a running campaign)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.emulators.ami_server import AMIServerEmulator
from tests.web.conftest import login
from voicebot.asterisk.ami import AMIClient
from voicebot.services.doctor import TelephonyHealth


@pytest.fixture
def health_slot(web_app) -> Iterator[None]:
    yield
    web_app.state.telephony_health = None


async def test_healthz_and_banner_show_what_the_doctor_found(
    client, keys, web_app, web_settings, health_slot
):
    async with AMIServerEmulator(secret="s") as asterisk:
        asterisk.loaded_modules.discard("res_speech")
        ami = AMIClient("127.0.0.1", asterisk.port, "voicebot", "s")
        await ami.connect()
        try:
            health = TelephonyHealth(
                web_settings.model_copy(update={"asterisk_sounds_dir": web_settings.data_dir}), ami
            )
            await health.refresh()
        finally:
            await ami.close()
    assert "Asterisk: module res_speech is not loaded" in health.problems
    web_app.state.telephony_health = health
    body = (await client.get("/healthz")).json()
    assert body["status"] == "ok" and body["database"]["ok"] is True  # HTTP and database are fine
    assert body["telephony"]["ok"] is False
    assert "Asterisk: module res_speech is not loaded" in body["telephony"]["problems"]
    await login(client, keys["admin"])
    page = await client.get("/dashboard")
    assert 'id="telephony-banner"' in page.text and "Телефония не готова" in page.text
    assert "res_speech is not loaded" in page.text
    # each finding says in Russian what it is about; the technical line stays for the IT person
    assert "Asterisk настроен не полностью: <code>Asterisk: module res_speech" in page.text


async def test_no_banner_when_telephony_is_well_or_not_run_here(client, keys, web_app, health_slot):
    await login(client, keys["admin"])
    assert 'id="telephony-banner"' not in (await client.get("/dashboard")).text
    assert "telephony" not in (await client.get("/healthz")).json()


async def test_a_running_campaign_says_its_telephony_is_down(client, keys, web_app, db, health_slot):
    from voicebot.campaigns.store import create_campaign
    from voicebot.services.doctor import DoctorReport

    report = await create_campaign(db, name="Вода", scenario="announcement", start=True,
                                   rows=[{"phone": "+79160000001", "message": "m"}])  # fmt: skip
    campaign_id = report.campaign_id
    health = TelephonyHealth(web_app.state.settings)
    health.report = DoctorReport(problems=["AMI: cannot reach Asterisk at 127.0.0.1:5038 (refused)"])
    web_app.state.telephony_health = health
    await login(client, keys["admin"])
    page = await client.get(f"/campaigns/{campaign_id}")
    assert 'id="campaign-telephony"' in page.text and "звонки не идут" in page.text
    web_app.state.telephony_health = None
    assert 'id="campaign-telephony"' not in (await client.get(f"/campaigns/{campaign_id}")).text


async def test_healthz_shows_a_lost_ami_link_at_once(client, web_app, web_settings, health_slot):
    """Seen on the real exchange: after `core stop`, or with a wrong secret at start, /healthz kept the last
    (healthy, or not yet run) doctor report for up to 5 minutes; the link's state is read live."""

    async def telephony() -> dict:
        return (await client.get("/healthz")).json()["telephony"]

    settings = web_settings.model_copy(update={"asterisk_sounds_dir": web_settings.data_dir})
    async with AMIServerEmulator(secret="s") as asterisk:
        ami = AMIClient("127.0.0.1", asterisk.port, "voicebot", "s")
        health = TelephonyHealth(settings, ami)
        web_app.state.telephony_health = health
        before = await telephony()  # not logged in (yet, or a wrong secret), no report yet
        assert before["ok"] is False and before["problems"][0].startswith("AMI: not connected to Asterisk at")
        await ami.connect()
        try:
            await health.refresh()
            assert not any(p.startswith("AMI:") for p in (await telephony())["problems"])
        finally:
            await ami.close()  # the link is gone; the report on file still says it was fine
    after = await telephony()
    assert after["ok"] is False and after["problems"][0].startswith("AMI: not connected to Asterisk at")
    assert health.problems[0] == after["problems"][0]  # the web UI's banner says the same
