"""Telephony peers: who may open AudioSocket calls under the settings `serve` uses."""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import uuid
from types import SimpleNamespace

from voicebot.asterisk.audiosocket import HEADER, AudioSocketCall, Kind
from voicebot.runtime import build_audiosocket
from voicebot.security.networks import address_allowed, telephony_networks
from voicebot.settings import Settings


async def test_audiosocket_under_default_settings_refuses_foreign_peers_and_unannounced_uuids():
    admitted: list[uuid.UUID] = []

    async def handler(call: AudioSocketCall) -> None:
        admitted.append(call.uuid)
        await call.hangup()

    announced = uuid.uuid4()
    settings = Settings(audiosocket_host="127.0.0.1", audiosocket_port=0, ami_host="127.0.0.1")
    voice = SimpleNamespace(
        handle_audiosocket=handler, registry=SimpleNamespace(is_announced=lambda u: u == announced)
    )
    server = build_audiosocket(settings, voice)  # exactly as `voicebot serve` builds it
    await server.start()
    try:
        for source, call_uuid in (
            ("127.0.0.2", announced),
            ("127.0.0.1", uuid.uuid4()),
            ("127.0.0.1", announced),
        ):
            reader, writer = await asyncio.open_connection(
                "127.0.0.1", server.bound_port, local_addr=(source, 0)
            )
            writer.write(HEADER.pack(Kind.UUID, 16) + call_uuid.bytes)
            await writer.drain()
            with contextlib.suppress(ConnectionError):  # the server closes (or hangs up) either way
                await asyncio.wait_for(reader.read(), 2)
            writer.close()
    finally:
        await server.stop()
    assert admitted == [announced]  # only the announced UUID from the allowed address


def test_the_asterisk_host_is_added_to_the_allowed_networks():
    networks = telephony_networks("127.0.0.1/32", "10.1.2.3")
    assert address_allowed("10.1.2.3", networks) and address_allowed("::ffff:127.0.0.1", networks)
    assert not address_allowed("10.1.2.4", networks) and not address_allowed("127.0.0.2", networks)
    assert ipaddress.ip_network("127.0.0.1/32") in telephony_networks("127.0.0.1/32", "localhost")
