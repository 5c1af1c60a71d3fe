"""How many dialogues this process runs at once; beyond that a call takes the overflow path."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager


class Admission:
    def __init__(self, limit: int) -> None:
        if limit < 0:
            raise ValueError("the dialogue limit cannot be negative")
        self.limit = limit
        self.active = 0

    @property
    def full(self) -> bool:
        return self.active >= self.limit

    @contextmanager
    def slot(self) -> Iterator[bool]:
        """Yields True with a slot held for the block, False when none is free (nothing held)."""
        if self.full:
            yield False
            return
        self.active += 1
        try:
            yield True
        finally:
            self.active -= 1
