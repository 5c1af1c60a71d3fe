"""Every page, as an administrator sees it with data, at 1366×768 and 390 px: a screenshot of each in
test-artifacts/screenshots/ (looked at by people), and no page scrolls sideways on a phone."""

from __future__ import annotations

import pytest

from tests.web.conftest import browser_missing
from tests.web.test_browser_desk import DESKTOP, PHONE, shot
from tests.web.test_russian_everywhere import _data
from voicebot.services.keys import create_key

pytestmark = pytest.mark.skipif(browser_missing() is not None, reason=str(browser_missing()))


async def test_every_page_at_both_sizes(browser, base_url, db, web_settings, screenshots):
    ids = await _data(db, web_settings)
    admin = await create_key(db, "admin", "Иванова Мария")
    pages = {
        "dashboard": "/dashboard", "dashboard-7d": "/dashboard?period=7d", "live": "/live", "calls": "/calls",
        "call": f"/calls/{ids['call']}", "campaigns": "/campaigns", "campaign-new": "/campaigns/new",
        "campaign": f"/campaigns/{ids['campaign']}", "queues": "/queues",
        "queues-voice": "/queues?tab=voice_messages", "queues-callbacks": "/queues?tab=callbacks",
        "try": "/try", "operator": "/operator", "outages": "/outages", "outage": f"/outages/{ids['outage']}",
        "house-chats": "/house-chats", "company": "/company", "admin-keys": "/admin/keys",
        "admin-audit": "/admin/audit", "admin-webhooks": "/admin/webhooks", "admin-sms": "/admin/sms",
        "not-found": "/no/such/page",
    }  # fmt: skip
    context = await browser.new_context(viewport=DESKTOP, locale="ru-RU", base_url=base_url)
    page = await context.new_page()
    await page.goto("/login")
    await shot(page, screenshots, "all-login-1366")
    await page.fill("#key", admin.key)
    await page.click("button[type=submit]")
    await page.wait_for_load_state("domcontentloaded")
    sideways = []
    for name, path in pages.items():
        for size, viewport in (("1366", DESKTOP), ("phone", PHONE)):
            await page.set_viewport_size(viewport)
            await page.goto(path, wait_until="domcontentloaded")
            await page.wait_for_timeout(150)
            await shot(page, screenshots, f"all-{name}-{size}")
            width = await page.evaluate("document.documentElement.scrollWidth")
            if size == "phone" and width > PHONE["width"] + 1:
                sideways.append(f"{path} is {width}px wide")
    await context.close()
    assert not sideways, "pages that scroll sideways on a phone: " + "; ".join(sideways)
