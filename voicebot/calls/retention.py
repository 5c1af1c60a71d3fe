"""Recording retention: recordings older than the retention period are deleted, file and row reference.

Recordings are personal data (152-ФЗ); keeping them longer than the company's stated period is a liability.
The `calls` row stays (outcome, turns, statistics) with `recording_path` cleared.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select, update

from voicebot.calls.disk import free_bytes
from voicebot.db.models import Call
from voicebot.db.session import Database

log = logging.getLogger(__name__)

BATCH = 500
DAY = 24 * 3600.0


@dataclass
class PurgeReport:
    cutoff: datetime
    dry_run: bool
    calls: int = 0
    files_deleted: int = 0
    files_missing: int = 0
    bytes_freed: int = 0
    paths: list[str] = field(default_factory=list)

    def summary(self) -> str:
        verb = "would delete" if self.dry_run else "deleted"
        return (
            f"recordings older than {self.cutoff:%Y-%m-%d %H:%M} UTC: {self.calls} calls, {verb} "
            f"{self.files_deleted} files ({self.bytes_freed / 1e6:.1f} MB), {self.files_missing} already gone"
        )


async def purge_recordings(
    db: Database, retention_days: int, *, now: datetime | None = None, dry_run: bool = False
) -> PurgeReport:
    """Delete recordings of calls that started before now - retention_days."""
    if retention_days < 0:
        raise ValueError("recording_retention_days cannot be negative")
    cutoff = (now or datetime.now(UTC)) - timedelta(days=retention_days)
    report = PurgeReport(cutoff, dry_run)
    after: uuid.UUID | None = None
    while True:
        batch = await _expired(db, cutoff, after)
        if not batch:
            break
        after = batch[-1][0]
        done = [call_id for call_id, path in batch if await asyncio.to_thread(_remove, Path(path), report)]
        report.calls += len(batch)
        if not dry_run and done:
            async with db.transaction() as session:
                await session.execute(update(Call).where(Call.id.in_(done)).values(recording_path=None))
    log.info(report.summary(), extra={"dry_run": dry_run, "calls": report.calls})
    return report


async def _expired(db: Database, cutoff: datetime, after: uuid.UUID | None) -> list[tuple[uuid.UUID, str]]:
    query = (
        select(Call.id, Call.recording_path)
        .where(Call.recording_path.is_not(None), Call.started_at < cutoff)
        .order_by(Call.id)
        .limit(BATCH)
    )
    if after is not None:
        query = query.where(Call.id > after)
    async with db.session() as session:
        return [(row[0], row[1]) for row in (await session.execute(query)).all()]


def _remove(path: Path, report: PurgeReport) -> bool:
    """Delete one recording (and a WAV left by a failed encode); True when the row may be cleared."""
    report.paths.append(str(path))
    found = False
    for candidate in {path, path.with_suffix(".wav")}:
        try:
            size = candidate.stat().st_size
        except FileNotFoundError:
            continue
        except OSError as exc:
            log.warning("cannot read recording %s: %s", candidate, exc)
            return False
        found = True
        if not report.dry_run:
            try:
                candidate.unlink()
            except OSError as exc:
                log.warning("cannot delete recording %s: %s", candidate, exc)
                return False
        report.files_deleted += 1
        report.bytes_freed += size
    if not found:
        report.files_missing += 1
    return True


LOW_SPACE_CHECK = 300.0  # seconds between free-space looks
LOW_SPACE_PURGE_EVERY = 3600.0  # while space stays low, purge at most this often


@contextlib.asynccontextmanager
async def daily_purge(
    db: Database,
    retention_days: int,
    every: float = DAY,
    *,
    root: Path | None = None,
    min_free: int = 0,
    check_every: float = LOW_SPACE_CHECK,
    low_purge_every: float = LOW_SPACE_PURGE_EVERY,
) -> AsyncIterator[None]:
    """Purge once at start and then every `every` seconds while the block runs. With `root`, free space
    there is checked every `check_every` seconds: below `min_free` (when new calls stop being recorded)
    an error is logged and the purge runs at once, and again every `low_purge_every` while space stays low."""

    async def purge() -> None:
        try:
            await purge_recordings(db, retention_days)
        except Exception:
            log.exception("recording purge failed; will retry")

    async def loop() -> None:
        loop_time = asyncio.get_running_loop().time
        next_purge, low_purged, low = 0.0, -low_purge_every, False
        while True:
            now = loop_time()
            free = free_bytes(root) if root is not None else None
            was_low, low = low, free is not None and free < min_free
            if low and not was_low:
                log.error(
                    "recordings disk nearly full: new calls are not recorded until space is freed",
                    extra={
                        "path": str(root),
                        "free_mb": round((free or 0) / 1e6, 1),
                        "min_free_mb": min_free / 1e6,
                    },
                )
            elif was_low and not low:
                log.warning("recordings disk has room again", extra={"path": str(root)})
            if now >= next_purge or (low and now - low_purged >= low_purge_every):
                await purge()
                next_purge = now + every
                low_purged = now if low else low_purged
            wait = next_purge - loop_time()
            await asyncio.sleep(max(0.0, min(wait, check_every) if root is not None else wait))

    task = asyncio.create_task(loop(), name="recording-retention")
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
