"""Opening a dialogue for a call: who calls, in which zone, with which contact variables."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any, Literal

from voicebot.db.session import Database
from voicebot.dialogue.context import CallInfo, DialogueContext
from voicebot.dialogue.library import FlowLibrary
from voicebot.dialogue.runtime import Dialogue
from voicebot.dialogue.sandbox import Sandbox, SandboxStore
from voicebot.dialogue.store import DialogueStore
from voicebot.nlu import NLU
from voicebot.settings import Settings


def default_direction(library: FlowLibrary, scenario: str) -> Literal["inbound", "outbound"]:
    return library.get(scenario).directions[0]  # type: ignore[return-value]


async def open_dialogue(
    *,
    db: Database,
    settings: Settings,
    nlu: NLU,
    library: FlowLibrary,
    scenario: str,
    phone: str | None = None,
    variables: dict[str, Any] | None = None,
    now: datetime | None = None,
    direction: Literal["inbound", "outbound"] | None = None,
    channel: str = "text",
    call_id: uuid.UUID | None = None,
    campaign_id: int | None = None,
    contact_id: int | None = None,
    sandbox: Sandbox | None = None,
    store: DialogueStore | None = None,
) -> Dialogue:
    """A ready dialogue; `now` pins the call's start time (simulations), the clock then runs normally.

    `sandbox` (the test channels): the same dialogue, but it writes nothing (dialogue/sandbox.py).
    `store`: where reads and writes go (the voice channel passes its journalled, time-bounded one);
    default: straight to `db`. Raises DataUnavailable when the caller's data cannot be read in time."""
    flow = library.get(scenario)
    direction = direction or default_direction(library, scenario)
    variables = dict(variables or {})
    callback = str(variables.get("callback", "")).lower() in ("1", "true", "yes")
    # A callback is an outbound call even when it runs an inbound-only flow (the router): stored as
    # outbound, started at the flow's inbound step, with `callback` for the flow's wording.
    start_as = (
        "inbound" if callback and direction == "outbound" and "outbound" not in flow.directions else None
    )
    if direction not in flow.directions and start_as is None:
        raise ValueError(
            f"scenario {scenario} does not take {direction} calls (it takes {', '.join(flow.directions)})"
        )
    # The test channels (sandbox) run the same dialogue and write nothing.
    store = SandboxStore(db, sandbox) if sandbox is not None else store or DialogueStore(db)
    variables = dict(variables or {})
    timezone = await _resident_timezone(store, phone, variables, settings.default_timezone)
    real_now = datetime.now(UTC)
    offset = (now - real_now) if now is not None else None
    started = (now or real_now).astimezone(UTC)
    call = CallInfo(
        call_id=call_id or uuid.uuid4(),
        direction=direction,
        channel=channel,
        phone=phone,
        started_at=started,
        variables=variables,
        campaign_id=campaign_id,
        contact_id=contact_id,
        callback=callback,
        start_as=start_as,
    )
    ctx = DialogueContext(
        call=call, flow=flow, store=store, nlu=nlu, settings=settings, timezone=timezone, clock_offset=offset
    )
    return Dialogue(library=library, ctx=ctx)


async def _resident_timezone(
    store: DialogueStore, phone: str | None, variables: dict[str, Any], default: str
) -> str:
    if variables.get("timezone"):
        return str(variables["timezone"])
    if variables.get("account"):
        account = await store.account_by_number(str(variables["account"]))
        if account:
            return account.timezone
    accounts = await store.accounts_by_phone(phone)
    zones = {a.timezone for a in accounts}
    return zones.pop() if len(zones) == 1 else default
