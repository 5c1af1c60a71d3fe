"""The composition root of `voicebot serve`: comes up without Asterisk, dials once AMI is reachable, and
starts only what its mode and settings ask for."""

from __future__ import annotations

import asyncio
import socket
import tempfile

from tests.emulators.agi_client import AGIClientEmulator
from tests.emulators.ami_server import AMIServerEmulator
from voicebot import runtime
from voicebot.campaigns.store import create_campaign
from voicebot.settings import Settings

ALWAYS = {"windows": {"weekday": ["00:00", "23:59:59"], "weekend": ["00:00", "23:59:59"]}}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def settings(ami_port: int, **extra) -> Settings:
    return Settings(
        fastagi_host="127.0.0.1", fastagi_port=free_port(), ami_host="127.0.0.1", ami_port=ami_port,
        ami_secret="s3cret", dialer_poll_seconds=0.05, voice_enabled=False,
        data_dir=tempfile.mkdtemp(prefix="voicebot-runtime-"), **extra,
    )  # fmt: skip


async def test_serve_comes_up_without_asterisk_and_dials_when_it_appears(db):
    port = free_port()
    await create_campaign(db, name="svc", scenario="announcement", rows=[{"phone": "+79160000001", "message": "m"}],
                          start=True, settings=ALWAYS, calls_per_second=50)  # fmt: skip
    async with asyncio.timeout(5), runtime.started(settings(port), db) as rt:
        assert rt.dialer is not None and rt.dialer.in_flight == 0
        # FastAGI answers even without a voice channel: everything overflows, nobody rings forever.
        peer = AGIClientEmulator("127.0.0.1", rt.settings.fastagi_port, args=("74951234567",))
        await peer.run()
        assert peer.variables["VOICEBOT_ACTION"] == "overflow"
        await asyncio.sleep(0.3)
        async with AMIServerEmulator(secret="s3cret") as ami:
            await ami.stop_listening()
            await ami.start(port=port)
            for _ in range(100):
                if any(dict(a).get("Action") == "Originate" for a in ami.actions):
                    break
                await asyncio.sleep(0.05)
            originate = next(dict(a) for a in ami.actions if dict(a).get("Action") == "Originate")
            assert originate["Channel"] == "PJSIP/79160000001@voicebot-trunk"


async def test_disabled_dialer_starts_no_call_control(db):
    async with runtime.started(settings(1, dialer_enabled=False), db) as rt:
        assert rt.dialer is None and rt.fastagi is None and rt.ami is None


async def test_no_telephony_starts_no_listener(db):
    s = settings(1)
    async with runtime.started(s, db, telephony=False) as rt:
        assert rt.dialer is None and rt.fastagi is None and rt.audiosocket is None
        with socket.socket() as sock:  # the FastAGI port stayed free
            sock.bind(("127.0.0.1", s.fastagi_port))
