"""Speech synthesis: Silero, espeak-ng and recorded prompts behind one interface, with a disk cache."""

from voicebot.tts.base import Audio, TTSEngine, TTSError, TTSUnavailableError
from voicebot.tts.cache import CachedTTS
from voicebot.tts.espeak import EspeakTTS
from voicebot.tts.factory import create_engine, create_tts
from voicebot.tts.recorded import RecordedPrompts
from voicebot.tts.silero import SileroTTS
from voicebot.tts.verbalize import (
    say_date,
    say_digits,
    say_money,
    say_number,
    say_ordinal,
    say_time,
)

# `verbalize` the function is deliberately not re-exported: it would shadow the module
# `voicebot.tts.verbalize` that templates import as a namespace.

__all__ = [
    "Audio",
    "CachedTTS",
    "EspeakTTS",
    "RecordedPrompts",
    "SileroTTS",
    "TTSEngine",
    "TTSError",
    "TTSUnavailableError",
    "create_engine",
    "create_tts",
    "say_date",
    "say_digits",
    "say_money",
    "say_number",
    "say_ordinal",
    "say_time",
]
