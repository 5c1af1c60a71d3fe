"""Benchmark client: N emulated Asterisk AudioSocket legs calling the bot for a while (not a product path).

Each leg behaves like Asterisk's channel driver with `c(slin16)`: UUID frame, then one 20 ms frame of
16 kHz audio every 20 ms for the whole call (silence unless the "caller" speaks). The caller waits for the
bot to finish speaking, says its phrase, and measures the time from the end of its speech to the first
non-silent frame of the bot's answer. When the bot ends a call, the leg dials again until time is up.

Run as `python -m voicebot.bench.calls_peer --host H --port P --concurrency N --duration S --speech F`;
the last stdout line is a JSON object of raw results.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import struct
import sys
import uuid
from dataclasses import dataclass, field
from pathlib import Path

RATE = 16000
KIND_SLIN16 = 0x12
FRAME = RATE * 20 // 1000 * 2
PERIOD = 0.02
QUIET_BEFORE_SPEAKING = 0.5  # the caller answers once the bot has been quiet this long
NO_ANSWER_AFTER = 6.0  # a response slower than this counts as none (the bot ignored the utterance)


@dataclass
class Results:
    calls_completed: int = 0
    calls_failed: int = 0
    utterances: int = 0
    unanswered: int = 0
    latencies_ms: list[float] = field(default_factory=list)
    talk_seconds: float = 0.0  # caller speech sent, over all legs
    call_seconds: float = 0.0  # connected time, over all legs
    failures: list[str] = field(default_factory=list)


class Leg:
    def __init__(self, host: str, port: int, speech: bytes, results: Results) -> None:
        self.host, self.port, self.speech, self.results = host, port, speech, results
        self.last_voiced = 0.0  # loop time of the bot's last non-silent frame
        self.first_voiced_after: float | None = None
        self.speech_end: float | None = None
        self.bot_hung_up = False

    async def run(self, stop_at: float) -> None:
        reader, writer = await asyncio.open_connection(self.host, self.port)
        connected = asyncio.get_running_loop().time()
        writer.write(struct.pack(">BH", 0x01, 16) + uuid.uuid4().bytes)
        receiver = asyncio.create_task(self._receive(reader))
        try:
            await self._send_loop(writer, stop_at, receiver)
        finally:
            receiver.cancel()
            with contextlib.suppress(BaseException):
                await receiver
            writer.close()
            self.results.call_seconds += asyncio.get_running_loop().time() - connected
        if self.bot_hung_up:
            self.results.calls_completed += 1

    async def _send_loop(self, writer: asyncio.StreamWriter, stop_at: float, receiver: asyncio.Task) -> None:
        loop = asyncio.get_running_loop()
        pending = b""  # speech still to send
        start = loop.time()
        index = 0
        while not receiver.done() and loop.time() < stop_at:
            now = loop.time()
            self._check_answer(now)
            if not pending and self.speech_end is None and self._bot_quiet(now):
                pending = self.speech + bytes(-len(self.speech) % FRAME)
                self.results.utterances += 1
                self.results.talk_seconds += len(pending) / 2 / RATE
            speaking = bool(pending)
            chunk, pending = (pending[:FRAME], pending[FRAME:]) if speaking else (bytes(FRAME), b"")
            writer.write(struct.pack(">BH", KIND_SLIN16, FRAME) + chunk)
            await writer.drain()
            if speaking and not pending:
                self.speech_end = loop.time() + PERIOD  # the frame just sent is heard for 20 ms more
            index += 1
            delay = start + index * PERIOD - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)

    def _bot_quiet(self, now: float) -> bool:
        return self.last_voiced > 0 and now - self.last_voiced >= QUIET_BEFORE_SPEAKING

    def _check_answer(self, now: float) -> None:
        if self.speech_end is None:
            return
        if self.first_voiced_after is not None:
            self.results.latencies_ms.append((self.first_voiced_after - self.speech_end) * 1000)
            self.speech_end = self.first_voiced_after = None
        elif now - self.speech_end > NO_ANSWER_AFTER:
            self.results.unanswered += 1
            self.speech_end = None
            self.last_voiced = now - QUIET_BEFORE_SPEAKING  # speak again

    async def _receive(self, reader: asyncio.StreamReader) -> None:
        loop = asyncio.get_running_loop()
        while True:
            try:
                kind, size = struct.unpack(">BH", await reader.readexactly(3))
            except (asyncio.IncompleteReadError, ConnectionError):
                return
            if kind == 0x00:
                self.bot_hung_up = True
                return
            if size == 0 or kind not in range(0x10, 0x19):
                raise ValueError(f"protocol violation: kind 0x{kind:02x}, {size} bytes")
            payload = await reader.readexactly(size)
            if any(payload):
                now = loop.time()
                self.last_voiced = now
                if self.speech_end is not None and self.first_voiced_after is None and now > self.speech_end:
                    self.first_voiced_after = now


async def caller_slot(host: str, port: int, speech: bytes, stop_at: float, results: Results) -> None:
    loop = asyncio.get_running_loop()
    while loop.time() < stop_at:
        leg = Leg(host, port, speech, results)
        try:
            await leg.run(stop_at)
        except Exception as exc:  # a failed call is a result, not a crash of the benchmark
            results.calls_failed += 1
            results.failures.append(repr(exc))
            await asyncio.sleep(0.5)
            continue
        if not leg.bot_hung_up and loop.time() < stop_at:
            results.calls_failed += 1
            results.failures.append("the bot closed the call without a hang-up frame")


async def run(host: str, port: int, concurrency: int, duration: float, speech: bytes, ramp: float) -> Results:
    results = Results()
    loop = asyncio.get_running_loop()
    stop_at = loop.time() + duration

    async def delayed(i: int) -> None:
        await asyncio.sleep(ramp * i / max(1, concurrency))
        await caller_slot(host, port, speech, stop_at, results)

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
    parser.add_argument("--speech", type=Path, required=True, help="16 kHz int16 mono PCM the caller says")
    args = parser.parse_args(argv)
    speech = trim(args.speech.read_bytes())
    results = asyncio.run(run(args.host, args.port, args.concurrency, args.duration, speech, args.ramp))
    sys.stdout.write(json.dumps(results.__dict__) + "\n")


if __name__ == "__main__":
    main()
