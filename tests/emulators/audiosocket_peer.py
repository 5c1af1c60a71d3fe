"""A test-side stand-in for Asterisk's end of an AudioSocket connection.

It behaves like Asterisk 22.10 as recorded in docs PROTOCOLS.md §1 and §7, and deliberately parses the
wire format itself (not with the product's decoder) so tests check the product against an independent
reading of the protocol:

* connects as a TCP client and sends `01 00 10` + 16-byte UUID first;
* streams 16-bit PCM paced in real time (or faster when a test asks) as kind 0x10 (8 kHz) or 0x12 (16 kHz),
  frame size = rate x packet time (20 ms -> 320/640 bytes, 30 ms -> 480/960 bytes);
* can behave like the far ends of PROTOCOLS.md §9: the first audio frame late (`start_stream(delay=...)`,
  an outbound call or a phone that stays quiet), and no frames at all while the caller is silent
  (`silence_suppression`, a SIP phone whose RTP stops; Asterisk forwards nothing then);
* sends DTMF as `03 00 01 <ascii digit>`; hangs up by closing the socket (no 0x00);
* records every frame the bot sends with its arrival time, and tears the call down like Asterisk does on a
  kind other than 0x00/0x10-0x18, a zero-length audio frame, or (dialplan app) 2 s with nothing either way.
"""

from __future__ import annotations

import array
import asyncio
import contextlib
import struct
import uuid
from dataclasses import dataclass, field

AUDIO_KINDS = {0x10: 8000, 0x11: 12000, 0x12: 16000, 0x13: 24000, 0x14: 32000, 0x15: 44100, 0x16: 48000}
KIND_FOR_RATE = {rate: kind for kind, rate in AUDIO_KINDS.items()}


@dataclass
class Received:
    kind: int
    payload: bytes
    t: float  # seconds since the peer connected


