"""The browser voice channel: talk to any scenario from a microphone, no telephone line needed.

Protocol on `/ws/voice/{scenario}`:
1. the client sends one JSON text message: `{"sample_rate": 16000, "phone": "+7...", "vars": {...}}`
   (`sample_rate` 8000 or 16000, default 16000; `phone`, `vars` and `direction` optional);
2. then binary messages of int16 little-endian mono PCM at that rate (any length; 20 ms is typical), and
   optionally JSON `{"type": "dtmf", "digits": "123#"}` or `{"type": "hangup"}`;
3. the server sends binary PCM of the bot's voice at the same rate, paced in real time, and JSON text
   messages `{"type": "bot", "text": ...}`, `{"type": "caller", "text": ...}`, finally
   `{"type": "end", "outcome": ...}` before it closes. Errors: `{"type": "error", "message": ...}` and a
   close with code 1008 (bad request) or 1013 (voice channel not running).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from voicebot.calls.voice import CallSpec
from voicebot.dialogue.sandbox import Sandbox
from voicebot.logs import logged_failure
from voicebot.media.frames import AudioFrame, DtmfFrame, HangupFrame, InboundFrame
from voicebot.values import parse_phone

log = logging.getLogger(__name__)

router = APIRouter()

RATES = (8000, 16000)
HELLO_TIMEOUT = 10.0
MAX_MESSAGE_BYTES = 64000  # 2 s at 16 kHz; a microphone sends far smaller chunks
DTMF_KEYS = frozenset("0123456789*#")
BAD_REQUEST, TRY_AGAIN_LATER = 1008, 1013
POLICY_VIOLATION = 1008


class BadHello(ValueError):
    pass


@dataclass
class Admission:
    """The app's gate's answer for one socket: the caller's role, what to call when the socket closes,
    or `retry_after` seconds when the caller is over its socket rate or concurrency."""

    role: str
    release: Callable[[], None] | None = None
    retry_after: int = 0


class WebSocketTransport:
    """A `CallTransport` over one accepted WebSocket."""

    def __init__(self, websocket: WebSocket, sample_rate: int, queue_frames: int = 500) -> None:
        self.websocket = websocket
        self._rate = sample_rate
        self._queue: asyncio.Queue[InboundFrame] = asyncio.Queue(maxsize=queue_frames)
        self._closed = False
        self._reader: asyncio.Task[None] | None = None
        self._send_lock = asyncio.Lock()

    @property
    def sample_rate(self) -> int | None:
        return self._rate

    @property
    def closed(self) -> bool:
        return self._closed

    def start(self) -> None:
        self._reader = asyncio.create_task(self._read_loop(), name="ws-voice-reader")

    async def stop(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader

    async def frames(self) -> AsyncIterator[InboundFrame]:
        while True:
            frame = await self._queue.get()
            yield frame
            if isinstance(frame, HangupFrame):
                self._queue.put_nowait(frame)
                return

    async def send_audio(self, pcm: bytes, sample_rate: int | None = None) -> None:
        if sample_rate is not None and sample_rate != self._rate:
            raise ValueError(f"the browser call runs at {self._rate} Hz, not {sample_rate}")
        if self._closed:
            raise ConnectionError("the browser call is over")
        if pcm:
            await self._send(bytes_=pcm)

    async def send_event(self, event: dict[str, Any]) -> None:
        """Transcripts and the end event; they still go out after the bot hung up the audio."""
        with logged_failure(log, "sending an event to the browser (it may have left)"):
            await self._send(text=json.dumps(event, ensure_ascii=False, default=str))

    async def hangup(self) -> None:
        # The socket stays open for the final JSON event; the endpoint closes it.
        self._finish("bot")

    async def _send(self, *, bytes_: bytes | None = None, text: str | None = None) -> None:
        async with self._send_lock:
            try:
                if bytes_ is not None:
                    await self.websocket.send_bytes(bytes_)
                else:
                    await self.websocket.send_text(text or "")
            except (WebSocketDisconnect, RuntimeError) as exc:
                self._finish("caller")
                raise ConnectionError(str(exc)) from exc

    async def _read_loop(self) -> None:
        reason = "caller"
        try:
            while not self._closed:
                message = await self.websocket.receive()
                if message["type"] == "websocket.disconnect":
                    break
                if message.get("bytes") is not None:
                    self._on_audio(message["bytes"])
                elif message.get("text") is not None and self._on_control(message["text"]):
                    break
        except (WebSocketDisconnect, RuntimeError):
            pass
        except ValueError as exc:
            reason = "protocol_error"
            log.warning("browser call: %s", exc)
            await self.send_event({"type": "error", "message": str(exc)})
        self._finish(reason)

    def _on_audio(self, data: bytes) -> None:
        if len(data) % 2 or len(data) > MAX_MESSAGE_BYTES:
            raise ValueError(f"audio messages are int16 PCM of at most {MAX_MESSAGE_BYTES} bytes")
        if data:
            self._put(AudioFrame(data, self._rate, asyncio.get_running_loop().time()))

    def _on_control(self, text: str) -> bool:
        """Returns True when the client hung up."""
        try:
            message = json.loads(text)
        except ValueError:
            raise ValueError("text messages must be JSON") from None
        kind = message.get("type") if isinstance(message, dict) else None
        if kind == "hangup":
            return True
        if kind == "dtmf":
            digits = str(message.get("digits", ""))
            if not digits or set(digits) - DTMF_KEYS:
                raise ValueError("dtmf digits are 0-9, * and #")
            now = asyncio.get_running_loop().time()
            for digit in digits:
                self._put(DtmfFrame(digit, now))
            return False
        raise ValueError(f"unknown message type {kind!r}")

    def _put(self, frame: InboundFrame) -> None:
        if self._queue.full():
            self._queue.get_nowait()  # never block the reader: the hang-up must get through
        self._queue.put_nowait(frame)

    def _finish(self, reason: str) -> None:
        if self._closed:
            return
        self._closed = True
        self._put(HangupFrame(reason, asyncio.get_running_loop().time()))


def parse_hello(raw: Any, scenarios: set[str], scenario: str) -> tuple[int, CallSpec]:
    if scenario not in scenarios:
        raise BadHello(f"unknown scenario {scenario!r}; known: {', '.join(sorted(scenarios))}")
    if not isinstance(raw, dict):
        raise BadHello("the first message must be a JSON object")
    rate = raw.get("sample_rate", 16000)
    if rate not in RATES:
        raise BadHello("sample_rate must be 8000 or 16000")
    variables = raw.get("vars") or {}
    if not isinstance(variables, dict):
        raise BadHello("vars must be an object")
    direction = raw.get("direction")
    if direction not in (None, "inbound", "outbound"):
        raise BadHello("direction must be inbound or outbound")
    phone = raw.get("phone")
    try:
        phone = parse_phone(str(phone)) if phone else None
    except ValueError as exc:
        raise BadHello(str(exc)) from None
    spec = CallSpec(scenario, phone=phone, variables=dict(variables), direction=direction, channel="web")
    return rate, spec


def _engine(websocket: WebSocket) -> Any:
    return getattr(websocket.app.state, "voice_engine", None)


async def _refuse(websocket: WebSocket, code: int, message: str) -> None:
    with logged_failure(log, "telling the browser why it was refused"):
        await websocket.send_text(json.dumps({"type": "error", "message": message}, ensure_ascii=False))
        await websocket.close(code=code)


@router.websocket("/ws/voice/{scenario}")
async def voice_socket(websocket: WebSocket, scenario: str) -> None:
    # The app decides who may talk to the bot (a signed-in user or an API key); without a gate, nobody.
    allowed = getattr(websocket.app.state, "voice_socket_allowed", None)
    admission = await allowed(websocket) if allowed is not None else None
    if isinstance(admission, str):
        admission = Admission(admission)
    if not admission or not admission.role:
        await websocket.close(code=POLICY_VIOLATION)
        return
    await websocket.accept()
    if admission.retry_after:
        with logged_failure(log, "telling the browser to slow down"):
            await websocket.send_text(json.dumps({
                "type": "error", "retry_after": admission.retry_after,
                "message": f"Слишком много подключений микрофона. Повторите через {admission.retry_after} с.",
            }, ensure_ascii=False))  # fmt: skip
            await websocket.close(code=TRY_AGAIN_LATER)
        return
    try:
        await _serve(websocket, scenario, admission.role)
    finally:
        if admission.release is not None:
            admission.release()


async def _serve(websocket: WebSocket, scenario: str, role: str) -> None:
    engine = _engine(websocket)
    if engine is None:
        await _refuse(websocket, TRY_AGAIN_LATER, "the voice channel is not running")
        return
    try:
        hello = json.loads(await asyncio.wait_for(websocket.receive_text(), HELLO_TIMEOUT))
        rate, spec = parse_hello(hello, set(engine.library.flows), scenario)
        spec.sandbox = Sandbox.for_role(role)  # a test call: writes nothing, residents by role
        if spec.direction and spec.direction not in engine.library.get(scenario).directions:
            raise BadHello(f"scenario {scenario} does not take {spec.direction} calls")
    except (BadHello, ValueError, TimeoutError, KeyError) as exc:
        await _refuse(websocket, BAD_REQUEST, str(exc) or "no opening message")
        return
    except (WebSocketDisconnect, RuntimeError):
        return
    transport = WebSocketTransport(websocket, rate)
    transport.start()
    try:
        await engine.run(transport, spec, notify=transport.send_event)
    finally:
        await transport.stop()
        with logged_failure(log, "closing the browser WebSocket"):
            await websocket.close()
