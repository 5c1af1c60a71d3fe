"""Builds the voice engine (NLU, recognisers, bot voice) and warms it; `voicebot.runtime` wires it to the
AudioSocket server, FastAGI and the dialer (which announce calls in its registry) and to the browser
WebSocket channel (which runs its calls through it).
"""

from __future__ import annotations

import asyncio
import logging

from voicebot.calls.admission import Admission
from voicebot.calls.engine import VoiceEngine
from voicebot.calls.overflow import MESSAGE_NO_NUMBER, MESSAGE_WITH_CALLBACK
from voicebot.calls.registry import CallRegistry
from voicebot.calls.speech import BotVoice, fixed_prompts, prewarm
from voicebot.db.session import Database
from voicebot.dialogue.library import FlowLibrary, cached_library
from voicebot.nlu import NLU
from voicebot.settings import Settings

log = logging.getLogger(__name__)

# 8 kHz: telephone bandwidth, and every engine makes it (SileroTTS refuses 16 kHz, even in "auto" mode where
# create_engine builds it before falling back to espeak-ng). 16 kHz legs get it resampled.
TTS_RATE = 8000


async def load_recognizers(settings: Settings):  # noqa: ANN201 (a factory or None)
    """The per-call recogniser factory with its model loaded, or None (logged) when there is no model."""
    from voicebot.asr import ASRUnavailableError, create_recognizer_factory

    try:
        factory = create_recognizer_factory(settings)
        pool = getattr(factory, "pool", None)
        if pool is not None:
            await pool.load()
        return factory
    except ASRUnavailableError as exc:
        log.error(
            "speech recognition unavailable: %s. Calls are answered with the overflow message until a model "
            "is installed: run `voicebot models download`.",
            exc,
        )
        return None


def build_voice(settings: Settings) -> BotVoice:
    from voicebot.tts import RecordedPrompts, create_tts

    tts = create_tts(settings, TTS_RATE)
    recorded = tts.engine if isinstance(tts.engine, RecordedPrompts) else None
    return BotVoice(tts, recorded)


async def create_voice_engine(
    settings: Settings,
    db: Database,
    *,
    nlu: NLU | None = None,
    library: FlowLibrary | None = None,
    recognizers=None,  # noqa: ANN001
) -> VoiceEngine:
    from voicebot.nlu import create_nlu

    library = library or cached_library(str(settings.scenarios_dir))
    return VoiceEngine(
        db=db,
        settings=settings,
        nlu=nlu or create_nlu(settings),
        library=library,
        voice=build_voice(settings),
        recognizers=recognizers if recognizers is not None else await load_recognizers(settings),
        admission=Admission(settings.max_dialogues),
        registry=CallRegistry(settings.voice_announce_ttl),
        dtmf_timeout=settings.voice_dtmf_timeout,
    )


async def prewarm_prompts(engine: VoiceEngine) -> None:
    texts = [*fixed_prompts(engine.library, engine.settings), MESSAGE_WITH_CALLBACK, MESSAGE_NO_NUMBER]
    try:
        await prewarm(engine.voice.tts, texts)
    except Exception:
        log.exception("pre-synthesis of prompts failed; prompts will be synthesised on first use")


async def warm_nlu(nlu: object) -> None:
    """Train (or load) the intent classifier before the first caller needs it: otherwise the first calls
    after a start wait seconds for their first answer."""
    warm_up = getattr(nlu, "warm_up", None)
    if warm_up is None:
        return
    try:
        await asyncio.to_thread(warm_up)
    except Exception:
        log.exception("NLU warm-up failed; it will be retried on the first call")


async def warm_up(engine: VoiceEngine) -> None:
    """Synthesise the fixed prompts and train the NLU before the first caller needs them."""
    await asyncio.gather(prewarm_prompts(engine), warm_nlu(engine.nlu))
