"""Two OS processes dial one campaign: no contact is dialled twice; a killed process's work is taken over."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from sqlalchemy import select

from voicebot.campaigns.store import create_campaign
from voicebot.db.models import Call, CampaignContact

ROOT = Path(__file__).resolve().parents[2]


def spawn(database_url: str, name: str, out: Path, t0: float, lease: float, mode: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.campaigns.worker_proc", database_url, name, str(out), str(t0), str(lease), mode],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip


def dials(path: Path) -> list[tuple[int, float]]:
    if not path.exists():
        return []
    return [(int(a), float(b)) for a, b in (line.split() for line in path.read_text().splitlines() if line)]


async def wait_exit(proc: subprocess.Popen, limit: float = 60) -> int:
    deadline = time.monotonic() + limit
    while proc.poll() is None:
        assert time.monotonic() < deadline, "worker did not finish"
        await asyncio.sleep(0.05)
    return proc.returncode


async def make_campaign(db, n: int, settings: dict | None = None) -> int:
    rows = [{"phone": f"+7916100{i:04d}", "message": "Отключение воды"} for i in range(n)]
    report = await create_campaign(
        db,
        name="two",
        scenario="announcement",
        rows=rows,
        max_concurrent=40,
        calls_per_second=100,
        start=True,
        settings=settings,
    )
    return report.campaign_id


async def states(db) -> Counter:
    async with db.session() as session:
        return Counter((await session.execute(select(CampaignContact.state))).scalars())


async def test_two_processes_never_dial_a_contact_twice(db, database_url, tmp_path):
    await make_campaign(db, 300)
    t0 = time.time()
    outs = [tmp_path / "a.txt", tmp_path / "b.txt"]
    procs = [spawn(database_url, f"w{i}", out, t0, 30, "normal") for i, out in enumerate(outs)]
    for proc in procs:
        assert await wait_exit(proc) == 0
    a, b = ([cid for cid, _ in dials(out)] for out in outs)
    every = Counter(a + b)
    assert len(every) == 300 and max(every.values()) == 1
    assert a and b, "both processes should have taken a share"
    assert await states(db) == Counter({"done": 300})


RETRY_FAILED_MINUTES = 0.05  # 3 s: the "failed" retry rule an interrupted attempt falls under


async def test_killed_process_work_is_retried_by_the_policy_not_at_once(db, database_url, tmp_path):
    """kill -9 mid-call: the calls in flight count as attempts (a calls row, outcome interrupted) and are
    retried after the policy's delay, never straight after the takeover."""
    await make_campaign(
        db, 60, {"retry": {"failed": {"delay_minutes": RETRY_FAILED_MINUTES, "max_attempts": 3}}}
    )
    t0 = time.time()
    lease = 1.5
    out_a, out_b = tmp_path / "a.txt", tmp_path / "b.txt"
    victim = spawn(database_url, "victim", out_a, t0, lease, "hang")
    deadline = time.monotonic() + 30
    while len(dials(out_a)) < 5:
        assert time.monotonic() < deadline and victim.poll() is None
        await asyncio.sleep(0.05)
    victim.send_signal(signal.SIGKILL)
    await wait_exit(victim)
    killed_at = time.time()
    held = {cid: at for cid, at in dials(out_a)}
    survivor = spawn(database_url, "survivor", out_b, t0, lease, "normal")
    assert await wait_exit(survivor) == 0
    taken = dials(out_b)
    counts = Counter(cid for cid, _ in taken)
    assert max(counts.values()) == 1 and len(counts) == 60  # the survivor dialled every contact once
    retry = RETRY_FAILED_MINUTES * 60
    for cid, at in taken:
        if cid in held:  # redialled only after the lease ran out AND the retry delay passed
            assert at >= held[cid] + lease + retry - 0.2
    assert set(held) <= set(counts)
    assert killed_at <= max(at for _, at in taken)
    assert await states(db) == Counter({"done": 60})
    async with db.session() as session:
        interrupted = (await session.execute(
            select(Call.contact_id, Call.status).where(Call.outcome == "interrupted")
        )).all()  # fmt: skip
        attempts = dict((await session.execute(select(CampaignContact.id, CampaignContact.attempts))).all())
    # claimed by the victim (some not yet rung: a claim cannot tell) — every one counted, none left active
    assert set(held) <= {cid for cid, _ in interrupted} and {s for _, s in interrupted} == {"ended"}
    assert all(attempts[cid] == 2 for cid in held)  # the interrupted attempt counted
