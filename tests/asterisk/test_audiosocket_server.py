"""AudioSocketServer against the Asterisk peer emulator."""

import asyncio
import sys
import uuid
from pathlib import Path

import pytest

from voicebot.asterisk.audiosocket import AudioSocketCall, AudioSocketServer, CallClosedError
from voicebot.media.frames import AudioFrame, DtmfFrame, HangupFrame

try:
    from tests.emulators.audiosocket_peer import AudioSocketPeer
except ModuleNotFoundError:  # repository root not on sys.path (pytest without pythonpath=["."])
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    from tests.emulators.audiosocket_peer import AudioSocketPeer


class Recorder:
    """A handler that stores everything a call delivered."""

    def __init__(self, reply: bytes = b"") -> None:
        self.calls: dict[uuid.UUID, list] = {}
        self.rates: dict[uuid.UUID, int | None] = {}
        self.done = asyncio.Event()
        self.reply = reply

    async def __call__(self, call: AudioSocketCall) -> None:
        items = self.calls.setdefault(call.uuid, [])
        async for frame in call.frames():
            items.append(frame)
            if isinstance(frame, DtmfFrame) and frame.digit == "#" and self.reply:
                await call.send_audio(self.reply)
                await call.hangup()
        self.rates[call.uuid] = call.sample_rate
        self.done.set()


async def start(handler, **kwargs) -> AudioSocketServer:
    server = AudioSocketServer(handler, "127.0.0.1", 0, **kwargs)
    await server.start()
    return server


def peer_for(server: AudioSocketServer, **kwargs) -> AudioSocketPeer:
    return AudioSocketPeer("127.0.0.1", server.bound_port, **kwargs)


async def test_call_delivers_audio_dtmf_and_caller_hangup():
    handler = Recorder()
    server = await start(handler)
    try:
        peer = await peer_for(server, speed=0).connect()
        await peer.stream(bytes(320 * 5))
        await peer.send_dtmf("5")
        await peer.hang_up()
        await asyncio.wait_for(handler.done.wait(), 2)
    finally:
        await server.stop()
    items = handler.calls[peer.call_uuid]
    audio = [i for i in items if isinstance(i, AudioFrame)]
    assert len(audio) == 5 and all(f.sample_rate == 8000 and f.samples == 160 for f in audio)
    assert [i.digit for i in items if isinstance(i, DtmfFrame)] == ["5"]
    assert items[-1] == HangupFrame("caller", items[-1].timestamp)
    assert handler.rates[peer.call_uuid] == 8000


@pytest.mark.parametrize(("rate", "ptime", "size"), [(16000, 20, 640), (8000, 30, 480), (16000, 30, 960)])
async def test_rate_and_frame_size_come_from_each_frame(rate, ptime, size):
    handler = Recorder()
    server = await start(handler)
    try:
        peer = await peer_for(server, speed=0, sample_rate=rate, ptime_ms=ptime).connect()
        await peer.stream(bytes(size * 3))
        await peer.hang_up()
        await asyncio.wait_for(handler.done.wait(), 2)
    finally:
        await server.stop()
    audio = [i for i in handler.calls[peer.call_uuid] if isinstance(i, AudioFrame)]
    assert [len(f.pcm) for f in audio] == [size] * 3
    assert handler.rates[peer.call_uuid] == rate


async def test_bot_audio_and_hangup_reach_the_peer_as_asterisk_expects():
    reply = bytes(range(256)) * 5  # 1280 bytes
    handler = Recorder(reply=reply)
    server = await start(handler)
    try:
        peer = await peer_for(server).connect()
        await peer.send_frame(0x10, bytes(320))
        await peer.send_dtmf("#")
        assert await peer.wait_ended(2) == "bot_hangup"
    finally:
        await server.stop()
    assert peer.audio() == reply
    assert {r.kind for r in peer.received} == {0x10}


async def test_empty_audio_is_never_sent_and_odd_buffers_are_refused():
    results = []

    async def handler(call: AudioSocketCall) -> None:
        await call.send_audio(b"")
        try:
            await call.send_audio(b"\x00")
        except ValueError as exc:
            results.append(exc)
        await call.send_audio(bytes(4))
        await call.hangup()
        with pytest.raises(CallClosedError):
            await call.send_audio(bytes(4))
        results.append("closed")

    server = await start(handler)
    try:
        peer = await peer_for(server).connect()
        assert await peer.wait_ended(2) == "bot_hangup"  # a zero-length frame would be a protocol violation
    finally:
        await server.stop()
    assert [len(r.payload) for r in peer.received] == [4]
    assert isinstance(results[0], ValueError) and results[1] == "closed"


@pytest.mark.parametrize(
    "opening",
    [
        b"\x10\x01\x40" + bytes(320),  # audio before the UUID
        b"\x01\x00\x04abcd",  # UUID of the wrong size
        b"\x01\xff\xff",  # oversized
        b"\x01\x00\x10abc",  # truncated, then the peer closes
        b"GET / HTTP/1.1\r\n\r\n",  # somebody else's protocol
    ],
)
async def test_bad_opening_closes_without_calling_the_handler(opening):
    handler = Recorder()
    server = await start(handler)
    try:
        peer = peer_for(server)
        await peer.connect(send_uuid=False)
        await peer.send_raw(opening)
        if opening.startswith(b"\x01\x00\x10"):
            peer._writer.write_eof()
        assert await peer.wait_ended(2) == "bot_closed"
        # The server is still fine.
        good = await peer_for(server, speed=0).connect()
        await good.stream(bytes(320))
        await good.hang_up()
        await asyncio.wait_for(handler.done.wait(), 2)
    finally:
        await server.stop()
    assert list(handler.calls) == [good.call_uuid]


