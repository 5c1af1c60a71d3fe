"""In-process limiters: failed key checks per address, events per key per minute, things open per key.

One process holds its own counters (`voicebot serve` is one HTTP process); the limits are per process.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Hashable


class FailureLimiter:
    """Counts failed key checks per remote address; too many in the window block the address."""

    def __init__(self, max_failures: int, window_seconds: float) -> None:
        self.max_failures = max_failures
        self.window = window_seconds
        self._failures: dict[str, deque[float]] = {}
        self._blocked_until: dict[str, float] = {}

    def retry_after(self, address: str, now: float | None = None) -> int:
        """Seconds the address must still wait; 0 when it is not blocked."""
        now = time.monotonic() if now is None else now
        until = self._blocked_until.get(address, 0.0)
        if until <= now:
            self._blocked_until.pop(address, None)
            return 0
        return max(1, int(until - now + 0.999))

    def fail(self, address: str, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        failures = self._failures.setdefault(address, deque())
        failures.append(now)
        while failures and failures[0] < now - self.window:
            failures.popleft()
        if len(failures) >= self.max_failures:
            self._blocked_until[address] = now + self.window
            failures.clear()
        if len(self._failures) > 10_000:  # bound memory under a scan from many addresses
            self._failures = {a: f for a, f in self._failures.items() if f}


class KeyRateLimiter:
    """At most `per_minute` events per key (an API key, a UI user, an address) in a sliding minute;
    beyond it the caller answers 429 with Retry-After."""

    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self._hits: dict[Hashable, deque[float]] = {}

    def retry_after(self, key_id: Hashable, now: float | None = None) -> int:
        """0 and the event counted, or the seconds until the key may go again."""
        if self.per_minute <= 0:
            return 0
        now = time.monotonic() if now is None else now
        if len(self._hits) > 10_000:  # bound memory: forget keys idle for a minute
            self._hits = {k: h for k, h in self._hits.items() if h and h[-1] > now - 60.0}
        hits = self._hits.setdefault(key_id, deque())
        while hits and hits[0] <= now - 60.0:
            hits.popleft()
        if len(hits) >= self.per_minute:
            return max(1, int(hits[0] + 60.0 - now + 0.999))
        hits.append(now)
        return 0


class ConcurrencyCap:
    """At most `limit` things open at once per key (e.g. microphone sockets per user)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._open: dict[Hashable, int] = {}

    def acquire(self, key: Hashable) -> bool:
        if self.limit > 0 and self._open.get(key, 0) >= self.limit:
            return False
        self._open[key] = self._open.get(key, 0) + 1
        return True

    def release(self, key: Hashable) -> None:
        left = self._open.get(key, 0) - 1
        if left > 0:
            self._open[key] = left
        else:
            self._open.pop(key, None)
