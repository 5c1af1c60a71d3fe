"""Build the synthesiser the settings ask for, always behind the disk cache."""

from __future__ import annotations

import logging

from voicebot.settings import Settings
from voicebot.tts.base import TTSEngine, TTSUnavailableError
from voicebot.tts.cache import CachedTTS
from voicebot.tts.espeak import EspeakTTS
from voicebot.tts.recorded import RecordedPrompts
from voicebot.tts.silero import SileroTTS, find_model

logger = logging.getLogger(__name__)

ESPEAK_DEFAULT_VOICE = "ru"


def create_engine(settings: Settings, sample_rate: int = 8000) -> TTSEngine:
    choice = settings.tts
    if choice in ("auto", "silero", "recorded"):
        # settings.tts_voice defaults to espeak's "ru", which is no Silero speaker: then use the model's own
        voice = None if settings.tts_voice == ESPEAK_DEFAULT_VOICE else settings.tts_voice
        silero = SileroTTS(find_model(settings.models_dir), voice=voice, sample_rate=sample_rate)
        ok, reason = silero.available()
        if ok:
            engine: TTSEngine = silero
        elif choice == "silero":
            raise TTSUnavailableError(f"VOICEBOT_TTS=silero but {reason}")
        else:
            logger.info("Silero unavailable, using espeak-ng", extra={"reason": reason})
            engine = _espeak(settings, sample_rate)
    elif choice == "espeak":
        engine = _espeak(settings, sample_rate)
    else:
        raise TTSUnavailableError(f"unknown TTS engine {choice!r}")
    if choice == "recorded":
        return RecordedPrompts(settings.prompts_dir, fallback=engine, sample_rate=sample_rate)
    return engine


def create_tts(settings: Settings, sample_rate: int = 8000) -> CachedTTS:
    """The cached synthesiser for the process. With VOICEBOT_TTS=recorded, `.engine` is the
    RecordedPrompts object (use `.engine.prompt(key, text)` for keyed prompts)."""
    engine = create_engine(settings, sample_rate)
    return CachedTTS(engine, settings.cache_dir / "tts")


def _espeak(settings: Settings, sample_rate: int) -> EspeakTTS:
    engine = EspeakTTS(voice=settings.tts_voice, rate=settings.tts_rate, sample_rate=sample_rate)
    ok, reason = engine.available()
    if not ok:
        raise TTSUnavailableError(reason)
    return engine
