"""The recordings disk fills up in the middle of six calls: every call goes on to its end, the partial
files are deleted (the space comes back), the metric says so, and no row points at a missing file.

The disk is real: a 256 KB tmpfs mounted for the test (needs root, as in CI; skipped otherwise).
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.calls.test_voice_call import wait_quiet
from tests.emulators.audiosocket_peer import AudioSocketPeer
from voicebot.db.models import Call
from voicebot.metrics import RECORDINGS_SKIPPED

pytestmark = pytest.mark.faults

CALLS = 6


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Iterator[Path]:
    mount = tmp_path / "tiny"
    mount.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(mount)], capture_output=True
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


async def test_calls_outlive_a_full_recordings_disk(demo_db, make_engine, audiosocket, settings, tiny_disk):
    settings.recordings_dir = tiny_disk
    settings.recordings_min_free_mb = 0  # let them start recording: the disk fills up mid-call
    engine = make_engine(max_dialogues=CALLS)
    server = await audiosocket(engine)
    before = RECORDINGS_SKIPPED.labels("disk_full")._value.get()

    async def one_call() -> tuple[uuid.UUID, AudioSocketPeer]:
        call_id = uuid.uuid4()
        engine.registry.announce(
            call_id, "voicelong", f"+7999000{call_id.int % 10000:04d}", direction="inbound"
        )
        peer = AudioSocketPeer("127.0.0.1", server.bound_port, call_uuid=call_id, sample_rate=16000)
        await peer.connect()
        await wait_quiet(peer, 0.0, quiet=0.6, within=90)  # the whole long prompt was heard (slow when busy)
        assert not peer.ended, f"the bot dropped the call: {peer.end_reason}"
        await peer.hang_up()
        return call_id, peer

    results = await asyncio.gather(*(one_call() for _ in range(CALLS)))
    for _, peer in results:  # ~7 s of prompt each, about 64 KB/s of stereo: far more than the disk holds
        assert len(peer.audio_frames()) > 200

    async with demo_db.session() as session:
        await asyncio.sleep(0)
        for _ in range(100):
            rows = (
                (await session.execute(select(Call).where(Call.id.in_([c for c, _ in results]))))
                .scalars()
                .all()
            )
            if len(rows) == CALLS and all(r.status == "ended" for r in rows):
                break
            await asyncio.sleep(0.1)
            session.expire_all()
    assert len(rows) == CALLS and all(r.status == "ended" and r.outcome == "hangup" for r in rows)
    assert RECORDINGS_SKIPPED.labels("disk_full")._value.get() > before
    # A finished WAV whose encoding found no room stays as the call's recording; nothing else may. The
    # encoder runs one recording at a time after the call: give it time to settle.
    for _ in range(150):
        async with demo_db.session() as session:
            rows = (
                (await session.execute(select(Call).where(Call.id.in_([c for c, _ in results]))))
                .scalars()
                .all()
            )
        files = await asyncio.to_thread(lambda: {str(p) for p in tiny_disk.rglob("*") if p.is_file()})
        named = {r.recording_path for r in rows}
        leftovers = [p for p in files if p.endswith(".wav") and p not in named]
        if not leftovers:
            break
        await asyncio.sleep(0.2)
    assert not leftovers, f"partial recordings left behind: {leftovers}"
    for row in rows:  # a recording that is named exists; the others are simply not there
        assert row.recording_path is None or row.recording_path in files
    assert any(r.recording_path is None for r in rows)


def test_no_recording_is_started_without_free_space(tmp_path):
    from voicebot.calls.disk import may_record

    before = RECORDINGS_SKIPPED.labels("disk_full")._value.get()
    assert may_record(tmp_path, 1)
    assert not may_record(tmp_path, 1 << 62)  # more than any disk has
    assert RECORDINGS_SKIPPED.labels("disk_full")._value.get() == before + 1
