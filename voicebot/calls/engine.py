"""The voice channel's shared parts (database, NLU, scenarios, voices, recognisers) and call admission.

One `VoiceEngine` per process. Every transport (an Asterisk AudioSocket leg, a browser WebSocket) hands
its calls to `run()`, which either starts a dialogue or, when all dialogue slots are taken or speech
recognition is unavailable, answers with the overflow message and schedules a call back.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from voicebot.calls.admission import Admission
from voicebot.calls.outage import AnnouncementCache, run_outage_call
from voicebot.calls.overflow import run_overflow
from voicebot.calls.records import CallRecords
from voicebot.calls.registry import Announcement, CallRegistry
from voicebot.calls.speech import BotVoice
from voicebot.calls.ungated import TapTransport, UngatedRecognizer
from voicebot.calls.voice import CallResult, CallSpec, Notify, VoiceCall
from voicebot.db.session import Database
from voicebot.dialogue.library import FlowLibrary
from voicebot.logs import call_id_var
from voicebot.media.interfaces import CallTransport
from voicebot.media.pipeline import MediaConfig
from voicebot.metrics import ADMISSION_REFUSALS
from voicebot.nlu import NLU
from voicebot.security.masking import mask_phone
from voicebot.settings import INBOUND_SCENARIO, Settings

log = logging.getLogger(__name__)

# (call id, action, transfer target) -> whether the dialplan was told. Actions: "hangup" (the bot's own
# goodbye) or "transfer"; a leg that ends without it is, for the dialplan, a bot that died mid-call.
LeaveHook = Callable[[uuid.UUID, str, str | None], Awaitable[bool]]
DEFAULT_INBOUND = INBOUND_SCENARIO
# (call id, caller speech start, speech end, when the reply's first frame went out or None); loop times.
# Benchmarks use it to tell which reply answers which utterance.
ReplyObserver = Callable[[uuid.UUID, float, float, float | None], None]
# (call id, loop times of one answered turn: endpoint, transcribed, responded, audio, first_frame); where
# the reply latency goes, for benchmarks.
TurnTiming = Callable[[uuid.UUID, dict[str, float]], None]


async def _no_leave_hook(_call_id: uuid.UUID, _action: str, _target: str | None) -> bool:
    return False


def media_config_from(settings: Settings) -> MediaConfig:
    return MediaConfig(
        trailing_silence_ms=settings.voice_trailing_silence_ms,
        silence_timeout=settings.voice_silence_timeout,
    )


@dataclass
class VoiceEngine:
    db: Database
    settings: Settings
    nlu: NLU
    library: FlowLibrary
    voice: BotVoice
    recognizers: Callable[..., Any] | None  # None: no speech model; every call takes the overflow path
    admission: Admission
    registry: CallRegistry = field(default_factory=CallRegistry)
    media_config: MediaConfig | None = None
    dtmf_timeout: float = 3.0
    record: bool = True
    use_grammar: bool = True  # closed-question grammars (Russian word lists) for the recogniser
    vad_gating: bool = True  # False feeds the recogniser all audio (benchmarks show what gating saves)
    on_leave: LeaveHook = _no_leave_hook  # AMI Setvar VOICEBOT_ACTION on the caller's channel (TransferDesk)
    inbound_scenario: str = DEFAULT_INBOUND
    reply_observer: ReplyObserver | None = None
    turn_timing: TurnTiming | None = None
    records: CallRecords | None = None  # where calls write; None: straight to `db` (tests, tools)

    def __post_init__(self) -> None:
        self.announcements = AnnouncementCache(self.voice)
        if self.records is None:
            self.records = CallRecords.direct(self.db)
        if self.media_config is None:
            self.media_config = media_config_from(self.settings)
        if self.inbound_scenario not in self.library.flows:
            fallback = next(
                (n for n in self.library.names() if "inbound" in self.library.get(n).directions), None
            )
            log.warning("no scenario %r; calls nobody announced run %r", self.inbound_scenario, fallback)
            self.inbound_scenario = fallback or self.inbound_scenario

    # --- entry points -----------------------------------------------------------------------------------

    async def handle_audiosocket(self, call: Any) -> None:
        """The AudioSocket server's handler: look up what was announced for this UUID and run it."""
        announcement = self.registry.claim(call.uuid)
        spec = self.spec_for(call.uuid, announcement)
        if spec.outage is not None:
            token = call_id_var.set(str(spec.call_id))
            try:
                await run_outage_call(self, call, spec)  # no slot: it asks for one if the caller wants more
            finally:
                call_id_var.reset(token)
            return
        await self.run(call, spec)

    def spec_for(self, call_uuid: uuid.UUID, announcement: Announcement | None) -> CallSpec:
        if announcement is None:
            # Only reachable with audiosocket_unknown_uuid=inbound: a plain inbound call, caller unknown.
            return CallSpec(self.inbound_scenario, direction="inbound", call_id=call_uuid)
        return CallSpec(
            announcement.scenario,
            phone=announcement.phone,
            variables=dict(announcement.variables),
            direction=announcement.direction,
            campaign_id=announcement.campaign_id,
            contact_id=announcement.contact_id,
            call_id=call_uuid,
            outage=announcement.outage,
        )

    async def run(self, transport: CallTransport, spec: CallSpec, notify: Notify | None = None) -> CallResult:
        token = call_id_var.set(str(spec.call_id))
        try:
            with self.admission.slot() as admitted:
                if admitted and self.recognizers is not None:
                    log.info(
                        "voice call started",
                        extra={"scenario": spec.scenario, "phone": mask_phone(spec.phone)},
                    )
                    return await VoiceCall(self, transport, spec, notify, on_hangup=admitted.release).run()
                reason = "no_asr" if self.recognizers is None else "full"
                ADMISSION_REFUSALS.labels(reason).inc()
                log.warning("call answered with the overflow message", extra={"reason": reason})
                return await run_overflow(self, transport, spec, notify)
        finally:
            call_id_var.reset(token)

    async def leave(self, call_id: uuid.UUID, action: str, target: str | None = None) -> bool:
        """Tell the dialplan why the bot's leg ends, before the bot hangs it up (never raises)."""
        try:
            return await self.on_leave(call_id, action, target)
        except Exception:
            log.exception("leave hook failed", extra={"action": action})
            return False

    # --- per-call parts -----------------------------------------------------------------------------------

    def new_recognizer(self, call_id: str) -> Any:
        if self.recognizers is None:
            return None
        return self.recognizers(call_id=call_id)

    def wrap_transport(self, transport: CallTransport, recognizer: Any) -> CallTransport:
        if self.vad_gating or recognizer is None:
            return transport
        return TapTransport(transport, recognizer)

    def gate_recognizer(self, recognizer: Any) -> Any:
        if self.vad_gating or recognizer is None:
            return recognizer
        return UngatedRecognizer(recognizer)
