"""The dispatcher's desk in Chromium: the live view follows a call from start to end and counts a review
deadline down with an alert; each queue action from the page; screenshots at 1366×768 and 390 px."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import text

from tests.web.conftest import browser_missing
from tests.web.seed import seed
from voicebot.dialogue.context import CallInfo
from voicebot.dialogue.store import DialogueStore

pytestmark = pytest.mark.skipif(browser_missing() is not None, reason=str(browser_missing()))

DESKTOP = {"width": 1366, "height": 768}
PHONE = {"width": 390, "height": 844}


async def signed_in(browser, base_url: str, key: str, start: str, viewport=DESKTOP):
    context = await browser.new_context(viewport=viewport, locale="ru-RU", base_url=base_url)
    page = await context.new_page()
    await page.goto(start)
    await page.fill("#key", key)
    await page.click("button[type=submit]")
    await page.wait_for_load_state("domcontentloaded")
    return context, page


async def shot(page, screenshots, name: str) -> None:
    await page.screenshot(path=str(screenshots / f"{name}.png"), full_page=True)


async def test_live_view_follows_a_call_and_counts_a_deadline_down(browser, base_url, db, keys, screenshots):
    now = datetime.now(UTC)
    async with db.transaction() as s:
        await s.execute(
            text(
                "INSERT INTO voice_messages (phone, created_at, review_due_at) VALUES ('+79161230001', :c, :d)"
            ),
            {"c": now - timedelta(minutes=9), "d": now + timedelta(seconds=95)},
        )
    context, page = await signed_in(browser, base_url, keys["supervisor"], "/live")
    assert page.url.endswith("/live")
    await page.wait_for_selector("#live-state.ok", timeout=10_000)
    assert await page.locator("#live-calls-empty").is_visible()
    countdown = page.locator("#live-voice .countdown").first
    first = int(await countdown.get_attribute("data-left"))
    await page.wait_for_timeout(2100)
    later = int(await countdown.get_attribute("data-left"))
    assert 0 < later < first <= 95
    assert "осталось 01:" in await countdown.inner_text()
    assert await page.locator("#alert-banner").is_visible()  # under two minutes: the screen says so
    assert "near" in (await countdown.get_attribute("class"))

    # a call starts: the dialogue store writes its row as a real call does
    store = DialogueStore(db)
    call = CallInfo(uuid.uuid4(), "inbound", "voice", "+79161239876", datetime.now(UTC), {})
    await store.create_call(call, "meter_readings")
    row = page.locator(f'#live-calls tr[data-call="{call.call_id}"]')
    await row.wait_for(timeout=10_000)
    assert "Показания счётчиков" in await row.inner_text()
    assert "+7916•••9876" in await row.inner_text() and "+79161239876" not in await page.content()
    assert await page.locator("#total-calls").inner_text() == "1"
    assert await page.locator("#total-calls-word").inner_text() == "разговор сейчас"
    await store.add_turns(
        call.call_id,
        [{"seq": 1, "speaker": "bot", "text": "Назовите номер лицевого счёта", "step": "ask_account"}],
    )
    await page.wait_for_function(
        f"() => document.querySelector('#live-calls tr[data-call=\"{call.call_id}\"]')?.innerText.includes('лицевого')",
        timeout=10_000,
    )
    await shot(page, screenshots, "live-1366")
    await page.set_viewport_size(PHONE)
    await shot(page, screenshots, "live-phone")
    await page.set_viewport_size(DESKTOP)

    # the call ends: it leaves the screen
    ctx = SimpleNamespace(
        slots={},
        transfer_to=None,
        call=call,
        outcome="readings_accepted",
        now=datetime.now(UTC),
        instant=datetime.now(UTC),
    )
    await store.finish_call(ctx, "meter_readings")
    await row.wait_for(state="detached", timeout=10_000)
    assert await page.locator("#live-calls-empty").is_visible()
    await context.close()


async def test_each_queue_action_from_the_page(browser, base_url, db, keys, web_settings, screenshots):
    await seed(db, web_settings.recordings_path)
    context, page = await signed_in(browser, base_url, keys["supervisor"], "/queues")
    await shot(page, screenshots, "queues-tickets-1366")
    ticket = page.locator('tr[data-ticket="Т-0002"]')
    await ticket.locator("select[name=status]").select_option("done")
    await ticket.locator("input[name=comment]").fill("лампу заменили")
    await ticket.locator("form.ticket-status button").click()
    await page.wait_for_selector(".flash:has-text('Статус заявки изменён')")
    assert await page.locator('tr[data-ticket="Т-0002"]').count() == 0
    first = page.locator('tr[data-ticket="Т-0001"]')
    await first.locator("input[name=responsible]").fill("Аварийная служба")
    await first.locator("form.ticket-assign button").click()
    await page.wait_for_selector(".flash:has-text('Ответственный назначен')")
    assert (
        await page.locator('tr[data-ticket="Т-0001"] input[name=responsible]').input_value()
        == "Аварийная служба"
    )

    await page.click("#tab-voice_messages")
    message = page.locator("tr[data-voice-message]").first
    message_id = await message.get_attribute("data-voice-message")
    await message.locator("button.mark-listened").click()
    await page.wait_for_selector(".flash:has-text('прослушано')")
    row = page.locator(f'tr[data-voice-message="{message_id}"]')
    assert "тест supervisor" in await row.locator("td[data-label='Прослушано']").inner_text()
    await row.locator("button.mark-reviewed").click()
    await page.wait_for_selector(".flash:has-text('обработано')")
    assert await page.locator(f'tr[data-voice-message="{message_id}"]').count() == 0
    await shot(page, screenshots, "queues-voice-1366")

    await page.click("#tab-callbacks")
    callback = page.locator("tr[data-callback]").first
    await callback.locator("select[name=result]").select_option("unreachable")
    await callback.locator("form.callback-close button").click()
    await page.wait_for_selector(".flash:has-text('Перезвон закрыт')")
    await page.select_option("select[name=state]", "closed")
    await page.click("#queue-filters button[type=submit]")
    assert "Не дозвонились" in await page.locator("#queue-table").inner_text()
    await page.set_viewport_size(PHONE)
    await shot(page, screenshots, "queues-callbacks-phone")
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"] + 1, "the queue scrolls sideways on a phone"
    async with db.session() as s:
        actions = list(await s.scalars(text("SELECT action FROM audit_log ORDER BY id")))
    assert actions == [
        "ticket.status",
        "ticket.assign",
        "voice_message.listened",
        "voice_message.reviewed",
        "callback.closed",
    ]
    await context.close()
