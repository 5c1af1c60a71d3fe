"""A dialer worker run as its own OS process by the two-process tests.

    python -m tests.campaigns.worker_proc DATABASE_URL NAME OUT_FILE T0 LEASE_SECONDS MODE

Its telephone appends "<contact id> <wall time>" to OUT_FILE (flushed and fsynced before the call
"rings") for every dial. MODE "normal" answers and writes the dialogue's calls row; "hang" never returns
from the call, like a process that dies mid-call. The shared clock is a fixed Wednesday noon plus the
seconds since T0, so calling windows never get in the way whatever the real time is.
"""

from __future__ import annotations

import asyncio
import os
import random
import sys
import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import text

from voicebot.asterisk.ami_originate import OriginateResult
from voicebot.campaigns.calls import CallRequest
from voicebot.campaigns.dialer import Dialer
from voicebot.db.session import Database

NOON = datetime(2026, 3, 11, 9, 0, tzinfo=UTC)


async def main(url: str, name: str, out: str, t0: float, lease: float, mode: str) -> None:
    db = Database(url, pool_size=3)
    clock = lambda: NOON + timedelta(seconds=time.time() - t0)  # noqa: E731
    fd = os.open(out, os.O_WRONLY | os.O_APPEND | os.O_CREAT)

    async def place(request: CallRequest) -> OriginateResult:
        os.write(fd, f"{request.contact_id} {time.time():.3f}\n".encode())
        os.fsync(fd)
        if mode == "hang":
            await asyncio.Event().wait()
        await asyncio.sleep(random.uniform(0, 0.02))
        async with db.transaction() as session:
            await session.execute(
                text(
                    "INSERT INTO calls (id, direction, channel, scenario, phone, campaign_id, contact_id, "
                    "status, outcome, variables, meta) VALUES (:id, 'outbound', 'voice', 'announcement', "
                    ":phone, :cid, :contact, 'ended', 'informed', '{}', '{}')"
                ),
                {"id": request.call_id, "phone": request.phone, "cid": request.campaign_id,
                 "contact": request.contact_id},
            )  # fmt: skip
        return OriginateResult.ANSWERED

    dialer = Dialer(
        db, place, worker=name, clock=clock, max_calls=25, lease=timedelta(seconds=lease), poll_seconds=0.05
    )
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline:
            await dialer.tick()
            async with db.session() as session:
                left = await session.scalar(
                    text("SELECT count(*) FROM campaign_contacts WHERE state IN ('pending', 'in_progress')")
                )
            if not left and not dialer.in_flight:
                break
            await asyncio.sleep(0.05)
    finally:
        await dialer.stop(grace=0.1)
        await db.close()
        os.close(fd)


if __name__ == "__main__":
    url, name, out, t0, lease, mode = sys.argv[1:7]
    asyncio.run(main(url, name, out, float(t0), float(lease), mode))
