"""Pick the recogniser the settings ask for and hand the media pipeline a per-call factory."""

from __future__ import annotations

import logging
from functools import partial
from pathlib import Path

from voicebot.asr.decoder import DecoderTuning
from voicebot.asr.types import ASRUnavailableError, Recognizer, RecognizerFactory
from voicebot.asr.vosk_local import VoskRecognizer
from voicebot.asr.vosk_model import DOWNLOAD_HINT, VoskModelPool, check_model_dir, shared_pool
from voicebot.asr.vosk_server import VoskServerRecognizer
from voicebot.settings import Settings

logger = logging.getLogger(__name__)

# Preferred first: the small model is fast enough for real time on a few cores and supports grammars.
_MODEL_PATTERNS = ("vosk-model-small-ru*", "vosk-model-ru*")


def resolve_model_path(settings: Settings) -> Path:
    if settings.vosk_model_path is not None:
        check_model_dir(settings.vosk_model_path)
        return settings.vosk_model_path
    for pattern in _MODEL_PATTERNS:
        candidates = sorted(p for p in settings.models_dir.glob(pattern) if p.is_dir())
        if candidates:
            return candidates[-1]  # names end in the version; the newest sorts last
    raise ASRUnavailableError(f"no Russian Vosk model in {settings.models_dir}; {DOWNLOAD_HINT}")


def create_recognizer_factory(settings: Settings, sample_rate: int = 16000) -> RecognizerFactory:
    """Return `factory(call_id=None) -> Recognizer`. For in-process Vosk the model loads lazily on the
    first chunk; await `factory.pool.load()` (when present) at start-up to pay that cost early."""
    if settings.asr == "vosk-server":
        return partial(VoskServerRecognizer, settings.vosk_server_url, sample_rate)
    if settings.asr == "vosk":
        pool = shared_pool(
            resolve_model_path(settings),
            settings.asr_threads,
            decoder_tuning(settings),
            settings.cache_dir,
            reuse_recognizers=settings.asr_reuse_recognizers and settings.asr_warm_recognizers > 0,
            max_idle=settings.asr_warm_recognizers,
        )
        return VoskFactory(pool, sample_rate)
    raise ASRUnavailableError(f"unknown ASR engine {settings.asr!r}; expected 'vosk' or 'vosk-server'")


def decoder_tuning(settings: Settings) -> DecoderTuning:
    """0 in a setting keeps the model's own value."""
    return DecoderTuning(
        settings.asr_max_active or None, settings.asr_beam or None, settings.asr_lattice_beam or None
    )


class VoskFactory:
    def __init__(self, pool: VoskModelPool, sample_rate: int = 16000) -> None:
        self.pool = pool
        self.sample_rate = sample_rate

    def __call__(self, call_id: str | None = None, max_alternatives: int = 0) -> Recognizer:
        return VoskRecognizer(self.pool, self.sample_rate, call_id=call_id, max_alternatives=max_alternatives)
