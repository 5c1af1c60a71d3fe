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
from voicebot.calls.records import CallRecords, default_journal_path
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


async def load_recognizers(settings: Settings, *, preload: bool = True):  # noqa: ANN201 (a factory or None)
    """The per-call recogniser factory with its model loaded (`preload=False`: on the first call's first
    words), or None (logged) when there is no model."""
    from voicebot.asr import ASRUnavailableError, create_recognizer_factory

    try:
        factory = create_recognizer_factory(settings)
        pool = getattr(factory, "pool", None)
        if pool is not None and preload:
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
    records: CallRecords | None = None,
    preload_asr: bool = True,
) -> VoiceEngine:
    from voicebot.nlu import create_nlu

    library = library or cached_library(str(settings.scenarios_dir))
    return VoiceEngine(
        db=db,
        settings=settings,
        nlu=nlu or create_nlu(settings),
        library=library,
        voice=build_voice(settings),
        recognizers=recognizers
        if recognizers is not None
        else await load_recognizers(settings, preload=preload_asr),
        admission=Admission(settings.max_dialogues),
        registry=CallRegistry(settings.voice_announce_ttl),
        dtmf_timeout=settings.voice_dtmf_timeout,
        records=records,
    )


async def open_call_records(settings: Settings, db: Database) -> CallRecords:
    """The voice path's own pool and the local journal (see voicebot.calls.records)."""
    return await CallRecords.open(
        db.url,
        settings.journal_path or default_journal_path(settings.data_dir, db.url),
        pool_size=settings.voice_db_pool_size,
        read_timeout=settings.db_read_timeout,
        write_wait=settings.journal_write_wait,
        node=settings.node,
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


WARM_PHRASE = "Здравствуйте, я хочу передать показания счётчика, номер счёта ноль семь два три"


def grammar_keys(engine: VoiceEngine, sample_rate: int = 16000) -> list[tuple]:
    """Recogniser keys the calls will ask for: free speech, and each closed-question grammar of the flows."""
    from voicebot.asr.vosk_model import recognizer_key
    from voicebot.calls.grammar import grammar_for

    keys = [recognizer_key(sample_rate, None)]
    if engine.use_grammar:
        for name in engine.library.names():
            for prompt in engine.library.get(name).prompts():
                phrases = grammar_for(prompt.asr_hints)
                if phrases is not None and recognizer_key(sample_rate, phrases) not in keys:
                    keys.append(recognizer_key(sample_rate, phrases))
    return keys


async def warm_recognizers(engine: VoiceEngine) -> None:
    """Fill the model pool with recognisers that have decoded speech once, as background work: a fresh
    recogniser's first utterance costs several times the CPU, which would otherwise fall on callers."""
    pool = getattr(engine.recognizers, "pool", None)
    if pool is None or not hasattr(pool, "prewarm"):
        return
    from voicebot.media.resample import resample

    try:
        audio = await engine.voice.tts.synthesize(WARM_PHRASE)
        speech = resample(audio.pcm, audio.sample_rate, 16000)
        await pool.prewarm(grammar_keys(engine), speech)
    except Exception:
        log.exception("warming speech recognisers failed; calls will start with fresh ones")


async def warm_up(engine: VoiceEngine, *, recognizers: bool = True) -> None:
    """Synthesise the fixed prompts, train the NLU and warm recognisers before the first caller needs them."""
    await asyncio.gather(prewarm_prompts(engine), warm_nlu(engine.nlu))
    if recognizers:
        await warm_recognizers(engine)
