"""Benchmark client for `voicebot bench burst`: an outage burst as Asterisk would present it (not a product
path).

Caller i starts at i x within / N seconds. Like Asterisk running telephony/extensions.conf, each caller
first runs the FastAGI `inbound` script (the `agi_*` header with its caller id, answering every command
with `200 result=1`) and reads VOICEBOT_UUID and VOICEBOT_ACTION from the SET VARIABLE commands. With
`dialogue` it opens the AudioSocket leg like `Dial(AudioSocket/…/c(slin16))`: the UUID frame, then a
16 kHz silent frame every 20 ms. Any other action means the dialplan's overflow: the caller did not reach
the bot, a failure here.

The leg keeps a fingerprint of what it hears — the CRC-32 of every non-silent 20 ms frame — so the parent
can check that the caller got the announcement itself, byte for byte, not just some audio. A share of the
callers (`--ask-share`) press a key once the announcement's last frame came (asking for more) and hang up `--talk`
seconds after that unless the bot hangs up first; the others stay until the bot hangs up (at most
`--max-call` seconds).

Run as `python -m voicebot.bench.burst_peer --agi-port A --audiosocket-port P --callers N --within S
--phones FILE`; the last stdout line is a JSON object of raw results.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import re
import resource
import struct
import sys
import time
import uuid
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from voicebot.bench.calls_peer import bot_frames

FRAME = 640  # 20 ms of 16 kHz int16
KIND_SLIN16 = 0x12
PERIOD = 0.02
ASK_AFTER = 0.5  # an asking caller presses its key this long after the announcement's last frame
_SET = re.compile(r'^SET VARIABLE (\S+) "?(.*?)"?$')


@dataclass
class CallerLog:
    phone: str
    asks: bool
    action: str | None = None
    call_uuid: str | None = None
    agi_ms: float | None = None  # AGI connect → the server closed the AGI session
    first_audio_ms: float | None = None  # AudioSocket connect → first non-silent frame
    heard: list[int] = field(default_factory=list)  # CRC-32 of each non-silent frame received
    audio_seconds: float = 0.0  # non-silent audio received
    bot_hangup: bool = False
    error: str | None = None


async def fastagi(host: str, port: int, log: CallerLog, index: int, dialled: str) -> dict[str, str]:
    started = time.monotonic()
    reader, writer = await asyncio.open_connection(host, port)
    header = {
        "agi_network": "yes", "agi_network_script": "inbound", "agi_request": f"agi://{host}:{port}/inbound",
        "agi_channel": f"PJSIP/trunk-{index:08x}", "agi_language": "ru", "agi_type": "PJSIP",
        "agi_uniqueid": f"1795316510.{index}", "agi_version": "22.10.1", "agi_callerid": log.phone,
        "agi_calleridname": "unknown", "agi_callingpres": "0", "agi_callingani2": "0", "agi_callington": "0",
        "agi_callingtns": "0", "agi_dnid": dialled, "agi_rdnis": "unknown", "agi_context": "voicebot-inbound",
        "agi_extension": dialled, "agi_priority": "4", "agi_enhanced": "0.0", "agi_accountcode": "",
        "agi_threadid": "139963694405312", "agi_arg_1": dialled,
    }  # fmt: skip
    writer.write(("".join(f"{k}: {v}\n" for k, v in header.items()) + "\n").encode())
    variables: dict[str, str] = {}
    try:
        while raw := await reader.readline():
            match = _SET.match(raw.decode().rstrip("\n"))
            if match:
                variables[match.group(1)] = match.group(2)
            writer.write(b"200 result=1\n")
            await writer.drain()
    finally:
        writer.close()
        with contextlib.suppress(Exception):
            await writer.wait_closed()
    log.agi_ms = (time.monotonic() - started) * 1000
    return variables


class Leg:
    def __init__(
        self, host: str, port: int, log: CallerLog, talk: float, max_call: float, expected: list[int]
    ) -> None:
        self.host, self.port, self.log, self.talk, self.max_call = host, port, log, talk, max_call
        self.expected = expected  # CRC-32 of the announcement's frames: an asking caller waits for its end
        self.matched = 0
        self.announced_at: float | None = None  # when the announcement's last frame came
        self.connected = 0.0
        self.first_voiced: float | None = None

    async def run(self) -> None:
        reader, writer = await asyncio.open_connection(self.host, self.port)
        self.connected = time.monotonic()
        writer.write(struct.pack(">BH", 0x01, 16) + uuid.UUID(self.log.call_uuid).bytes)
        receiver = asyncio.create_task(self._receive(reader))
        try:
            await self._send(writer, receiver)
        finally:
            receiver.cancel()
            with contextlib.suppress(BaseException):
                await receiver
            writer.close()

    async def _send(self, writer: asyncio.StreamWriter, receiver: asyncio.Task) -> None:
        silence = struct.pack(">BH", KIND_SLIN16, FRAME) + bytes(FRAME)
        pressed_at: float | None = None
        index = 0
        while not receiver.done():
            now = time.monotonic()
            if now - self.connected > self.max_call:
                return
            if self.log.asks and self.announced_at is not None:
                if pressed_at is None and now - self.announced_at >= ASK_AFTER:
                    writer.write(struct.pack(">BH", 0x03, 1) + b"1")
                    pressed_at = now
                elif pressed_at is not None and now - pressed_at >= self.talk:
                    return  # the caller hangs up (Asterisk closes the socket)
            try:
                writer.write(silence)
                await writer.drain()
            except ConnectionError:
                await asyncio.wait([receiver], timeout=1.0)
                if self.log.bot_hangup:
                    return  # the bot hung up while this frame went out
                raise
            index += 1
            delay = self.connected + index * PERIOD - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)

    async def _receive(self, reader: asyncio.StreamReader) -> None:
        async for payload in bot_frames(reader):
            if payload is None:
                self.log.bot_hangup = True
                return
            if any(payload):
                if self.first_voiced is None:
                    self.first_voiced = time.monotonic()
                    self.log.first_audio_ms = (self.first_voiced - self.connected) * 1000
                crc = zlib.crc32(payload)
                self.log.heard.append(crc)
                if self.matched < len(self.expected) and crc == self.expected[self.matched]:
                    self.matched += 1
                    if self.matched == len(self.expected):
                        self.announced_at = time.monotonic()
                self.log.audio_seconds += len(payload) / 2 / 16000


async def caller(
    args: argparse.Namespace, index: int, log: CallerLog, t0: float, expected: list[int]
) -> None:
    await asyncio.sleep(max(0.0, t0 + args.within * index / args.callers - time.monotonic()))
    phase = "fastagi"
    try:
        variables = await fastagi(args.host, args.agi_port, log, index, args.dialled)
        log.action, log.call_uuid = variables.get("VOICEBOT_ACTION"), variables.get("VOICEBOT_UUID")
        if log.action != "dialogue" or not log.call_uuid:
            return  # the dialplan would play the overflow message: this caller never reached the bot
        phase = "audiosocket"
        await Leg(args.host, args.audiosocket_port, log, args.talk, args.max_call, expected).run()
    except Exception as exc:  # a failed call is a result, not a crash of the benchmark
        log.error = f"{phase}: {exc!r}"


async def run(args: argparse.Namespace, phones: list[str], expected: list[int]) -> dict[str, Any]:
    every = round(1 / args.ask_share) if args.ask_share > 0 else 0
    logs = [
        CallerLog(phones[i % len(phones)], bool(every) and i % every == every - 1)
        for i in range(args.callers)
    ]
    t0 = time.monotonic()
    await asyncio.gather(*(caller(args, i, log, t0, expected) for i, log in enumerate(logs)))
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return {
        "callers": [log.__dict__ for log in logs],
        "wall_seconds": time.monotonic() - t0,
        "client_cpu_seconds": usage.ru_utime + usage.ru_stime,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--agi-port", type=int, required=True)
    parser.add_argument("--audiosocket-port", type=int, required=True)
    parser.add_argument("--callers", type=int, default=300)
    parser.add_argument("--within", type=float, default=60.0)
    parser.add_argument("--phones", type=Path, required=True, help="caller numbers, one a line")
    parser.add_argument(
        "--expected", type=Path, required=True, help="JSON: CRC-32 of the announcement frames"
    )
    parser.add_argument("--dialled", default="74951234567")
    parser.add_argument("--ask-share", type=float, default=0.1, help="share of callers who ask for more")
    parser.add_argument(
        "--talk", type=float, default=8.0, help="seconds an asking caller stays after the key"
    )
    parser.add_argument("--max-call", type=float, default=120.0)
    args = parser.parse_args(argv)
    phones = [p for p in args.phones.read_text().split() if p]
    expected = json.loads(args.expected.read_text())
    sys.stdout.write(json.dumps(asyncio.run(run(args, phones, expected))) + "\n")


if __name__ == "__main__":
    main()
