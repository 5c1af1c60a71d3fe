"""The one retry delay: exponential, capped, with jitter so many clients do not retry in lockstep.

Stateful (`next_delay()`, `reset()`) for a loop that retries one thing — the AMI link, the first
connection at start-up — and stateless (`delay(attempt)`) for work whose attempt count is stored, such as
a webhook delivery row.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class Backoff:
    initial: float = 0.5
    maximum: float = 30.0
    factor: float = 2.0
    jitter: float = 0.5  # the share of each delay drawn at random: 0.5 is "equal jitter", 0 none
    rng: Callable[[], float] = random.random
    attempt: int = 0

    def delay(self, attempt: int) -> float:
        """Seconds before retry number `attempt + 1` (0 = the first retry)."""
        base = min(self.maximum, self.initial * self.factor ** max(0, attempt))
        return base * (1 - self.jitter) + base * self.jitter * self.rng()

    def next_delay(self) -> float:
        delay = self.delay(self.attempt)
        self.attempt += 1
        return delay

    def reset(self) -> None:
        self.attempt = 0
