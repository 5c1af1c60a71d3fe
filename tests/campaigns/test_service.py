"""The service inside `voicebot serve`: comes up without Asterisk, dials once AMI is reachable."""

from __future__ import annotations

import asyncio
import socket

from tests.emulators.agi_client import AGIClientEmulator
from tests.emulators.ami_server import AMIServerEmulator
from voicebot.campaigns import service
from voicebot.campaigns.store import create_campaign
from voicebot.services import ServiceContext
from voicebot.settings import Settings

ALWAYS = {"windows": {"weekday": ["00:00", "23:59:59"], "weekend": ["00:00", "23:59:59"]}}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def settings(ami_port: int, **extra) -> Settings:
    return Settings(
        fastagi_host="127.0.0.1", fastagi_port=free_port(), ami_host="127.0.0.1", ami_port=ami_port,
        ami_secret="s3cret", dialer_poll_seconds=0.05, **extra,
    )  # fmt: skip


async def test_serve_comes_up_without_asterisk_and_dials_when_it_appears(db):
    port = free_port()
    await create_campaign(db, name="svc", scenario="announcement", rows=[{"phone": "+79160000001", "message": "m"}],
                          start=True, settings=ALWAYS, calls_per_second=50)  # fmt: skip
    ctx = ServiceContext(settings(port), db)
    async with asyncio.timeout(5):
        async with service.start(ctx):
            assert ctx.shared["dialer"].in_flight == 0
            # FastAGI answers even without a voice channel: everything overflows, nobody rings forever.
            peer = AGIClientEmulator("127.0.0.1", ctx.settings.fastagi_port, args=("74951234567",))
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


async def test_disabled_service_does_nothing(db):
    ctx = ServiceContext(settings(1, dialer_enabled=False), db)
    async with service.start(ctx):
        assert "dialer" not in ctx.shared
