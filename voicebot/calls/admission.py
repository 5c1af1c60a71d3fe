"""How many dialogues this process runs at once; beyond that a call takes the overflow path."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager


class Slot:
    """A held dialogue slot (truthy) or a refusal (falsy). `release()` frees it before the block ends: a
    call whose caller has gone need not hold its slot while its recording is encoded."""

    def __init__(self, admission: Admission | None) -> None:
        self._admission = admission

    def __bool__(self) -> bool:
        return self._admission is not None

    def release(self) -> None:
        if self._admission is not None:
            self._admission.active -= 1
            self._admission = None


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
    def slot(self) -> Iterator[Slot]:
        """Yields a held slot for the block (released at its end at the latest), or a falsy refusal."""
        if self.full:
            yield Slot(None)
            return
        self.active += 1
        slot = Slot(self)
        try:
            yield slot
        finally:
            slot.release()
