"""Simulations: talk to a scenario over the text channel, one request per caller turn (API and web UI).

Every simulation is a sandbox (dialogue/sandbox.py): it writes nothing, and roles that may not see
resident data talk to a synthetic demo resident. Only the key that started a simulation may use it.
Live dialogues stay in memory; one nobody has talked to for `simulation_idle_seconds` is hung up and
dropped (swept whenever the API creates or uses a simulation).
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, Field

from voicebot.db.session import Database
from voicebot.dialogue.context import CallerInput
from voicebot.dialogue.flow import FlowError
from voicebot.dialogue.library import cached_library
from voicebot.dialogue.runtime import Dialogue
from voicebot.dialogue.sandbox import Sandbox
from voicebot.dialogue.session import open_dialogue
from voicebot.dialogue.text_channel import final_event, turn_event
from voicebot.nlu import create_nlu
from voicebot.services.errors import ServiceError
from voicebot.services.keys import Principal
from voicebot.settings import Settings
from voicebot.values import parse_phone

log = logging.getLogger(__name__)


@dataclass
class Simulation:
    dialogue: Dialogue
    owner: int  # the API key (or the UI session's key) that started it; nobody else may talk to it
    used: float = field(default_factory=time.monotonic)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


class SimulationStore:
    def __init__(self, idle_seconds: float, capacity: int, per_owner: int | None = None) -> None:
        self.idle_seconds = idle_seconds
        self.capacity = capacity
        self.per_owner = per_owner or capacity
        self.live: dict[str, Simulation] = {}

    def held_by(self, owner: int) -> int:
        return sum(1 for s in self.live.values() if s.owner == owner)

    async def nlu(self, settings: Any) -> Any:
        return await shared_nlu(settings)

    async def sweep(self) -> None:
        cutoff = time.monotonic() - self.idle_seconds
        for sim_id in [k for k, s in self.live.items() if s.used < cutoff and not s.lock.locked()]:
            simulation = self.live.pop(sim_id)
            await _hang_up(simulation.dialogue, sim_id)

    def add(self, dialogue: Dialogue, owner: int) -> str:
        sim_id = secrets.token_urlsafe(12)
        self.live[sim_id] = Simulation(dialogue, owner)
        return sim_id

    def get(self, sim_id: str, owner: int) -> Simulation | None:
        found = self.live.get(sim_id)
        return found if found is not None and found.owner == owner else None


async def _hang_up(dialogue: Dialogue, sim_id: str) -> None:
    if dialogue.finished:
        return
    try:
        await dialogue.respond(CallerInput("hangup"))
    except Exception:  # the call row stays unfinished; nothing else depends on it
        log.warning("closing an idle simulation failed", extra={"simulation": sim_id}, exc_info=True)


_NLUS: dict[tuple[Any, ...], Any] = {}
_NLU_LOCK = asyncio.Lock()


async def shared_nlu(settings: Any) -> Any:
    """One NLU per process and configuration, built on first use in a thread (training takes a moment)."""
    key = (settings.nlu, str(settings.scenarios_dir), settings.rasa_url, settings.nlu_threshold)
    async with _NLU_LOCK:
        if key not in _NLUS:
            _NLUS[key] = await asyncio.to_thread(create_nlu, settings)
    return _NLUS[key]


class SimulationIn(BaseModel):
    scenario: str = Field(min_length=1, max_length=64)
    phone: str | None = Field(default=None, max_length=32, description="Caller/callee, E.164")
    vars: dict[str, str | int | float | bool | None] = Field(default_factory=dict, max_length=50)
    now: datetime | None = Field(default=None, description="The call's start time (default: now)")
    direction: Literal["inbound", "outbound"] | None = None


class TurnIn(BaseModel):
    text: str = Field(max_length=2000, description="Words, <silence>, <dtmf:DIGITS> or <hangup>")


def _validated(body: SimulationIn, settings: Any) -> tuple[str | None, datetime | None]:
    try:
        phone = parse_phone(body.phone) if body.phone else None
    except ValueError as exc:
        raise ServiceError(422, str(exc)) from None
    now = body.now
    if now is not None:
        if not 2000 <= now.year <= 2100:
            raise ServiceError(422, "now must be between the years 2000 and 2100")
        if now.tzinfo is None:
            now = now.replace(tzinfo=ZoneInfo(settings.default_timezone))
    return phone, now


async def create_simulation(
    store: SimulationStore, db: Database, settings: Settings, body: SimulationIn, principal: Principal
) -> dict[str, Any]:
    """Start a sandbox dialogue for `principal`; returns its id and first turn."""
    phone, now = _validated(body, settings)
    await store.sweep()
    if len(store.live) >= store.capacity:
        raise ServiceError(429, "too many live simulations; finish some first", headers={"Retry-After": "30"})
    if store.held_by(principal.key_id) >= store.per_owner:  # one key cannot take every slot
        raise ServiceError(
            429, "this key holds too many live simulations; finish some first", headers={"Retry-After": "30"}
        )
    try:
        library = cached_library(str(settings.scenarios_dir))
    except FlowError as exc:
        raise ServiceError(500, f"scenarios cannot be loaded: {exc}") from None
    if body.scenario not in library.flows:
        raise ServiceError(422, f"unknown scenario {body.scenario!r}", details={"known": library.names()})
    try:
        dialogue = await open_dialogue(
            db=db,
            settings=settings,
            nlu=await store.nlu(settings),
            library=library,
            scenario=body.scenario,
            phone=phone,
            variables=dict(body.vars),
            now=now,
            direction=body.direction,
            channel="text",
            sandbox=Sandbox.for_role(principal.role),  # writes nothing; ops gets a demo resident
        )
    except ValueError as exc:
        raise ServiceError(422, str(exc)) from None
    sim_id = store.add(dialogue, principal.key_id)
    simulation = store.live[sim_id]
    async with simulation.lock:
        turn = await dialogue.start()
    response: dict[str, Any] = {
        "id": sim_id,
        "call_id": str(dialogue.ctx.call.call_id),
        "turn": turn_event(turn),
    }
    if turn.end:
        store.live.pop(sim_id, None)
        response["final"] = final_event(dialogue)
    return response


async def simulation_turn(
    store: SimulationStore, simulation_id: str, body: TurnIn, principal: Principal
) -> dict[str, Any]:
    """The caller says something; the bot's answer (and the outcome when the dialogue ended)."""
    await store.sweep()
    simulation = store.get(simulation_id, principal.key_id)
    if simulation is None:
        raise ServiceError(404, "no such simulation (finished or expired)")
    async with simulation.lock:
        if simulation.dialogue.finished:
            raise ServiceError(409, "the dialogue has ended")
        simulation.used = time.monotonic()
        turn = await simulation.dialogue.respond(CallerInput.parse_line(body.text))
    response: dict[str, Any] = {"turn": turn_event(turn)}
    if turn.end or simulation.dialogue.finished:
        store.live.pop(simulation_id, None)
        response["final"] = final_event(simulation.dialogue)
    return response


async def delete_simulation(store: SimulationStore, simulation_id: str, principal: Principal) -> None:
    """Hang up and forget."""
    simulation = store.get(simulation_id, principal.key_id)
    if simulation is None:
        raise ServiceError(404, "no such simulation (finished or expired)")
    store.live.pop(simulation_id, None)
    async with simulation.lock:
        await _hang_up(simulation.dialogue, simulation_id)
