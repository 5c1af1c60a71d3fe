"""Benchmark client of `voicebot bench isolation` (not a product path): emulated Asterisk legs that
time every audio frame they receive, and, part-way through, a burst of HTTP API requests.

What a caller hears is the gap between consecutive frames: the bot sends one 20 ms frame every 20 ms
(silence when quiet), so a frame's lateness is its gap minus 20 ms, and a gap over 200 ms is audible
silence. The legs and the burst run here, in their own process, so they do not disturb what they measure.

Run as `python -m voicebot.bench.isolation_peer --audio-port P --http-port H --key K --campaign C …`;
the last stdout line is a JSON object of raw results.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from voicebot.bench.calls_peer import PERIOD, Leg, Results, trim

GAP = 0.2  # a gap longer than this is silence the caller notices


class TimedReader:
    """A StreamReader that notes when each AudioSocket frame header arrives."""

    def __init__(self, reader: asyncio.StreamReader, arrivals: list[float]) -> None:
        self.reader, self.arrivals = reader, arrivals

    async def readexactly(self, n: int) -> bytes:
        data = await self.reader.readexactly(n)
        if n == 3:
            self.arrivals.append(time.monotonic())
        return data


class TimedLeg(Leg):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.arrivals: list[float] = []

    async def _receive(self, reader: asyncio.StreamReader) -> None:
        await super()._receive(TimedReader(reader, self.arrivals))  # type: ignore[arg-type]


async def slot(
    host: str, port: int, speech: bytes, stop_at: float, results: Results, legs: list[TimedLeg]
) -> None:
    while time.monotonic() < stop_at:
        leg = TimedLeg(host, port, speech, results)
        legs.append(leg)
        try:
            await leg.run(asyncio.get_running_loop().time() + (stop_at - time.monotonic()))
        except Exception as exc:  # a failed call is a result
            results.calls_failed += 1
            results.failures.append(repr(exc))
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


def frame_stats(legs: list[TimedLeg], window: tuple[float, float] | None = None) -> dict[str, Any]:
    lateness: list[float] = []
    gapped = 0
    worst = 0.0
    for leg in legs:
        times = leg.arrivals if window is None else [t for t in leg.arrivals if window[0] <= t <= window[1]]
        gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
        lateness += [max(0.0, g - PERIOD) for g in gaps]
        if gaps and max(gaps) > GAP:
            gapped += 1
        worst = max([worst, *gaps])
    lateness.sort()

    def pct(q: float) -> float | None:
        return round(lateness[min(len(lateness) - 1, int(q * len(lateness)))] * 1000, 1) if lateness else None

    return {"frames": len(lateness), "lateness_p50_ms": pct(0.5), "lateness_p99_ms": pct(0.99),
            "lateness_max_ms": round(lateness[-1] * 1000, 1) if lateness else None,
            "max_gap_ms": round(worst * 1000, 1), "calls_with_gaps": gapped}  # fmt: skip


async def run(args: argparse.Namespace) -> dict[str, Any]:
    speech = trim(args.speech.read_bytes())
    results, legs = Results(), []
    stop_at = time.monotonic() + args.duration
    calls = [slot("127.0.0.1", args.audio_port, speech, stop_at, results, legs) for _ in range(args.calls)]
    tasks = [asyncio.ensure_future(c) for c in calls]
    await asyncio.sleep(args.burst_at)
    load = await burst(args)
    burst_window = (load["burst_started"], load["burst_started"] + load["burst_seconds"])
    await asyncio.gather(*tasks)
    return {
        "calls": len(legs),
        "calls_failed": results.calls_failed,
        "failures": results.failures[:5],
        "all": frame_stats(legs),
        "during_burst": frame_stats(legs, burst_window),
        "burst": {k: v for k, v in load.items() if k != "burst_started"},
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
    args = parser.parse_args(argv)
    sys.stdout.write(json.dumps(asyncio.run(run(args))) + "\n")


if __name__ == "__main__":
    main()
