"""Benchmark client: N emulated Asterisk AudioSocket legs calling the bot for a while (not a product path).

Each leg behaves like Asterisk's channel driver with `c(slin16)`: UUID frame, then one 20 ms frame of
16 kHz audio every 20 ms for the whole call (silence unless the "caller" speaks). The caller waits until
the bot has been quiet for a moment, says its phrase, and notes when its speech started and ended (on the
machine's monotonic clock, which the server shares, so the server can tell which of its turns answers which
utterance). `--speech-share` spaces the utterances out so the caller talks that share of the call at most.
No utterance starts later than `ANSWER_WINDOW` before the end, so every one has its full chance of a reply.
When the bot ends a call, the leg dials again until time is up.

Run as `python -m voicebot.bench.calls_peer --host H --port P --concurrency N --duration S --speech F`;
the last stdout line is a JSON object of raw results (per call: its UUID, utterances, and when the first
non-silent bot audio came after each).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import resource
import struct
import sys
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

RATE = 16000
KIND_SLIN16 = 0x12
FRAME = RATE * 20 // 1000 * 2
PERIOD = 0.02
QUIET_BEFORE_SPEAKING = 0.5  # the caller answers once the bot has been quiet this long
ANSWER_WINDOW = 3.0  # an utterance not answered within this long counts as unanswered


@dataclass
class CallLog:
    uuid: str
    # [speech start, speech end, first non-silent bot frame after the end or None], monotonic seconds
    utterances: list[list[float | None]] = field(default_factory=list)
    completed: bool = False  # the bot hung up (0x00)
    error: str | None = None


@dataclass
class Results:
    calls: list[CallLog] = field(default_factory=list)
    talk_seconds: float = 0.0  # caller speech sent, over all legs
    call_seconds: float = 0.0  # connected time, over all legs
    frames_late: int = 0  # frames this client sent more than 10 ms late (a busy client spoils the numbers)

    def as_json(self) -> dict[str, Any]:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return {
            "calls": [c.__dict__ for c in self.calls],
            "talk_seconds": self.talk_seconds,
            "call_seconds": self.call_seconds,
            "frames_late": self.frames_late,
            "client_cpu_seconds": usage.ru_utime + usage.ru_stime,
        }


class Leg:
    def __init__(self, host: str, port: int, speech: bytes, share: float, results: Results) -> None:
        self.host, self.port, self.speech, self.share, self.results = host, port, speech, share, results
        self.log = CallLog(str(uuid.uuid4()))
        self.last_voiced = 0.0  # monotonic time of the bot's last non-silent frame
        self.next_allowed = 0.0  # the speech share: no utterance before this
        self.current: list[float | None] | None = None  # the utterance waiting for its answer

    async def run(self, stop_at: float) -> None:
        reader, writer = await asyncio.open_connection(self.host, self.port)
        connected = time.monotonic()
        writer.write(struct.pack(">BH", 0x01, 16) + uuid.UUID(self.log.uuid).bytes)
        receiver = asyncio.create_task(self._receive(reader))
        try:
            await self._send_loop(writer, stop_at, receiver)
        finally:
            receiver.cancel()
            with contextlib.suppress(BaseException):
                await receiver
            writer.close()
            self.results.call_seconds += time.monotonic() - connected

    async def _send_loop(self, writer: asyncio.StreamWriter, stop_at: float, receiver: asyncio.Task) -> None:
        pending = b""  # speech still to send
        start = time.monotonic()
        index = 0
        while not receiver.done() and time.monotonic() < stop_at:
            now = time.monotonic()
            if not pending and self._may_speak(now, stop_at):
                pending = self.speech + bytes(-len(self.speech) % FRAME)
                self.current = [now, None, None]
                self.log.utterances.append(self.current)
                self.results.talk_seconds += len(pending) / 2 / RATE
            speaking = bool(pending)
            chunk, pending = (pending[:FRAME], pending[FRAME:]) if speaking else (bytes(FRAME), b"")
            writer.write(struct.pack(">BH", KIND_SLIN16, FRAME) + chunk)
            await writer.drain()
            if speaking and not pending and self.current is not None:
                end = time.monotonic() + PERIOD  # the frame just sent is heard for 20 ms more
                self.current[1] = end
                talk = end - float(self.current[0] or end)
                self.next_allowed = end + talk * (1 - self.share) / self.share
            index += 1
            delay = start + index * PERIOD - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            elif delay < -0.01:
                self.results.frames_late += 1

    def _may_speak(self, now: float, stop_at: float) -> bool:
        if now + len(self.speech) / 2 / RATE + ANSWER_WINDOW > stop_at or now < self.next_allowed:
            return False
        waiting = self.current is not None and self.current[2] is None
        if waiting and now - float(self.current[1] or now) < ANSWER_WINDOW:  # type: ignore[index]
            return False  # give the bot its chance to answer first
        return self.last_voiced > 0 and now - self.last_voiced >= QUIET_BEFORE_SPEAKING

    async def _receive(self, reader: asyncio.StreamReader) -> None:
        async for payload in bot_frames(reader):
            if payload is None:
                self.log.completed = True
                return
            if any(payload):
                now = time.monotonic()
                self.last_voiced = now
                current = self.current
                if current is not None and current[1] is not None and current[2] is None and now > current[1]:
                    current[2] = now


async def bot_frames(reader: asyncio.StreamReader) -> AsyncIterator[bytes | None]:
    """The audio payloads the bot sends, then None for its hang-up frame; ends when the socket closes."""
    while True:
        try:
            kind, size = struct.unpack(">BH", await reader.readexactly(3))
        except (asyncio.IncompleteReadError, ConnectionError):
            return
        if kind == 0x00:
            yield None
            return
        if size == 0 or kind not in range(0x10, 0x19):
            raise ValueError(f"protocol violation: kind 0x{kind:02x}, {size} bytes")
        yield await reader.readexactly(size)


async def caller_slot(
    host: str, port: int, speech: bytes, share: float, stop_at: float, results: Results
) -> None:
    while time.monotonic() < stop_at:
        leg = Leg(host, port, speech, share, results)
        results.calls.append(leg.log)
        try:
            await leg.run(stop_at)
        except Exception as exc:  # a failed call is a result, not a crash of the benchmark
            leg.log.error = repr(exc)
            await asyncio.sleep(0.5)
            continue
        if not leg.log.completed and time.monotonic() < stop_at:
            leg.log.error = "the bot closed the call without a hang-up frame"


async def run(
    host: str, port: int, concurrency: int, duration: float, speech: bytes, ramp: float, share: float
) -> Results:
    results = Results()
    stop_at = time.monotonic() + duration

    async def delayed(i: int) -> None:
        await asyncio.sleep(ramp * i / max(1, concurrency))
        await caller_slot(host, port, speech, share, stop_at, results)

    await asyncio.gather(*(delayed(i) for i in range(concurrency)))
    return results


def trim(pcm: bytes, threshold: int = 300) -> bytes:
    """Cut leading and trailing near-silence, so the speech ends where the voice does."""
    samples = memoryview(pcm).cast("h")
    loud = [i for i in range(len(samples)) if abs(samples[i]) > threshold]
    return pcm[loud[0] * 2 : (loud[-1] + 1) * 2] if loud else pcm


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--concurrency", type=int, default=1)
    parser.add_argument("--duration", type=float, default=30.0)
    parser.add_argument("--ramp", type=float, default=5.0, help="seconds over which the calls start")
    parser.add_argument("--speech-share", type=float, default=0.3, help="most of a call the caller talks")
    parser.add_argument("--speech", type=Path, required=True, help="16 kHz int16 mono PCM the caller says")
    args = parser.parse_args(argv)
    if not 0 < args.speech_share <= 1:
        parser.error("--speech-share must be in (0, 1]")
    speech = trim(args.speech.read_bytes())
    results = asyncio.run(
        run(args.host, args.port, args.concurrency, args.duration, speech, args.ramp, args.speech_share)
    )
    sys.stdout.write(json.dumps(results.as_json()) + "\n")


if __name__ == "__main__":
    main()
