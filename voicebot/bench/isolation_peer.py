"""Benchmark client of `voicebot bench isolation` (not a product path): emulated Asterisk legs that
time every audio frame they receive, and, part-way through, a burst of HTTP API requests.

What a caller hears is the gap between consecutive frames: the bot sends one 20 ms frame every 20 ms
(silence when quiet), so a frame's lateness is its gap minus 20 ms, and a gap over 200 ms is audible
silence. Nothing is taken on trust: a leg that gets no audio, only silence (no greeting within 5 s), one
the bot drops without its hang-up frame, and one that fails to connect are failed calls; the silence from a leg's last frame to the moment
it hangs up counts as a gap; and the frames received are compared with the frames the call's length
calls for. The legs run here, in their own process, and the burst in a process of its own (reading
80 000-row exports would otherwise delay this one's clock readings); this process's own timer lag is
reported beside the results (a starved client also sees gaps).

Run as `python -m voicebot.bench.isolation_peer --audio-port P --http-port H --key K --campaign C …`;
the last stdout line is a JSON object of raw results.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import struct
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

RATE = 16000
FRAME = RATE * 20 // 1000 * 2  # bytes of one 20 ms slin16 frame
PERIOD = 0.02
GAP = 0.2  # a gap longer than this is silence the caller notices
KIND_HANGUP, KIND_UUID, KIND_SLIN16 = 0x00, 0x01, 0x12
QUIET_BEFORE_SPEAKING = 0.5  # the caller speaks once the bot has been quiet this long
SPEECH_SHARE = 0.3  # and talks at most this share of the call
MIN_COVERAGE = 0.95  # frames received / frames the call's length calls for
MUTE_AFTER = 5.0  # a call this long in which the bot said nothing was not served (silence frames only)


@dataclass
class LegLog:
    connected: float = 0.0
    ended: float = 0.0
    arrivals: list[float] = field(default_factory=list)  # when each audio frame's header arrived
    ended_by: str = ""  # "us" (time is up), "bot" (its hang-up frame), "closed" (dropped), "error: …"
    last_voiced: float = 0.0  # 0: the bot never said anything

    @property
    def failed(self) -> bool:
        """No audio, a call that ended badly, or one where the bot stayed silent (no greeting) for 5 s."""
        mute = not self.last_voiced and self.ended - self.connected >= MUTE_AFTER
        return not self.arrivals or self.ended_by not in ("us", "bot") or mute

    def gaps(self) -> list[float]:
        """Gaps between frames, and the silence from the last frame to our hang-up."""
        gaps = [b - a for a, b in zip(self.arrivals, self.arrivals[1:], strict=False)]
        if self.arrivals and self.ended_by == "us":
            gaps.append(max(0.0, self.ended - self.arrivals[-1] - PERIOD))
        return gaps

    def expected_frames(self) -> float:
        if not self.arrivals:
            return 0.0
        end = self.ended if self.ended_by == "us" else self.arrivals[-1]
        return (end - self.arrivals[0]) / PERIOD + 1


async def _receive(reader: asyncio.StreamReader, log: LegLog) -> None:
    while True:
        try:
            kind, size = struct.unpack(">BH", await reader.readexactly(3))
        except (asyncio.IncompleteReadError, ConnectionError):
            log.ended_by = log.ended_by or "closed"
            return
        if kind == KIND_HANGUP:
            log.ended_by = "bot"
            return
        arrived = time.monotonic()
        payload = await reader.readexactly(size) if size else b""
        if 0x10 <= kind <= 0x18:
            log.arrivals.append(arrived)
            if any(payload):
                log.last_voiced = arrived


async def leg(port: int, speech: bytes, stop_at: float, log: LegLog) -> None:
    """One call: UUID, then a 20 ms frame every 20 ms (the caller's phrase now and then) until time is up
    or the bot hangs up."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    log.connected = time.monotonic()
    writer.write(struct.pack(">BH", KIND_UUID, 16) + uuid.uuid4().bytes)
    receiver = asyncio.create_task(_receive(reader, log))
    pending, next_allowed, index = b"", 0.0, 0
    try:
        while not receiver.done() and time.monotonic() < stop_at:
            now = time.monotonic()
            quiet = log.last_voiced and now - log.last_voiced >= QUIET_BEFORE_SPEAKING
            if not pending and quiet and now >= next_allowed:
                pending = speech + bytes(-len(speech) % FRAME)
                talk = len(pending) / 2 / RATE
                next_allowed = now + talk / SPEECH_SHARE
            chunk, pending = (pending[:FRAME], pending[FRAME:]) if pending else (bytes(FRAME), b"")
            writer.write(struct.pack(">BH", KIND_SLIN16, FRAME) + chunk)
            await writer.drain()
            index += 1
            await asyncio.sleep(max(0.0, log.connected + index * PERIOD - time.monotonic()))
        if not receiver.done():
            log.ended_by = "us"  # and hang up as Asterisk does: by closing the connection
    finally:
        log.ended = time.monotonic()
        receiver.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await receiver
        writer.close()


async def slot(port: int, speech: bytes, stop_at: float, logs: list[LegLog]) -> None:
    """One line: calls again when the bot ends a call, until time is up."""
    while time.monotonic() < stop_at - 1.0:
        log = LegLog()
        logs.append(log)
        try:
            await leg(port, speech, stop_at, log)
        except Exception as exc:  # a failed call is a result
            log.ended_by = f"error: {exc!r}"[:200]
            await asyncio.sleep(0.5)


async def burst(args: argparse.Namespace) -> dict[str, Any]:
    base = f"http://127.0.0.1:{args.http_port}"
    headers = {"Authorization": f"Bearer {args.key}"}
    cid = args.campaign
    paths = [f"/api/v1/campaigns/{cid}/results?format=csv"] * args.exports
    light = [f"/api/v1/campaigns/{cid}", f"/api/v1/campaigns/{cid}/progress", "/api/v1/campaigns", "/healthz"]
    paths += [light[i % len(light)] for i in range(args.burst - args.exports)]
    limits = httpx.Limits(max_connections=args.burst, max_keepalive_connections=0)
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=300, limits=limits) as http:

        async def one(path: str) -> tuple[str, int, float, int]:
            started = time.monotonic()
            try:
                response = await http.get(path)
                return path, response.status_code, time.monotonic() - started, len(response.content)
            except httpx.HTTPError as exc:
                return path, -1, time.monotonic() - started, len(repr(exc))

        started = time.monotonic()
        answers = await asyncio.gather(*(one(p) for p in paths))
    statuses: dict[str, int] = {}
    for _, status, _, _ in answers:
        statuses[str(status)] = statuses.get(str(status), 0) + 1
    exports = [(status, size) for path, status, _, size in answers if "results" in path]
    return {
        "burst_started": started,
        "burst_seconds": round(time.monotonic() - started, 2),
        "statuses": statuses,
        "exports_served": sum(1 for status, _ in exports if status == 200),
        "export_mb": round(max((size for status, size in exports if status == 200), default=0) / 1e6, 1),
        "slowest_s": round(max(d for _, _, d, _ in answers), 2),
    }


