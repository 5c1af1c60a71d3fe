"""Speech recognition: Vosk in-process or a remote vosk-server, behind one streaming interface."""

from voicebot.asr.decoder import DecoderTuning
from voicebot.asr.factory import VoskFactory, create_recognizer_factory, decoder_tuning, resolve_model_path
from voicebot.asr.types import (
    ASRError,
    ASRUnavailableError,
    Partial,
    Recognizer,
    RecognizerFactory,
    Transcript,
    Word,
)
from voicebot.asr.vosk_local import VoskRecognizer
from voicebot.asr.vosk_model import VoskModelPool, shared_pool, supports_grammar
from voicebot.asr.vosk_server import VoskServerRecognizer

__all__ = [
    "ASRError",
    "ASRUnavailableError",
    "DecoderTuning",
    "Partial",
    "Recognizer",
    "RecognizerFactory",
    "Transcript",
    "VoskFactory",
    "VoskModelPool",
    "VoskRecognizer",
    "VoskServerRecognizer",
    "Word",
    "create_recognizer_factory",
    "decoder_tuning",
    "resolve_model_path",
    "shared_pool",
    "supports_grammar",
]
