"""Recording retention: old recordings go (file and path), recent ones stay; --dry-run deletes nothing."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert

from voicebot.calls.retention import purge_recordings
from voicebot.db.models import Call


async def _call(db, path: Path | None, age_days: int) -> uuid.UUID:  # noqa: ANN001
    call_id = uuid.uuid4()
    started = datetime.now(UTC) - timedelta(days=age_days)
    async with db.transaction() as session:
        await session.execute(insert(Call).values(
            id=call_id, direction="inbound", channel="voice", started_at=started,
            recording_path=str(path) if path else None,
        ))  # fmt: skip
    return call_id


async def test_purge_deletes_only_expired_recordings(db, tmp_path: Path) -> None:  # noqa: ANN001
    old, new, gone = tmp_path / "old.ogg", tmp_path / "new.ogg", tmp_path / "gone.ogg"
    old.write_bytes(b"x" * 100)
    new.write_bytes(b"y" * 10)
    old_id = await _call(db, old, age_days=400)
    new_id = await _call(db, new, age_days=10)
    gone_id = await _call(db, gone, age_days=500)  # file already removed by hand
    await _call(db, None, age_days=900)

    dry = await purge_recordings(db, 365, dry_run=True)
    assert (dry.calls, dry.files_deleted, dry.files_missing, dry.bytes_freed) == (2, 1, 1, 100)
    assert old.exists()

    report = await purge_recordings(db, 365)
    assert (report.calls, report.files_deleted) == (2, 1)
    assert not old.exists() and new.exists()
    async with db.session() as session:
        assert (await session.get(Call, old_id)).recording_path is None
        assert (await session.get(Call, gone_id)).recording_path is None
        assert (await session.get(Call, new_id)).recording_path == str(new)
    assert (await purge_recordings(db, 365)).calls == 0


async def test_low_free_space_is_logged_and_purges_sooner_than_daily(db, tmp_path: Path, caplog) -> None:  # noqa: ANN001
    import asyncio
    import logging

    from voicebot.calls.retention import daily_purge

    caplog.set_level(logging.WARNING, "voicebot.calls.retention")
    # a day between purges, but free space (any real disk) is below the minimum: the purge runs again soon
    async with daily_purge(db, 365, every=86400, root=tmp_path, min_free=10**18, check_every=0.05,
                           low_purge_every=0.2):  # fmt: skip
        await asyncio.sleep(0.1)  # the purge at start is done
        old = tmp_path / "old.ogg"
        old.write_bytes(b"x" * 100)
        old_id = await _call(db, old, age_days=400)
        for _ in range(600):  # 30 s: a loaded machine delays the loop, never the outcome
            if not old.exists():
                break
            await asyncio.sleep(0.05)
    assert not old.exists() and "recordings disk nearly full" in caplog.text
    async with db.session() as session:
        assert (await session.get(Call, old_id)).recording_path is None