def _pct(values: list[float], q: float) -> float | None:
    return round(values[min(len(values) - 1, int(q * len(values)))] * 1000, 1) if values else None


def frame_stats(logs: list[LegLog], window: tuple[float, float] | None = None) -> dict[str, Any]:
    """Lateness of every frame gap, the longest gap, and the calls with an audible gap (a failed call
    counts as one: it got no audio, or lost it)."""
    lateness: list[float] = []
    gapped = 0
    worst = 0.0
    for log in logs:
        gaps = log.gaps()
        if window is not None:  # gaps that ended inside the window
            ends = [*log.arrivals[1:], log.ended][: len(gaps)]
            gaps = [g for g, end in zip(gaps, ends, strict=False) if window[0] <= end <= window[1]]
        lateness += [max(0.0, g - PERIOD) for g in gaps]
        if (gaps and max(gaps) > GAP) or (window is None and log.failed):
            gapped += 1
        worst = max([worst, *gaps])
    lateness.sort()
    received = sum(len(log.arrivals) for log in logs)
    expected = sum(log.expected_frames() for log in logs)
    return {"frames": len(lateness), "lateness_p50_ms": _pct(lateness, 0.5),
            "lateness_p99_ms": _pct(lateness, 0.99),
            "lateness_max_ms": round(lateness[-1] * 1000, 1) if lateness else None,
            "max_gap_ms": round(worst * 1000, 1), "calls_with_gaps": gapped,
            "coverage": round(received / expected, 3) if expected else 0.0}  # fmt: skip