async def test_silent_peer_without_uuid_is_dropped_after_timeout():
    server = await start(Recorder(), uuid_timeout=0.2)
    try:
        peer = await peer_for(server, inactivity_timeout=None).connect(send_uuid=False)
        assert await peer.wait_ended(2) == "bot_closed"
    finally:
        await server.stop()


@pytest.mark.parametrize(
    "garbage",
    [
        b"\x10\x00\x00",  # zero-length audio
        b"\x42\x00\x01x",  # unknown kind
        b"\x10\xff\xff",  # oversized
        b"\x01\x00\x10" + bytes(16),  # a second UUID
        b"\x00\x00\x00",  # hang-up frames only go the other way
    ],
)
async def test_garbage_mid_call_ends_that_call_as_protocol_error(garbage):
    handler = Recorder()
    server = await start(handler)
    try:
        peer = await peer_for(server, speed=0).connect()
        await peer.stream(bytes(640))
        await peer.send_raw(garbage)
        await asyncio.wait_for(handler.done.wait(), 2)
        assert await peer.wait_ended(2) == "bot_closed"
    finally:
        await server.stop()
    items = handler.calls[peer.call_uuid]
    assert sum(isinstance(i, AudioFrame) for i in items) == 2
    assert isinstance(items[-1], HangupFrame) and items[-1].reason == "protocol_error"


async def test_truncated_frame_at_caller_close_is_reported():
    handler = Recorder()
    server = await start(handler)
    try:
        peer = await peer_for(server).connect()
        await peer.send_raw(b"\x10\x01\x40" + bytes(100))
        await peer.hang_up()
        await asyncio.wait_for(handler.done.wait(), 2)
    finally:
        await server.stop()
    assert handler.calls[peer.call_uuid][-1].reason == "protocol_error"


async def test_peer_from_disallowed_network_is_refused():
    handler = Recorder()
    server = await start(handler, allowed_networks="10.0.0.0/8, 192.168.0.0/16")
    try:
        peer = await peer_for(server).connect()
        assert await peer.wait_ended(2) == "bot_closed"
    finally:
        await server.stop()
    assert handler.calls == {}


async def test_unknown_uuid_policy():
    known = uuid.uuid4()
    seen: list[tuple[uuid.UUID, bool]] = []

    async def handler(call: AudioSocketCall) -> None:
        seen.append((call.uuid, call.announced))
        await call.hangup()

    reject = await start(handler, unknown_uuid="reject", announced=lambda u: u == known)
    inbound = await start(handler, unknown_uuid="inbound", announced=lambda u: u == known)
    try:
        stranger = await peer_for(reject).connect()
        assert await stranger.wait_ended(2) == "bot_closed"
        friend = await peer_for(reject, call_uuid=known).connect()
        assert await friend.wait_ended(2) == "bot_hangup"
        walk_in = await peer_for(inbound).connect()
        assert await walk_in.wait_ended(2) == "bot_hangup"
    finally:
        await reject.stop()
        await inbound.stop()
    assert seen == [(known, True), (walk_in.call_uuid, False)]


async def test_failing_handler_or_hook_does_not_hurt_the_server():
    async def handler(call: AudioSocketCall) -> None:
        raise RuntimeError("boom")

    def hook(_uuid: uuid.UUID) -> bool:
        raise KeyError("hook broken")

    server = await start(handler, announced=hook)
    try:
        for _ in range(2):
            peer = await peer_for(server).connect()
            assert await peer.wait_ended(2) == "bot_hangup"  # the server hangs up politely
    finally:
        await server.stop()


async def test_many_concurrent_calls_with_one_bad_one():
    async def echo(call: AudioSocketCall) -> None:
        async for frame in call.frames():
            if isinstance(frame, AudioFrame):
                await call.send_audio(frame.pcm)
            elif isinstance(frame, DtmfFrame):
                await call.hangup()

    server = await start(echo)
    try:
        peers = [peer_for(server) for _ in range(40)]
        for p in peers:
            await p.connect()
        payloads = [i.to_bytes(2, "little") * 160 for i in range(len(peers))]

        async def talk(index: int, peer: AudioSocketPeer) -> None:
            if index == 7:
                await peer.send_raw(b"\x42\x00\x00")
                return
            await peer.stream(payloads[index] * 10)
            await peer.send_dtmf("1")

        await asyncio.gather(*(talk(i, p) for i, p in enumerate(peers)))
        reasons = await asyncio.gather(*(p.wait_ended(3) for p in peers))
    finally:
        await server.stop()
    assert reasons[7] == "bot_closed"
    for index, (peer, reason) in enumerate(zip(peers, reasons, strict=True)):
        if index != 7:
            assert reason == "bot_hangup"
            assert peer.audio() == payloads[index] * 10