@dataclass
class AudioSocketPeer:
    host: str
    port: int
    call_uuid: uuid.UUID = field(default_factory=uuid.uuid4)
    sample_rate: int = 8000
    ptime_ms: int = 20
    speed: float = 1.0  # 1.0 real time; 10.0 ten times faster; 0 as fast as possible
    inactivity_timeout: float | None = 2.0  # the AudioSocket() app; None for the channel driver
    # A phone with silence suppression: frames whose peak stays below this level are not sent at all.
    silence_suppression: bool = False
    suppression_peak: int = 100  # about -50 dBFS

    received: list[Received] = field(default_factory=list)
    end_reason: str | None = None
    t0: float = 0.0

    def __post_init__(self) -> None:
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._tasks: list[asyncio.Task] = []
        self._ended = asyncio.Event()
        self._last_activity = 0.0
        self.sent_frames = 0
        self.suppressed_frames = 0
        self.first_audio_at: float | None = None  # seconds after connecting
        # When each frame of the last `stream` really left (seconds after connecting; None: suppressed):
        # on a busy machine frames go out late, and a test timing the bot's reaction measures from here.
        self.sent_at: list[float | None] = []

    # --- connection ---------------------------------------------------------------------------------

    @property
    def kind(self) -> int:
        return KIND_FOR_RATE[self.sample_rate]

    @property
    def frame_bytes(self) -> int:
        return self.sample_rate * self.ptime_ms // 1000 * 2

    @property
    def ended(self) -> bool:
        return self._ended.is_set()

    def now(self) -> float:
        return asyncio.get_running_loop().time() - self.t0

    async def connect(self, send_uuid: bool = True) -> AudioSocketPeer:
        self._reader, self._writer = await asyncio.open_connection(self.host, self.port)
        self.t0 = asyncio.get_running_loop().time()
        self._last_activity = 0.0
        if send_uuid:
            await self.send_frame(0x01, self.call_uuid.bytes)
        self._tasks.append(asyncio.create_task(self._receive_loop()))
        if self.inactivity_timeout is not None:
            self._tasks.append(asyncio.create_task(self._watchdog()))
        return self

    async def send_raw(self, data: bytes) -> None:
        """Bytes as they are, for garbage tests."""
        assert self._writer is not None
        self._writer.write(data)
        await self._writer.drain()

    async def send_frame(self, kind: int, payload: bytes = b"") -> None:
        await self.send_raw(struct.pack(">BH", kind, len(payload)) + payload)
        self._last_activity = self.now()

    async def send_dtmf(self, digit: str) -> None:
        await self.send_frame(0x03, digit.encode("ascii"))

    async def hang_up(self) -> None:
        """The caller hangs up: Asterisk just closes the socket."""
        self._end("local_hangup")
        await self._close()

    async def wait_ended(self, within: float) -> str | None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._ended.wait(), within)
        return self.end_reason

    async def close(self) -> None:
        if not self.ended:
            self._end("test_closed")
        await self._close()

    async def __aenter__(self) -> AudioSocketPeer:
        return await self.connect()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    # --- sending audio ---------------------------------------------------------------------------------

    async def stream(self, pcm: bytes, *, then_silence: float = 0.0, delay: float = 0.0) -> None:
        """Send `pcm` as paced audio frames, followed by `then_silence` seconds of silent frames.

        The tail is padded with zeros to a whole frame, as an RTP stream would be. With `delay`, nothing is
        sent for that long first. Under `silence_suppression` silent frames keep their time slot but are
        never sent.
        """
        if delay > 0:
            await asyncio.sleep(delay / self.speed if self.speed > 0 else 0)
        size = self.frame_bytes
        pcm = pcm + bytes(-len(pcm) % size) + bytes(int(then_silence * 1000 / self.ptime_ms) * size)
        period = self.ptime_ms / 1000
        loop = asyncio.get_running_loop()
        start = loop.time()
        self.sent_at = []
        for index in range(len(pcm) // size):
            if self.ended:
                return
            if self.speed > 0:
                delay = start + index * period / self.speed - loop.time()
                if delay > 0:
                    await asyncio.sleep(delay)
            chunk = pcm[index * size : (index + 1) * size]
            if self.silence_suppression and self._is_silent(chunk):
                self.suppressed_frames += 1
                self.sent_at.append(None)
                continue
            try:
                await self.send_frame(self.kind, chunk)
            except ConnectionError:
                self._end("bot_closed")
                return
            self.sent_at.append(self.now())
            if self.first_audio_at is None:
                self.first_audio_at = self.now()
            self.sent_frames += 1

    def start_stream(self, pcm: bytes, *, then_silence: float = 0.0, delay: float = 0.0) -> asyncio.Task:
        task = asyncio.create_task(self.stream(pcm, then_silence=then_silence, delay=delay))
        self._tasks.append(task)
        return task

    def _is_silent(self, chunk: bytes) -> bool:
        samples = array.array("h", chunk)  # the wire is little-endian, like every host these tests run on
        return (
            max(samples, default=0) < self.suppression_peak
            and -min(samples, default=0) < self.suppression_peak
        )

    # --- what came back ---------------------------------------------------------------------------------

    def audio_frames(self) -> list[Received]:
        return [r for r in self.received if r.kind in AUDIO_KINDS]

    def audio(self) -> bytes:
        return b"".join(r.payload for r in self.audio_frames())

    # --- internals ----------------------------------------------------------------------------------------

    async def _receive_loop(self) -> None:
        assert self._reader is not None
        try:
            while True:
                header = await self._reader.readexactly(3)
                kind, size = struct.unpack(">BH", header)
                if kind == 0x00:
                    # Asterisk does not read a payload after 0x00.
                    self._end("bot_hangup")
                    break
                if kind not in AUDIO_KINDS:
                    self._end(f"protocol_violation: kind 0x{kind:02x}")
                    break
                if size == 0:
                    self._end("protocol_violation: zero-length audio")
                    break
                payload = await self._reader.readexactly(size)
                self._last_activity = self.now()
                self.received.append(Received(kind, payload, self._last_activity))
        except asyncio.IncompleteReadError as exc:
            self._end("bot_closed" if not exc.partial else "bot_closed_mid_frame")
        except (ConnectionError, OSError):
            self._end("bot_closed")
        except asyncio.CancelledError:
            return
        await self._close()

    async def _watchdog(self) -> None:
        assert self.inactivity_timeout is not None
        while not self.ended:
            idle = self.now() - self._last_activity
            if idle >= self.inactivity_timeout:
                self._end("inactivity_timeout")
                await self._close()
                return
            await asyncio.sleep(min(0.05, self.inactivity_timeout - idle))

    def _end(self, reason: str) -> None:
        if not self._ended.is_set():
            self.end_reason = reason
            self._ended.set()

    async def _close(self) -> None:
        current = asyncio.current_task()
        for task in self._tasks:
            if task is not current:
                task.cancel()
        if self._writer is not None:
            self._writer.close()
            with contextlib.suppress(Exception):
                await self._writer.wait_closed()