async def timer_lag(stop: asyncio.Event, lags: list[float], period: float = 0.01) -> None:
    """This process's own lateness: a client starved of CPU sees gaps that are not the server's."""
    while not stop.is_set():
        due = time.monotonic() + period
        await asyncio.sleep(period)
        lags.append(max(0.0, time.monotonic() - due))


async def burst_elsewhere(argv: list[str]) -> dict[str, Any]:
    """The burst in a child process (`--burst-only`); its monotonic clock is this machine's, like ours."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "voicebot.bench.isolation_peer",
        *argv,
        "--burst-only",
        stdout=asyncio.subprocess.PIPE,
    )
    out, _ = await proc.communicate()
    lines = out.decode().strip().splitlines()
    if proc.returncode != 0 or not lines:
        raise RuntimeError(f"the burst client failed (exit {proc.returncode})")
    return json.loads(lines[-1])


async def run(args: argparse.Namespace, argv: list[str] | None = None) -> dict[str, Any]:
    raw = args.speech.read_bytes()
    speech = raw[: len(raw) - len(raw) % 2]
    logs: list[LegLog] = []
    stop_at = time.monotonic() + args.duration
    tasks = [asyncio.ensure_future(slot(args.audio_port, speech, stop_at, logs)) for _ in range(args.calls)]
    done, lags = asyncio.Event(), []
    lag_task = asyncio.create_task(timer_lag(done, lags))
    await asyncio.sleep(args.burst_at)
    load = await burst_elsewhere(sys.argv[1:] if argv is None else argv)
    burst_window = (load["burst_started"], load["burst_started"] + load["burst_seconds"])
    await asyncio.gather(*tasks)
    done.set()
    await lag_task
    lags.sort()
    failed = [log for log in logs if log.failed]
    return {
        "calls": len(logs),
        "calls_failed": len(failed),
        "failures": [f"{log.ended_by or 'no audio'} ({len(log.arrivals)} frames)" for log in failed][:5],
        "calls_ended_by_bot": sum(1 for log in logs if log.ended_by == "bot"),
        "all": frame_stats(logs),
        "during_burst": frame_stats(logs, burst_window),
        "burst": {k: v for k, v in load.items() if k != "burst_started"},
        "client_lag_ms": {"p99": _pct(lags, 0.99), "max": round(lags[-1] * 1000, 1) if lags else None},
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--audio-port", type=int, required=True)
    parser.add_argument("--http-port", type=int, required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--campaign", type=int, required=True)
    parser.add_argument("--calls", type=int, default=20)
    parser.add_argument("--duration", type=float, default=40.0)
    parser.add_argument("--burst", type=int, default=200)
    parser.add_argument("--exports", type=int, default=10)
    parser.add_argument("--burst-at", type=float, default=10.0)
    parser.add_argument("--speech", type=Path, required=True)
    parser.add_argument(
        "--burst-only", action="store_true", help="Only the API burst (run by the legs' process)"
    )
    args = parser.parse_args(argv)
    result = asyncio.run(burst(args) if args.burst_only else run(args, argv))
    sys.stdout.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
