"""Keypad input: digits gathered into one answer, ended by '#' or a pause after the last key."""

from __future__ import annotations


class DtmfCollector:
    def __init__(self, inter_digit_timeout: float = 3.0, max_digits: int = 32) -> None:
        self.inter_digit_timeout = inter_digit_timeout
        self.max_digits = max_digits
        self._digits: list[str] = []
        self._deadline: float | None = None

    @property
    def pending(self) -> bool:
        return bool(self._digits)

    @property
    def deadline(self) -> float | None:
        """Loop time at which the digits so far become an answer (None: nothing pending)."""
        return self._deadline

    def press(self, key: str, now: float) -> str | None:
        """Add a key; returns the finished answer when '#' ends it or it reached `max_digits`."""
        if key == "#":
            return self.take() if self._digits else None
        self._digits.append(key)
        self._deadline = now + self.inter_digit_timeout
        if len(self._digits) >= self.max_digits:
            return self.take()
        return None

    def expired(self, now: float) -> str | None:
        if self._deadline is not None and now >= self._deadline:
            return self.take()
        return None

    def take(self) -> str:
        digits, self._digits, self._deadline = "".join(self._digits), [], None
        return digits
