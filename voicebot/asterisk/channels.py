"""Which Asterisk channel runs our dialplan for a call: where AMI Setvar/Redirect must go.

Inbound: the FastAGI request's `agi_channel`; outbound: the OriginateResponse `Channel` (the leg that runs
`[voicebot-outbound]`). Not the AudioSocket channel, and not guessed from events: a Local pair carries the
call's variables on both halves.
"""

from __future__ import annotations

from collections import OrderedDict


class ChannelBook:
    def __init__(self, keep: int = 5000) -> None:
        self._channels: OrderedDict[str, str] = OrderedDict()
        self._keep = keep

    def remember(self, call_id: object, channel: str | None) -> None:
        if not channel:
            return
        key = str(call_id)
        self._channels[key] = channel
        self._channels.move_to_end(key)
        while len(self._channels) > self._keep:
            self._channels.popitem(last=False)

    def get(self, call_id: object) -> str | None:
        return self._channels.get(str(call_id))

    def call_of(self, channel: str) -> str | None:
        for call_id, name in reversed(self._channels.items()):
            if name == channel:
                return call_id
        return None

    def rename(self, old: str, new: str) -> None:
        """AMI `Rename` (masquerades): keep following the caller's channel."""
        for call_id, name in self._channels.items():
            if name == old:
                self._channels[call_id] = new
