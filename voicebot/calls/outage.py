"""Outage announcements: a burst of callers from an affected building all hear the outage at once.

When a declared outage covers an inbound caller (their building, or the whole company), the router sends
the call to the bot whatever the dialogue slots (voicebot/sla/inbound.py). Here the call gets the
announcement — greeting, the outage text and the offer to ask for more — rendered once per outage text
and kept in memory per call rate, so 300 callers cost one synthesis and no resampling each. Such a call
takes no dialogue slot and no recogniser: during the announcement only keys are watched, after it voice
activity too (no transcription), which is cheap.

A caller who then speaks or presses a key asks for more: the call goes on as an ordinary dialogue
(`inbound_router` from its menu step, recorded from there), competing for a slot like any call, and gets
the overflow message with a callback when none is free. A caller who stays silent or hangs up has been
served: the call row ends `announcement_heard` (or `announcement_partial` when they hung up during it),
scenario `announcement`, with no callback queued (DOMAIN.md §1, announcement).
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from dataclasses import replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from voicebot.logs import logged_failure
from voicebot.media.frames import Dtmf, Hangup, SpeechStarted
from voicebot.media.pipeline import MediaSession
from voicebot.media.player import PlayoutState
from voicebot.media.resample import resample
from voicebot.settings import INBOUND_SCENARIO

if TYPE_CHECKING:
    from voicebot.calls.engine import VoiceEngine
    from voicebot.calls.speech import BotVoice
    from voicebot.calls.voice import CallResult, CallSpec
    from voicebot.media.interfaces import CallTransport

log = logging.getLogger(__name__)

OUTAGE_SCENARIO = "announcement"  # the calls row of a caller who only heard the announcement
DIALOGUE_SCENARIO = INBOUND_SCENARIO
DIALOGUE_STEP = "menu_after_outage"  # where the dialogue starts for a caller who asks for more
HEARD, PARTIAL = "announcement_heard", "announcement_partial"
LISTEN_SECONDS = 6.0  # after the announcement: speech or a key in this time asks for more
RATE_WAIT = 2.0  # the caller's first frame tells the call's rate (Asterisk sends it at once)
GOODBYE = "Спасибо за звонок. До свидания!"


def announcement_text(company: str, message: str) -> str:
    message = message.strip()
    if message and message[-1] not in ".!?…":
        message += "."
    return (
        f"Здравствуйте! Вы позвонили в управляющую компанию «{company}». Я виртуальный помощник — робот. "
        f"Внимание! {message} Если вам нужно что-то ещё — оставить заявку, передать показания или узнать "
        "статус заявки, — скажите об этом или нажмите любую клавишу."
    )


class AnnouncementCache:
    """Rendered announcements in memory by (text, rate). The first caller of an outage renders it (the TTS
    cache shares that one synthesis with everyone who calls meanwhile); later callers get the same bytes."""

    def __init__(self, voice: BotVoice, limit: int = 16) -> None:
        self.voice = voice
        self.limit = limit
        self.renders = 0  # texts synthesised or read from the TTS cache (tests, the burst benchmark)
        self._pcm: OrderedDict[tuple[str, int], bytes] = OrderedDict()
        self._inflight: dict[tuple[str, int], asyncio.Task[bytes]] = {}

    async def audio(self, text: str, rate: int) -> bytes:
        key = (text, rate)
        pcm = self._pcm.get(key)
        if pcm is not None:
            self._pcm.move_to_end(key)
            return pcm
        task = self._inflight.get(key)
        if task is None:
            task = self._inflight[key] = asyncio.ensure_future(self._render(text, rate))
            task.add_done_callback(lambda _: self._inflight.pop(key, None))
        return await asyncio.shield(task)  # one caller hanging up must not cancel everyone's render

    async def _render(self, text: str, rate: int) -> bytes:
        audio = await self.voice.say_text(text)
        self.renders += 1
        pcm = await asyncio.to_thread(resample, audio.pcm, audio.sample_rate, rate)
        self._pcm[(text, rate)] = pcm
        while len(self._pcm) > self.limit:
            self._pcm.popitem(last=False)
        return pcm


async def run_outage_call(engine: VoiceEngine, transport: CallTransport, spec: CallSpec) -> CallResult:
    """Announce the outage; hand the call to a dialogue (or the overflow) if the caller asks for more."""
    from voicebot.calls.voice import CallResult

    assert spec.outage is not None
    extra = {"call_id": str(spec.call_id)}
    ledger = engine.records.ledger
    started_at = datetime.now(UTC)
    with logged_failure(log, "recording the start of an outage announcement", **extra):
        await ledger.started(
            spec.call_id, direction="inbound", channel="voice", scenario=OUTAGE_SCENARIO,
            started_at=started_at, phone=spec.phone,
        )  # fmt: skip
    config = replace(engine.media_config, silence_timeout=None, asr_warmup_ms=0)
    media = MediaSession(transport, config=config, log_extra=extra)
    media.listening = False  # speech during the announcement changes nothing: no VAD work until it is over
    await media.start()
    outcome, wants_more = PARTIAL, False
    try:
        heard = await _announce(engine, media, transport, spec.outage)
        if heard:
            outcome = HEARD
            media.listening = True
            wants_more = await _asks_for_more(media, LISTEN_SECONDS)
            if not wants_more and not transport.closed and media.player is not None:
                goodbye, _ = await _audio_at_call_rate(engine, media, transport, GOODBYE)
                await media.player.play(goodbye, interruptible=False)
    except Exception:
        log.exception("outage announcement failed", extra=extra)
    finally:
        await media.close()
    if wants_more and not transport.closed:
        log.info("caller asks for more after the outage announcement", extra=extra)
        with logged_failure(log, "recording the hand-over to a dialogue", **extra):
            await ledger.scenario(spec.call_id, DIALOGUE_SCENARIO)
        ledger.hand_over(spec.call_id)
        follow_up = replace(spec, scenario=DIALOGUE_SCENARIO, outage=None, start_step=DIALOGUE_STEP)
        return await engine.run(transport, follow_up)
    with logged_failure(log, "recording an outage announcement", **extra):
        await ledger.ended(spec.call_id, outcome=outcome, scenario=OUTAGE_SCENARIO, meta={"outage": True})
    if not transport.closed:
        await engine.leave(spec.call_id, "hangup")  # the bot's own goodbye, not a crash for the dialplan
        with logged_failure(log, "hanging up after the outage announcement", **extra):
            await transport.hangup()
    return CallResult(spec.call_id, outcome)


async def _announce(engine: VoiceEngine, media: MediaSession, transport: CallTransport, message: str) -> bool:
    """Play the announcement; True when it played to the end (the caller did not hang up)."""
    await media.call_rate(RATE_WAIT)
    text = announcement_text(engine.settings.company_name, message)
    pcm, _ = await _audio_at_call_rate(engine, media, transport, text)
    if transport.closed or media.player is None:
        return False
    state = await media.player.play(pcm, interruptible=False)
    return state is PlayoutState.DONE and not transport.closed


async def _audio_at_call_rate(
    engine: VoiceEngine, media: MediaSession, transport: CallTransport, text: str
) -> tuple[bytes, int]:
    """The cached audio at the call's rate (no per-call resampling)."""
    assert media.player is not None
    rate = media.sample_rate
    media.player.set_rate(rate)
    return await engine.announcements.audio(text, rate), rate


async def _asks_for_more(media: MediaSession, within: float) -> bool:
    """Speech or a key after the announcement (a key during it counts too; speech during it does not)."""
    for event in media.take_events():  # what came during the announcement
        if isinstance(event, Hangup):
            return False
        if isinstance(event, Dtmf):
            return True
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while (left := deadline - loop.time()) > 0:
        event = await media.next_event(left)
        if isinstance(event, Hangup):
            return False
        if isinstance(event, SpeechStarted | Dtmf):
            return True
    return False
