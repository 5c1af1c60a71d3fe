"""Dependency health: each part of the process registers a probe; `/healthz` runs them all at once.

A probe is an async callable returning a `Probe`; it gets a short timeout, so one hung dependency
cannot make the health check itself hang. The overall status is "ok" when every probe passes,
"degraded" when a dependency the calls can live without for a while is down (the database, while the
local journal keeps call records), and "unavailable" when a critical one is down.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from voicebot.metrics import DEPENDENCY_UP

PROBE_TIMEOUT = 1.0


@dataclass
class Probe:
    ok: bool
    detail: dict[str, Any] = field(default_factory=dict)
    degraded: bool = False  # up, but itself running degraded (the voice process while the database is away)


ProbeFn = Callable[[], Awaitable[Probe]]


@dataclass
class _Entry:
    probe: ProbeFn
    critical: bool


class Health:
    def __init__(self, timeout: float = PROBE_TIMEOUT) -> None:
        self.timeout = timeout
        self._probes: dict[str, _Entry] = {}

    def register(self, name: str, probe: ProbeFn, *, critical: bool = False) -> None:
        self._probes[name] = _Entry(probe, critical)

    def unregister(self, name: str) -> None:
        self._probes.pop(name, None)

    async def check(self) -> tuple[str, dict[str, dict[str, Any]]]:
        names = list(self._probes)
        results = await asyncio.gather(*(self._run(self._probes[n].probe) for n in names))
        report: dict[str, dict[str, Any]] = {}
        status = "ok"
        for name, result in zip(names, results, strict=True):
            report[name] = {"ok": result.ok, **result.detail}
            DEPENDENCY_UP.labels(name).set(1 if result.ok else 0)
            if not result.ok:
                status = "unavailable" if self._probes[name].critical else _worse(status, "degraded")
            elif result.degraded:
                status = _worse(status, "degraded")
        return status, report

    async def _run(self, probe: ProbeFn) -> Probe:
        started = time.perf_counter()
        try:
            result = await asyncio.wait_for(probe(), self.timeout)
        except TimeoutError:
            return Probe(False, {"error": f"no answer within {self.timeout:g} s"})
        except Exception as exc:  # a failing probe is the answer "down", with the reason
            return Probe(False, {"error": type(exc).__name__})
        result.detail.setdefault("latency_ms", round((time.perf_counter() - started) * 1000, 2))
        return result


def _worse(current: str, new: str) -> str:
    order = ("ok", "degraded", "unavailable")
    return max(current, new, key=order.index)
