"""Campaigns in MAX: the dialer's `place_call` for contacts reached in the messenger instead of by phone.

A campaign with `settings.channel = "max"` (or a contact whose own `channel` column says `max`) is claimed
by the same dialer logic as phone campaigns — calling windows, 230-ФЗ quiet hours and counters (the
message limits for MAX), do-not-call list, retries, pace — and each "call" starts the same scenario as a
conversation with the MAX user who shared that phone. The conversation's `calls` row (channel `max`) is
the attempt, so its outcome settles the contact exactly as a phone call's does.
"""

from __future__ import annotations

import logging

from voicebot.asterisk.ami_originate import OriginateResult
from voicebot.campaigns.calls import CallRequest
from voicebot.max.channel import MaxChannel, MaxUnavailable
from voicebot.values import parse_phone

log = logging.getLogger(__name__)

# Why a conversation could not start → the retry rule it falls under (see campaigns/policy.py).
UNAVAILABLE_RESULTS = {
    "no_user": OriginateResult.FAILED,  # nobody shared this phone with the bot: retried as failed, then given up
    "busy": OriginateResult.BUSY,  # the resident is in another conversation with the bot
    "limit": OriginateResult.BUSY,  # a legal limit or the quiet hours: later
}


class MaxPlacer:
    def __init__(self, channel: MaxChannel) -> None:
        self.channel = channel

    async def __call__(self, request: CallRequest) -> OriginateResult:
        try:
            phone = parse_phone(request.phone)
        except ValueError:
            phone = request.phone
        variables = dict(request.variables)
        if request.timezone:  # the contact's zone: 230-ФЗ hours and the dialogue's dates are counted in it
            variables.setdefault("timezone", request.timezone)
        try:
            await self.channel.start_outbound(
                phone,
                request.scenario,
                variables,
                call_id=request.call_id,
                campaign_id=request.campaign_id,
                contact_id=request.contact_id,
            )
        except MaxUnavailable as exc:
            log.info(
                "max conversation not started", extra={"reason": exc.reason, "call_id": str(request.call_id)}
            )
            return UNAVAILABLE_RESULTS[exc.reason]
        return OriginateResult.ANSWERED
