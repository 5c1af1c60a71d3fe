"""A campaign's page in Chromium after the real dialer placed busy, no-answer and answered attempts (the
telephone is the dialer tests' scripted fake): counters by result, next retries, the per-contact table
with each attempt, its filters; the scenario-aware creation form and its CSV template."""

from __future__ import annotations

import pytest

from tests.campaigns.helpers import FakeClock, FakePhone
from tests.campaigns.test_dialer import NOON
from tests.web.conftest import browser_missing
from tests.web.test_browser_desk import DESKTOP, PHONE, shot, signed_in
from voicebot.asterisk.ami_originate import OriginateResult
from voicebot.campaigns.dialer import Dialer
from voicebot.campaigns.store import create_campaign

pytestmark = pytest.mark.skipif(browser_missing() is not None, reason=str(browser_missing()))

BUSY_THEN_ANSWERED = "+79160000001"
NEVER_ANSWERS = "+79160000002"
ANSWERS = "+79160000003"


async def dial_scripted(db) -> int:
    rows = [
        {"phone": phone, "full_name": "Орлова Наталья Петровна", "amount": "1200.50"}
        for phone in (BUSY_THEN_ANSWERED, NEVER_ANSWERS, ANSWERS)
    ]
    report = await create_campaign(
        db, name="Долги за октябрь", scenario="debt_reminder", rows=rows, calls_per_second=100, start=True
    )
    clock = FakeClock(NOON)
    phone = FakePhone(
        db,
        {
            BUSY_THEN_ANSWERED: [OriginateResult.BUSY, OriginateResult.ANSWERED],
            NEVER_ANSWERS: [OriginateResult.NO_ANSWER, OriginateResult.NO_ANSWER, OriginateResult.NO_ANSWER],
        },
        outcome="promise_to_pay",
        clock=clock,
    )
    dialer = Dialer(db, phone, clock=clock, max_calls=10)
    for _ in range(4):  # each round: dial what is due, settle answered calls, then wait for the retries
        await dialer.tick()
        await dialer.wait_idle()
        await dialer.tick()
        clock.advance(hours=1, minutes=1)
    assert report.campaign_id is not None
    return report.campaign_id


async def test_campaign_page_shows_each_attempt_per_contact(browser, base_url, db, keys, screenshots):
    campaign_id = await dial_scripted(db)
    context, page = await signed_in(browser, base_url, keys["staff"], f"/campaigns/{campaign_id}")
    counts = page.locator("#attempt-counts")
    assert "Занято: 1" in await counts.inner_text()
    assert "Не ответил: 3" in await counts.inner_text()
    assert "Ответил: 2" in await counts.inner_text()
    busy_row = page.locator(f'tr[data-contact="{BUSY_THEN_ANSWERED}"]')
    log = await busy_row.locator(".attempt-log li").all_inner_texts()
    assert len(log) == 2 and "Занято" in log[0] and "Ответил → Обещание оплатить" in log[1]
    never = page.locator(f'tr[data-contact="{NEVER_ANSWERS}"]')
    assert await never.locator(".attempt-log li").count() == 3
    assert "Не дозвонились" in await never.locator(".contact-state").inner_text()
    assert "Не ответил" in await never.locator(".contact-outcome").inner_text()
    assert await page.locator('a:has-text("Звонки обзвона")').count() == 0  # staff cannot open /calls
    await shot(page, screenshots, "campaign-contacts-1366")

    await page.select_option("#contact-filters select[name=state]", "failed")
    await page.click("#contact-filters button[type=submit]")
    await page.wait_for_load_state("domcontentloaded")
    assert await page.locator("#contacts-table tbody tr").count() == 1
    assert "1 контакт" in await page.locator("#contacts-total").inner_text()
    await page.fill("#contact-filters input[name=q]", "0003")
    await page.select_option("#contact-filters select[name=state]", "")
    await page.click("#contact-filters button[type=submit]")
    await page.wait_for_load_state("domcontentloaded")
    assert await page.locator("#contacts-table tbody tr").all_inner_texts() != []
    assert ANSWERS in await page.locator("#contacts-table").inner_text()
    await page.set_viewport_size(PHONE)
    await shot(page, screenshots, "campaign-contacts-phone")
    await context.close()


async def test_new_campaign_form_follows_the_scenario(browser, base_url, db, keys, screenshots):
    context, page = await signed_in(browser, base_url, keys["staff"], "/campaigns/new")
    await page.select_option("#scenario-select", "debt_reminder")
    debt = page.locator('.scenario-columns[data-scenario="debt_reminder"]')
    assert await debt.is_visible()
    text = await debt.inner_text()
    assert "amount — Сумма долга, ₽ (обязательно)" in text and "full_name — ФИО (обязательно)" in text
    await page.select_option("#scenario-select", "announcement")
    assert not await debt.is_visible()
    announcement = page.locator('.scenario-columns[data-scenario="announcement"]')
    assert "message — Текст оповещения (обязательно)" in await announcement.inner_text()
    async with page.expect_download() as download_info:
        await announcement.locator("a:has-text('Скачать шаблон CSV')").click()
    download = await download_info.value
    body = (await download.path()).read_bytes()
    assert body.startswith(b"\xef\xbb\xbf") and b"phone,timezone,message" in body
    await shot(page, screenshots, "campaign-new-1366")
    await page.set_viewport_size(PHONE)
    await shot(page, screenshots, "campaign-new-phone")
    await page.set_viewport_size(DESKTOP)
    await context.close()


async def test_excel_cp1251_semicolon_file_uploads(browser, base_url, db, keys, tmp_path, screenshots):
    """What Russian Excel saves as «CSV (разделители — точка с запятой)»: Windows-1251 and `;`."""
    csv = tmp_path / "должники.csv"
    csv.write_bytes(
        (
            "phone;full_name;amount;period\r\n"
            "8 916 123-45-01;Орлова Наталья Петровна;1200,50;октябрь\r\n"
            "+79161234502;Белов Андрей Викторович;300;октябрь\r\n"
            "12;Петрова Галина Ивановна;870;октябрь\r\n"
        ).encode("cp1251")
    )
    context, page = await signed_in(browser, base_url, keys["staff"], "/campaigns/new")
    await page.fill("input[name=name]", "Долги из Excel")
    await page.select_option("#scenario-select", "debt_reminder")
    await page.set_input_files("input[name=file]", str(csv))
    await page.click("#campaign-form button[type=submit]")
    await page.wait_for_selector("#report")
    assert await page.locator("#accepted").inner_text() == "2"
    assert await page.locator("#rejected").inner_text() == "1"
    reason = await page.locator("#rejected-rows tbody tr").first.inner_text()
    assert reason.startswith("4") and "телефон" in reason.lower()
    await shot(page, screenshots, "campaign-cp1251-report-1366")
    await page.click("text=Открыть обзвон")
    table = await page.locator("#contacts-table").inner_text()
    assert "Орлова Наталья Петровна" in table and "+79161234501" in table
    await context.close()
