"""The overflow path: every dialogue slot is taken (or speech recognition is down), yet the call is answered.

The caller hears that the lines are busy and that we will call back, a `callbacks` row (reason
"overflow") is queued to be placed within ten minutes, and the bot hangs up. A `calls` row records the
attempt so the callback points at it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from voicebot.logs import logged_failure
from voicebot.media.pipeline import MediaConfig, MediaSession
from voicebot.security.masking import mask_phone

if TYPE_CHECKING:
    from voicebot.calls.engine import VoiceEngine
    from voicebot.calls.voice import CallResult, CallSpec, Notify
    from voicebot.media.interfaces import CallTransport

log = logging.getLogger(__name__)

OVERFLOW_OUTCOME = "overflow"
CALLBACK_DELAY = timedelta(minutes=1)  # a minute for lines to free up; well inside the 10-minute promise
MESSAGE_WITH_CALLBACK = (
    "Здравствуйте! Сейчас все операторы заняты. Мы перезвоним вам в течение десяти минут. До свидания!"
)
MESSAGE_NO_NUMBER = (
    "Здравствуйте! Сейчас все операторы заняты. Пожалуйста, перезвоните через несколько минут. До свидания!"
)
MAX_MESSAGE_WAIT = 30.0


async def run_overflow(
    engine: VoiceEngine, transport: CallTransport, spec: CallSpec, notify: Notify | None = None
) -> CallResult:
    from voicebot.calls.voice import CallResult

    now = datetime.now(UTC)
    media = MediaSession(transport, config=MediaConfig(silence_timeout=None))
    await media.start()
    try:
        message = asyncio.ensure_future(play_overflow_message(engine, media, spec, notify))
        if spec.sandbox is None:  # a test call never queues a call back nor counts in the figures
            await record_unserved(engine, spec, now, "full")
        await message
        await engine.leave(spec.call_id, "hangup")  # the message was said: not a crash for the dialplan
    except Exception:
        log.exception("overflow call failed")
    finally:
        with logged_failure(log, "hanging up after the overflow message"):
            await media.hangup()
        await media.close()
    if notify is not None:
        await notify({"type": "end", "outcome": OVERFLOW_OUTCOME, "call_id": str(spec.call_id)})
    return CallResult(spec.call_id, OVERFLOW_OUTCOME, overflow=True)


async def play_overflow_message(
    engine: VoiceEngine, media: MediaSession, spec: CallSpec, notify: Notify | None = None
) -> None:
    """Say that the lines are busy (and that we call back, when the number is known) on a started session."""
    text = MESSAGE_WITH_CALLBACK if spec.phone else MESSAGE_NO_NUMBER
    speech = asyncio.ensure_future(engine.voice.say_text(text))
    if notify is not None:
        await notify({"type": "bot", "text": text, "step": OVERFLOW_OUTCOME})
    audio = await speech
    playout = media.play(audio.pcm, audio.sample_rate, interruptible=False)
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(asyncio.ensure_future(_resolved(playout)), MAX_MESSAGE_WAIT)


async def _resolved(playout: object) -> object:
    return await playout  # type: ignore[misc]


async def record_unserved(engine: VoiceEngine, spec: CallSpec, answered_at: datetime, reason: str) -> None:
    """The call row (outcome overflow) and the promised callback, through the journal: never lost."""
    ledger = engine.records.ledger
    now = datetime.now(UTC)
    try:
        if spec.call_id in ledger.active:  # the dialogue had started before its data went missing
            await ledger.ended(
                spec.call_id, outcome=OVERFLOW_OUTCOME, ended_at=now, meta={"overflow": reason}
            )
        else:
            await ledger.unserved(
                spec.call_id,
                direction=spec.direction or "inbound",
                channel=spec.channel,
                scenario=spec.scenario,
                outcome=OVERFLOW_OUTCOME,
                offered_at=answered_at,
                answered_at=answered_at,
                ended_at=now,
                meta={"overflow": reason},
                phone=spec.phone,
                campaign_id=spec.campaign_id,
                contact_id=spec.contact_id,
                variables={k: str(v) for k, v in spec.variables.items()},
            )
        if spec.phone:
            await engine.records.schedule_callback(
                spec.phone, "overflow", missed_at=answered_at, delay=CALLBACK_DELAY,
                source_call_id=spec.call_id, scenario=spec.scenario,
            )  # fmt: skip
            log.info("overflow call back scheduled", extra={"phone": mask_phone(spec.phone)})
        else:
            log.warning("overflow call without a number: no call back possible")
    except Exception:  # the caller still hears the message
        log.exception("could not record the overflow call")
