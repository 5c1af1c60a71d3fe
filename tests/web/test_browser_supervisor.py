"""Ops drill down from a dashboard chart to the calls behind a bar; a supervisor searches transcripts,
filters by recording, sees durations and scores a call."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pytest
from sqlalchemy import text

from tests.web.conftest import browser_missing
from tests.web.seed import seed
from tests.web.test_browser_desk import PHONE, shot, signed_in

pytestmark = pytest.mark.skipif(browser_missing() is not None, reason=str(browser_missing()))


async def test_a_bar_opens_the_calls_behind_it(browser, base_url, db, keys, web_settings, screenshots):
    await seed(db, web_settings.recordings_path)
    context, page = await signed_in(browser, base_url, keys["admin"], "/dashboard")
    await page.wait_for_selector('[data-figure="outcomes"] .main-svg', timeout=15_000)
    assert "обновляется" in await page.locator("#auto-refresh").inner_text()
    assert await page.locator("#nps-empty").count() == 0  # the seed has NPS answers
    box = None
    for bar in await page.locator('[data-figure="outcomes"] .bars .point path').all():
        box = await bar.bounding_box()
        if box and box["width"] > 4:  # a bar with calls behind it (zero bars are drawn flat)
            break
    assert box is not None
    async with page.expect_navigation():
        await page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    query = parse_qs(urlparse(page.url).query)
    assert urlparse(page.url).path == "/calls" and query["scenario"] and query["outcome"] and query["from"]
    rows = await page.locator("#calls-table tbody tr").count()
    assert rows == 5  # each scenario/outcome pair of the seed has five calls today
    total = await page.locator("#calls-total").inner_text()
    assert total.endswith(str(rows))
    outcome_cells = await page.locator("#calls-table td.outcome").all_inner_texts()
    assert len(set(outcome_cells)) == 1
    await shot(page, screenshots, "calls-drilldown-1366")
    await context.close()


async def test_supervisor_searches_transcripts_and_scores_a_call(
    browser, base_url, db, keys, web_settings, screenshots
):
    seeded = await seed(db, web_settings.recordings_path)
    context, page = await signed_in(browser, base_url, keys["supervisor"], "/calls")
    await page.fill("#filter-text", "течёт")
    await page.click("#call-filters button[type=submit]")
    await page.wait_for_load_state("domcontentloaded")
    assert await page.locator("#calls-table tbody tr").count() == 1
    assert "40 с" in await page.locator("#calls-table td.duration").first.inner_text()
    await page.fill("#filter-text", "")
    await page.select_option("#filter-rec", "1")
    await page.click("#call-filters button[type=submit]")
    await page.wait_for_load_state("domcontentloaded")
    assert await page.locator("#calls-table tbody tr").count() == 1
    await page.click("#calls-table tbody tr a")
    assert str(seeded.recorded_call) in page.url
    await page.select_option("#review-form select[name=score]", "4")
    await page.fill("#review-form textarea[name=comment]", "Бот не переспросил адрес")
    await page.fill("#review-form input[name=tags]", "адрес, Повтор, адрес")
    await page.click("#review-form button[type=submit]")
    await page.wait_for_selector(".flash:has-text('Оценка сохранена')")
    assert "тест supervisor" in await page.locator("#review-by").inner_text()
    assert await page.locator("#review-form input[name=tags]").input_value() == "адрес, повтор"
    await shot(page, screenshots, "call-review-1366")
    await page.goto("/calls?rec=1")
    assert "4 из 5" in await page.locator("#calls-table td.score").first.inner_text()
    await page.set_viewport_size(PHONE)
    await shot(page, screenshots, "calls-phone")
    async with db.session() as s:
        actions = list(await s.scalars(text("SELECT action FROM audit_log ORDER BY id")))
    assert "call.review" in actions
    await context.close()
