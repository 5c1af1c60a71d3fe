"""Calls announced before Asterisk connects them: what to run when a given AudioSocket UUID arrives.

The FastAGI `inbound` handler and the outbound dialer know the scenario, the number and the contact
variables of a call; the AudioSocket connection only carries the UUID. They meet here. Entries expire, so a
call that never connected (caller hung up during routing) does not leak.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

log = logging.getLogger(__name__)

Direction = Literal["inbound", "outbound"]


@dataclass(frozen=True)
class Announcement:
    call_uuid: uuid.UUID
    scenario: str
    phone: str | None = None
    variables: dict[str, Any] = field(default_factory=dict)
    direction: Direction | None = None
    campaign_id: int | None = None
    contact_id: int | None = None
    # The text of a declared outage this caller hears first (voicebot/calls/outage.py): no recogniser and
    # no dialogue slot until the caller asks for more.
    outage: str | None = None


class CallRegistry:
    def __init__(self, ttl: float = 120.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl
        self._clock = clock
        self._entries: dict[uuid.UUID, tuple[float, Announcement]] = {}

    def announce(
        self,
        call_uuid: uuid.UUID | str,
        scenario: str,
        phone: str | None = None,
        variables: dict[str, Any] | None = None,
        direction: Direction | None = None,
        campaign_id: int | None = None,
        contact_id: int | None = None,
        outage: str | None = None,
    ) -> Announcement:
        """Remember what to run for `call_uuid`; call it before Asterisk opens the AudioSocket."""
        key = call_uuid if isinstance(call_uuid, uuid.UUID) else uuid.UUID(str(call_uuid))
        if direction not in (None, "inbound", "outbound"):
            raise ValueError(f"direction must be 'inbound' or 'outbound', not {direction!r}")
        entry = Announcement(
            key, scenario, phone, dict(variables or {}), direction, campaign_id, contact_id, outage
        )
        self._purge()
        self._entries[key] = (self._clock() + self.ttl, entry)
        log.info("call announced", extra={"call_uuid": str(key), "scenario": scenario})
        return entry

    def is_announced(self, call_uuid: uuid.UUID) -> bool:
        """The AudioSocket server's `announced` hook."""
        self._purge()
        return call_uuid in self._entries

    def claim(self, call_uuid: uuid.UUID) -> Announcement | None:
        """Take the announcement for a connecting call (each one is used once)."""
        self._purge()
        entry = self._entries.pop(call_uuid, None)
        return entry[1] if entry else None

    def __len__(self) -> int:
        self._purge()
        return len(self._entries)

    def pending_dialogues(self) -> int:
        """Announced calls that will take a dialogue slot when they connect (outage announcements do not)."""
        self._purge()
        return sum(1 for _, entry in self._entries.values() if entry.outage is None)

    def _purge(self) -> None:
        now = self._clock()
        for key in [k for k, (expires, _) in self._entries.items() if expires <= now]:
            del self._entries[key]
            log.info("announced call never connected", extra={"call_uuid": str(key)})
