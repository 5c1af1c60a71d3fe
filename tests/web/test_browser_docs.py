"""The API reference in Chromium with every request off this server blocked: /docs and /redoc draw, and\nno script, style or font comes from elsewhere."""

from __future__ import annotations

import pytest

from tests.web.conftest import browser_missing
from tests.web.test_browser_desk import DESKTOP, shot

pytestmark = pytest.mark.skipif(browser_missing() is not None, reason=str(browser_missing()))


async def test_docs_work_offline(browser, base_url, screenshots):
    context = await browser.new_context(viewport=DESKTOP, locale="ru-RU", base_url=base_url)
    outside: list[str] = []

    async def only_local(route):
        if route.request.url.startswith(base_url):
            await route.continue_()
        else:
            if route.request.resource_type != "image":  # ReDoc's footer logo is decoration only
                outside.append(route.request.url)
            await route.abort()

    await context.route("**/*", only_local)
    page = await context.new_page()
    await page.goto("/docs")
    await page.wait_for_selector(".swagger-ui .info .title", timeout=15_000)
    assert "voicebot" in await page.locator(".swagger-ui .info .title").inner_text()
    assert await page.locator(".opblock").count() > 10
    await shot(page, screenshots, "docs-1366")
    await page.goto("/redoc")
    await page.wait_for_selector("redoc h1, [role=navigation]", timeout=20_000)
    assert outside == [], f"the reference asked the internet for {outside}"
    await context.close()
