"""Asterisk AudioSocket: wire framing and the asyncio TCP server (we are the server, Asterisk connects).

Wire format (both directions): 1 byte kind, 2 bytes big-endian payload length, payload. Asterisk sends the
call UUID first (kind 0x01, 16 raw bytes), then audio (0x10-0x18, 16-bit LE PCM, rate given by the kind,
frame size following the caller's packet time) and DTMF (0x03, one ASCII byte on key release); a caller
hang-up is a plain socket close. Asterisk tears the call down if we send anything but 0x00 (hang up) or
audio, or a zero-length audio frame, so `AudioSocketCall` only ever sends those. See
docs PROTOCOLS.md §1 for the captured exchanges this module follows.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import struct
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass
from enum import IntEnum
from typing import Literal

from voicebot.logs import logged_failure
from voicebot.media.frames import AudioFrame, DtmfFrame, HangupFrame, InboundFrame
from voicebot.security.networks import (
    LOOPBACK_ONLY,
    Network,
    address_allowed,
    parse_networks,
)

log = logging.getLogger(__name__)

HEADER = struct.Struct(">BH")
MAX_PAYLOAD = 0xFFFF
DEFAULT_MAX_FRAME_BYTES = 16384  # 30 ms at 192 kHz is 11520 bytes; anything bigger is not telephony
DTMF_DIGITS = frozenset("0123456789*#ABCD")


class Kind(IntEnum):
    HANGUP = 0x00
    UUID = 0x01
    DTMF = 0x03
    SLIN = 0x10
    SLIN12 = 0x11
    SLIN16 = 0x12
    SLIN24 = 0x13
    SLIN32 = 0x14
    SLIN44 = 0x15
    SLIN48 = 0x16
    SLIN96 = 0x17
    SLIN192 = 0x18
    ERROR = 0xFF


AUDIO_RATES: dict[Kind, int] = {
    Kind.SLIN: 8000,
    Kind.SLIN12: 12000,
    Kind.SLIN16: 16000,
    Kind.SLIN24: 24000,
    Kind.SLIN32: 32000,
    Kind.SLIN44: 44100,
    Kind.SLIN48: 48000,
    Kind.SLIN96: 96000,
    Kind.SLIN192: 192000,
}
_KIND_BY_RATE = {rate: kind for kind, rate in AUDIO_RATES.items()}


def is_audio_kind(kind: int) -> bool:
    return Kind.SLIN <= kind <= Kind.SLIN192


def rate_of_kind(kind: int) -> int:
    return AUDIO_RATES[Kind(kind)]


def kind_for_rate(sample_rate: int) -> Kind:
    try:
        return _KIND_BY_RATE[sample_rate]
    except KeyError:
        raise ValueError(f"AudioSocket has no audio kind for {sample_rate} Hz") from None


# --- framing -------------------------------------------------------------------------------------------


class FrameError(Exception):
    """The byte stream does not follow the AudioSocket framing."""


class OversizedFrameError(FrameError):
    pass


class UnknownKindError(FrameError):
    pass


class MalformedFrameError(FrameError):
    """Known kind, but its payload is impossible (UUID not 16 bytes, empty or odd-sized audio, ...)."""


class TruncatedFrameError(FrameError):
    """The stream ended in the middle of a frame."""


@dataclass(frozen=True, slots=True)
class Frame:
    kind: int
    payload: bytes = b""


def encode_frame(kind: int, payload: bytes = b"") -> bytes:
    if not 0 <= kind <= 0xFF:
        raise ValueError(f"frame kind {kind} does not fit in one byte")
    if len(payload) > MAX_PAYLOAD:
        raise ValueError(f"payload of {len(payload)} bytes exceeds the 16-bit length field")
    return HEADER.pack(kind, len(payload)) + payload


def validate_frame(frame: Frame) -> None:
    """Check a frame received from Asterisk; raises a `FrameError` subclass."""
    kind, size = frame.kind, len(frame.payload)
    if is_audio_kind(kind):
        if size == 0 or size % 2:
            raise MalformedFrameError(f"audio frame kind 0x{kind:02x} with {size} bytes")
    elif kind == Kind.UUID:
        if size != 16:
            raise MalformedFrameError(f"UUID frame with {size} bytes instead of 16")
    elif kind == Kind.DTMF:
        if size != 1 or chr(frame.payload[0]) not in DTMF_DIGITS:
            raise MalformedFrameError(f"DTMF frame with payload {frame.payload!r}")
    elif kind in (Kind.HANGUP, Kind.ERROR):
        pass
    else:
        raise UnknownKindError(f"unknown frame kind 0x{kind:02x}")


class FrameDecoder:
    """Incremental decoder: feed it whatever the socket returned, get back complete, validated frames.

    The length is checked against `max_frame_bytes` as soon as the header is in, so a hostile peer cannot
    make us buffer 64 KiB per connection.
    """

    def __init__(self, max_frame_bytes: int = DEFAULT_MAX_FRAME_BYTES) -> None:
        self.max_frame_bytes = max_frame_bytes
        self._buffer = bytearray()

    @property
    def pending(self) -> int:
        return len(self._buffer)

    def feed(self, data: bytes) -> list[Frame]:
        return list(self.iter_feed(data))

    def iter_feed(self, data: bytes) -> Iterator[Frame]:
        """Like `feed`, but frames before a bad one are yielded before the error is raised."""
        self._buffer += data
        while len(self._buffer) >= HEADER.size:
            kind, size = HEADER.unpack_from(self._buffer)
            if size > self.max_frame_bytes:
                raise OversizedFrameError(f"frame kind 0x{kind:02x} announces {size} bytes")
            end = HEADER.size + size
            if len(self._buffer) < end:
                break
            frame = Frame(kind, bytes(self._buffer[HEADER.size : end]))
            del self._buffer[:end]
            validate_frame(frame)
            yield frame

    def end_of_stream(self) -> None:
        """Call at EOF; a half-received frame means the peer died mid-write."""
        if self._buffer:
            raise TruncatedFrameError(f"stream ended with {len(self._buffer)} bytes of an unfinished frame")


# --- one call --------------------------------------------------------------------------------------------


class CallClosedError(ConnectionError):
    """Audio was sent to a call that has already ended."""


class AudioSocketCall:
    """One AudioSocket connection after its UUID was accepted.

    Inbound frames are read by a background task into a bounded queue, so hang-ups are noticed even while
    the handler is busy talking; `frames()` drains that queue.
    """

    def __init__(
        self,
        call_uuid: uuid.UUID,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        decoder: FrameDecoder,
        *,
        announced: bool = True,
        peer: tuple[str, int] | None = None,
        queue_frames: int = 500,
        write_timeout: float = 5.0,
    ) -> None:
        self.uuid = call_uuid
        self.announced = announced
        self.peer = peer
        self.sample_rate: int | None = None
        self.hangup_reason: str | None = None
        self._reader = reader
        self._writer = writer
        self._decoder = decoder
        self._queue: asyncio.Queue[InboundFrame] = asyncio.Queue(maxsize=queue_frames)
        self._closed = asyncio.Event()
        self._last_audio_at: float | None = None
        self._write_timeout = write_timeout
        self._dropped = 0
        self._log_extra = {"call_uuid": str(call_uuid)}

    @property
    def closed(self) -> bool:
        return self._closed.is_set()

    async def wait_closed(self) -> None:
        await self._closed.wait()

    @property
    def last_audio_at(self) -> float | None:
        """Loop time the last audio frame was read off the socket (None before the first)."""
        return self._last_audio_at

    async def frames(self) -> AsyncIterator[InboundFrame]:
        """Inbound audio and DTMF in arrival order; the last item is always a `HangupFrame`."""
        while True:
            item = await self._queue.get()
            yield item
            if isinstance(item, HangupFrame):
                # Leave the marker for any other consumer that iterates later.
                self._queue.put_nowait(item)
                return

    async def send_audio(self, pcm: bytes, sample_rate: int | None = None) -> None:
        """Send 16-bit PCM at `sample_rate` (default: the call's rate); the caller is responsible for pacing.

        The kind byte always tells the rate the audio really has: Asterisk converts any slin rate to the
        channel's, so 8 kHz audio sent before the call's rate is known plays at the right speed.
        """
        if self.closed:
            raise CallClosedError(f"call {self.uuid} is closed")
        if len(pcm) % 2:
            raise ValueError("PCM buffer has an odd number of bytes")
        if not pcm:
            return  # a zero-length audio frame makes Asterisk drop the call
        kind = kind_for_rate(sample_rate or self.sample_rate or 8000)
        step = MAX_PAYLOAD - 1  # even, so no sample is split across frames
        data = b"".join(encode_frame(kind, pcm[i : i + step]) for i in range(0, len(pcm), step))
        await self._write(data)

    async def hangup(self) -> None:
        """End the call from our side: send 0x00, then close. Safe to call more than once."""
        if self.closed:
            return
        with contextlib.suppress(ConnectionError, TimeoutError):
            await self._write(encode_frame(Kind.HANGUP))
        self._finish("bot")

    async def _write(self, data: bytes) -> None:
        try:
            self._writer.write(data)
            await asyncio.wait_for(self._writer.drain(), self._write_timeout)
        except (ConnectionError, TimeoutError) as exc:
            self._finish("write_failed")
            raise CallClosedError(f"call {self.uuid}: {exc!r}") from exc

    async def _read_loop(self) -> None:
        """Runs as a task for the life of the connection; never raises."""
        reason = "caller"
        try:
            while not self.closed:
                data = await self._reader.read(65536)
                if not data:
                    self._decoder.end_of_stream()
                    break
                for frame in self._decoder.iter_feed(data):
                    self._dispatch(frame)
        except FrameError as exc:
            reason = "protocol_error"
            log.warning("AudioSocket protocol error: %s", exc, extra=self._log_extra)
        except (ConnectionError, OSError) as exc:
            log.info("AudioSocket connection lost: %r", exc, extra=self._log_extra)
        except asyncio.CancelledError:
            reason = "server_stopped"
        self._finish(reason)

    def _dispatch(self, frame: Frame) -> None:
        now = asyncio.get_running_loop().time()
        if is_audio_kind(frame.kind):
            rate = rate_of_kind(frame.kind)
            self._last_audio_at = now
            if self.sample_rate is None:
                self.sample_rate = rate
            elif rate != self.sample_rate:
                log.warning("audio rate changed %s -> %s Hz", self.sample_rate, rate, extra=self._log_extra)
                self.sample_rate = rate
            self._put(AudioFrame(frame.payload, rate, now))
        elif frame.kind == Kind.DTMF:
            self._put(DtmfFrame(frame.payload.decode("ascii"), now))
        elif frame.kind == Kind.HANGUP:
            raise FrameError("Asterisk never sends a hang-up frame")  # treat as garbage, end the call
        elif frame.kind == Kind.UUID:
            raise FrameError("second UUID frame")
        elif frame.kind == Kind.ERROR:
            log.warning("AudioSocket error frame %s", frame.payload.hex(), extra=self._log_extra)

    def _put(self, item: InboundFrame) -> None:
        if self._queue.full():
            # A stalled consumer must not stall the reader (we would miss the hang-up): drop the oldest.
            self._queue.get_nowait()
            self._dropped += 1
            if self._dropped in (1, 100, 1000):
                log.warning("inbound queue full, dropped %d frames", self._dropped, extra=self._log_extra)
        self._queue.put_nowait(item)

    def _finish(self, reason: str) -> None:
        if self.closed:
            return
        self.hangup_reason = reason
        self._closed.set()
        self._put(HangupFrame(reason, asyncio.get_running_loop().time()))
        with logged_failure(log, "closing the AudioSocket stream", **self._log_extra):
            self._writer.close()
        log.info("AudioSocket call ended (%s)", reason, extra=self._log_extra)


# --- the server ------------------------------------------------------------------------------------------

CallHandler = Callable[[AudioSocketCall], Awaitable[None]]
UnknownUuidPolicy = Literal["reject", "inbound"]


class AudioSocketServer:
    """Accepts Asterisk's AudioSocket connections and runs `handler(call)` for each one.

    A connection is dropped (and logged) when the peer address is not allowed, the first frame is not a
    UUID within `uuid_timeout`, or the UUID is unknown under the "reject" policy. Whatever one connection
    does, including its handler raising, never reaches the others or the server.
    """

    def __init__(
        self,
        handler: CallHandler,
        host: str = "0.0.0.0",
        port: int = 9092,
        allowed_networks: str | Iterable[str | Network] = LOOPBACK_ONLY,
        max_frame_bytes: int = DEFAULT_MAX_FRAME_BYTES,
        *,
        unknown_uuid: UnknownUuidPolicy = "inbound",
        announced: Callable[[uuid.UUID], bool] | None = None,
        uuid_timeout: float = 5.0,
        queue_frames: int = 500,
    ) -> None:
        if unknown_uuid not in ("reject", "inbound"):
            raise ValueError(f"unknown_uuid must be 'reject' or 'inbound', not {unknown_uuid!r}")
        self.handler = handler
        self.host = host
        self.port = port
        self.networks = parse_networks(allowed_networks)
        self.max_frame_bytes = max_frame_bytes
        self.unknown_uuid = unknown_uuid
        self.announced = announced or (lambda _uuid: False)
        self.uuid_timeout = uuid_timeout
        self.queue_frames = queue_frames
        self.calls: dict[uuid.UUID, AudioSocketCall] = {}
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def bound_port(self) -> int:
        """The real port (useful with port=0 in tests)."""
        assert self._server is not None, "server not started"
        return self._server.sockets[0].getsockname()[1]

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._on_connect, self.host, self.port)
        log.info("AudioSocket server listening on %s:%s", self.host, self.bound_port)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()
            self._server = None

    async def __aenter__(self) -> AudioSocketServer:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    def _on_connect(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.ensure_future(self._serve(reader, writer))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = writer.get_extra_info("peername") or ("?", 0)
        try:
            call = await self._admit(reader, writer, peer)
            if call is not None:
                await self._run_call(call)
        except asyncio.CancelledError:
            pass
        except Exception:  # the server must outlive any single connection
            log.exception("AudioSocket connection from %s failed", peer[0])
        finally:
            with logged_failure(log, "closing a failed AudioSocket connection"):
                writer.close()

    async def _admit(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, peer: tuple
    ) -> AudioSocketCall | None:
        if not address_allowed(str(peer[0]), self.networks):
            log.warning("AudioSocket connection from %s refused: address not allowed", peer[0])
            return None
        decoder = FrameDecoder(self.max_frame_bytes)
        try:
            first = await asyncio.wait_for(self._first_frame(reader, decoder), self.uuid_timeout)
        except TimeoutError:
            log.warning("AudioSocket peer %s sent no UUID within %.1f s", peer[0], self.uuid_timeout)
            return None
        except (FrameError, ConnectionError, OSError) as exc:
            log.warning("AudioSocket peer %s: bad opening: %s", peer[0], exc)
            return None
        if first is None or first.kind != Kind.UUID:
            what = "nothing" if first is None else f"kind 0x{first.kind:02x}"
            log.warning("AudioSocket peer %s: first frame is %s, not a UUID", peer[0], what)
            return None
        call_uuid = uuid.UUID(bytes=first.payload)
        known = self._is_announced(call_uuid)
        if not known and self.unknown_uuid == "reject":
            log.warning("AudioSocket call %s refused: UUID not announced", call_uuid)
            return None
        if call_uuid in self.calls:
            log.warning("AudioSocket call %s refused: UUID already connected", call_uuid)
            return None
        return AudioSocketCall(
            call_uuid,
            reader,
            writer,
            decoder,
            announced=known,
            peer=(str(peer[0]), int(peer[1])),
            queue_frames=self.queue_frames,
        )

    def _is_announced(self, call_uuid: uuid.UUID) -> bool:
        try:
            return bool(self.announced(call_uuid))
        except Exception:
            log.exception("announced() hook failed for %s", call_uuid)
            return False

    @staticmethod
    async def _first_frame(reader: asyncio.StreamReader, decoder: FrameDecoder) -> Frame | None:
        """Read exactly one frame; whatever follows stays in the reader for the call's decoder."""
        try:
            header = await reader.readexactly(HEADER.size)
        except asyncio.IncompleteReadError as exc:
            if exc.partial:
                raise TruncatedFrameError("stream ended inside the first frame header") from None
            return None
        kind, size = HEADER.unpack(header)
        if size > decoder.max_frame_bytes:
            raise OversizedFrameError(f"first frame announces {size} bytes")
        try:
            payload = await reader.readexactly(size)
        except asyncio.IncompleteReadError:
            raise TruncatedFrameError("stream ended inside the first frame") from None
        frame = Frame(kind, payload)
        validate_frame(frame)
        return frame

    async def _run_call(self, call: AudioSocketCall) -> None:
        extra = {"call_uuid": str(call.uuid)}
        log.info("AudioSocket call from %s (announced=%s)", call.peer, call.announced, extra=extra)
        self.calls[call.uuid] = call
        reader_task = asyncio.create_task(call._read_loop())
        try:
            await self.handler(call)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("AudioSocket handler failed", extra=extra)
        finally:
            self.calls.pop(call.uuid, None)
            if not call.closed:
                with logged_failure(log, "hanging up the AudioSocket call"):
                    await call.hangup()
            reader_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reader_task
