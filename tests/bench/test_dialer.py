"""The dialer benchmark runs end to end on a small campaign and cleans up after itself."""

from __future__ import annotations

from sqlalchemy import func, select

from voicebot.bench.dialer import run_bench
from voicebot.db.models import Call, Campaign, CampaignContact


async def test_bench_small_campaign(db):
    lines: list[str] = []
    result = await run_bench(db, 300, 50, lines.append, keep=False)
    assert result["placed_calls"] == result["contacts_done"] == 300
    assert 0 < result["db_statements_per_call"] < 3
    assert result["rss_mb_end"] > 0 and lines[0].startswith("created 300 contacts")
    async with db.session() as session:
        for model in (Campaign, CampaignContact, Call):
            assert await session.scalar(select(func.count()).select_from(model)) == 0
