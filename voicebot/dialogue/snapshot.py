"""A dialogue between turns as plain JSON, and back: a messenger conversation survives a restart.

A conversation in a messenger may wait for the resident's next message for minutes; it is kept in
PostgreSQL between turns (voicebot/max/conversations.py) so a restarted process continues it at the same
step, with the slots, the records and the counters it had. What is stored is data only: values are
JSON with tags for dates, times, money, ids and the dialogue's own dataclasses, and a dataclass is
rebuilt only if it is one of voicebot's (never an arbitrary importable name, nothing runs but its
constructor).
"""

from __future__ import annotations

import dataclasses
import importlib
import uuid
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from voicebot.dialogue.context import RECORD_KINDS, CallInfo, DialogueContext, Utterance
from voicebot.dialogue.flow import FlowError
from voicebot.dialogue.library import FlowLibrary
from voicebot.dialogue.runtime import Dialogue, _StepState
from voicebot.dialogue.store import DialogueStore
from voicebot.nlu import NLU
from voicebot.settings import Settings

VERSION = 1
_TAG = "__t"


class SnapshotError(ValueError):
    """A stored dialogue cannot be continued (its flow or step is gone, or the data is not ours)."""


# --- values ---------------------------------------------------------------------------------------------


def encode(value: Any) -> Any:
    """A JSON-able form of a slot or record value; TypeError for a value of no known kind."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if value == value and value not in (float("inf"), float("-inf")) else str(value)
    if isinstance(value, datetime):
        return {_TAG: "datetime", "v": value.isoformat()}
    if isinstance(value, date):
        return {_TAG: "date", "v": value.isoformat()}
    if isinstance(value, time):
        return {_TAG: "time", "v": value.isoformat()}
    if isinstance(value, timedelta):
        return {_TAG: "timedelta", "v": value.total_seconds()}
    if isinstance(value, Decimal):
        return {_TAG: "decimal", "v": str(value)}
    if isinstance(value, uuid.UUID):
        return {_TAG: "uuid", "v": str(value)}
    if isinstance(value, tuple):
        return {_TAG: "tuple", "v": [encode(v) for v in value]}
    if isinstance(value, list):
        return [encode(v) for v in value]
    if isinstance(value, set | frozenset):
        return {_TAG: "set", "v": [encode(v) for v in value]}
    if isinstance(value, dict):
        if all(isinstance(k, str) for k in value) and _TAG not in value:
            return {k: encode(v) for k, v in value.items()}
        return {_TAG: "map", "v": [[encode(k), encode(v)] for k, v in value.items()]}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        cls = type(value)
        if not cls.__module__.startswith("voicebot."):
            raise TypeError(f"cannot keep a {cls.__module__}.{cls.__qualname__} between turns")
        fields = {f.name: encode(getattr(value, f.name)) for f in dataclasses.fields(value) if f.init}
        return {_TAG: "dc", "c": f"{cls.__module__}:{cls.__qualname__}", "f": fields}
    raise TypeError(f"cannot keep a {type(value).__name__} between turns")


def decode(value: Any) -> Any:
    if isinstance(value, list):
        return [decode(v) for v in value]
    if not isinstance(value, dict):
        return value
    tag = value.get(_TAG)
    if tag is None:
        return {k: decode(v) for k, v in value.items()}
    raw = value.get("v")
    match tag:
        case "datetime":
            return datetime.fromisoformat(raw)
        case "date":
            return date.fromisoformat(raw)
        case "time":
            return time.fromisoformat(raw)
        case "timedelta":
            return timedelta(seconds=float(raw))
        case "decimal":
            return Decimal(raw)
        case "uuid":
            return uuid.UUID(raw)
        case "tuple":
            return tuple(decode(v) for v in raw)
        case "set":
            return {decode(v) for v in raw}
        case "map":
            return {decode(k): decode(v) for k, v in raw}
        case "dc":
            cls = _dataclass(str(value.get("c", "")))
            return cls(**{k: decode(v) for k, v in dict(value.get("f") or {}).items()})
    raise SnapshotError(f"unknown value tag {tag!r}")


def _dataclass(name: str) -> type:
    module_name, _, qualname = name.partition(":")
    if not module_name.startswith("voicebot.") or not qualname or "." in qualname:
        raise SnapshotError(f"not a dialogue value: {name!r}")
    try:
        cls = getattr(importlib.import_module(module_name), qualname)
    except (ImportError, AttributeError) as exc:
        raise SnapshotError(f"dialogue value type {name!r} no longer exists") from exc
    if not (isinstance(cls, type) and dataclasses.is_dataclass(cls)):
        raise SnapshotError(f"not a dialogue value: {name!r}")
    return cls


# --- dialogues ------------------------------------------------------------------------------------------


def snapshot(dialogue: Dialogue) -> dict[str, Any]:
    """Everything needed to continue `dialogue` at its next turn (it must be waiting for an answer)."""
    ctx, call = dialogue.ctx, dialogue.ctx.call
    return {
        "version": VERSION,
        "flow": ctx.flow.name,
        "awaiting": dialogue.awaiting.name if dialogue.awaiting is not None else None,
        "states": {name: [s.no_input, s.no_match] for name, s in dialogue.states.items()},
        "last_turn": [encode(u) for u in dialogue.last_turn],
        "turn_seq": dialogue.turn_seq,
        "call": {
            "call_id": str(call.call_id),
            "direction": call.direction,
            "channel": call.channel,
            "phone": call.phone,
            "started_at": call.started_at.isoformat(),
            "variables": encode(call.variables),
            "campaign_id": call.campaign_id,
            "contact_id": call.contact_id,
            "callback": call.callback,
            "start_as": call.start_as,
        },
        "timezone": ctx.timezone,
        "slots": encode(ctx.slots),
        "records": encode(ctx.records),
        "outcome": ctx.outcome,
        "clock_offset": encode(ctx.clock_offset),
    }


def restore(
    data: dict[str, Any],
    *,
    library: FlowLibrary,
    store: DialogueStore,
    nlu: NLU,
    settings: Settings,
) -> Dialogue:
    """The dialogue `snapshot` kept, ready for `respond`; SnapshotError when it cannot continue."""
    if data.get("version") != VERSION:
        raise SnapshotError(f"snapshot version {data.get('version')!r} is not {VERSION}")
    try:
        flow = library.get(data["flow"])
        raw_call = data["call"]
        call = CallInfo(
            call_id=uuid.UUID(raw_call["call_id"]),
            direction=raw_call["direction"],
            channel=raw_call["channel"],
            phone=raw_call["phone"],
            started_at=datetime.fromisoformat(raw_call["started_at"]),
            variables=decode(raw_call["variables"]),
            campaign_id=raw_call["campaign_id"],
            contact_id=raw_call["contact_id"],
            callback=bool(raw_call["callback"]),
            start_as=raw_call["start_as"],
        )
        records = {kind: [] for kind in RECORD_KINDS} | decode(data["records"])
        ctx = DialogueContext(
            call=call,
            flow=flow,
            store=store,
            nlu=nlu,
            settings=settings,
            timezone=data["timezone"],
            slots=decode(data["slots"]),
            records=records,
            outcome=data.get("outcome"),
            clock_offset=decode(data.get("clock_offset")),
        )
        awaiting = flow.step(data["awaiting"]) if data.get("awaiting") else None
        last_turn = [u for u in (decode(u) for u in data["last_turn"]) if isinstance(u, Utterance)]
        states = {name: _StepState(int(a), int(b)) for name, (a, b) in data["states"].items()}
    except SnapshotError:
        raise
    except (KeyError, TypeError, ValueError, FlowError) as exc:
        raise SnapshotError(f"the stored dialogue cannot continue: {exc!r}") from exc
    return Dialogue(
        library=library,
        ctx=ctx,
        awaiting=awaiting,
        states=states,
        last_turn=last_turn,
        turn_seq=int(data["turn_seq"]),
    )
