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

from voicebot.calls.callrow import insert_call_row
from voicebot.db.callbacks import schedule_callback
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
    text = MESSAGE_WITH_CALLBACK if spec.phone else MESSAGE_NO_NUMBER
    media = MediaSession(transport, config=MediaConfig(silence_timeout=None))
    await media.start()
    try:
        speech = asyncio.ensure_future(engine.voice.say_text(text))
        if spec.sandbox is None:  # a test call never queues a call back nor counts in the figures
            await _write_rows(engine, spec, now)
        if notify is not None:
            await notify({"type": "bot", "text": text, "step": OVERFLOW_OUTCOME})
        audio = await speech
        playout = media.play(audio.pcm, audio.sample_rate, interruptible=False)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.ensure_future(_resolved(playout)), MAX_MESSAGE_WAIT)
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


async def _resolved(playout: object) -> object:
    return await playout  # type: ignore[misc]


async def _write_rows(engine: VoiceEngine, spec: CallSpec, now: datetime) -> None:
    try:
        await insert_call_row(
            engine.db,
            spec.call_id,
            direction=spec.direction or "inbound",
            channel=spec.channel,
            scenario=spec.scenario,
            phone=spec.phone,
            campaign_id=spec.campaign_id,
            contact_id=spec.contact_id,
            status="ended",
            outcome=OVERFLOW_OUTCOME,
            offered_at=now,
            answered_at=now,
            started_at=now,
            ended_at=now,
            variables={k: str(v) for k, v in spec.variables.items()},
            meta={"overflow": True},
        )
        if spec.phone:
            await _schedule_callback(engine, spec, now)
        else:
            log.warning("overflow call without a number: no call back possible")
    except Exception:  # the caller still hears the message
        log.exception("could not record the overflow call")


async def _schedule_callback(engine: VoiceEngine, spec: CallSpec, now: datetime) -> None:
    # The shared queue keeps one open callback per phone and the 10-minute promise.
    async with engine.db.transaction() as session:
        await schedule_callback(
            session,
            spec.phone,
            "overflow",
            missed_at=now,
            delay=CALLBACK_DELAY,
            source_call_id=spec.call_id,
            scenario=spec.scenario,
        )
    log.info("overflow call back scheduled", extra={"phone": mask_phone(spec.phone)})
