"""espeak-ng, Silero (unavailable here), recorded prompts, the disk cache and the factory."""

from __future__ import annotations

import asyncio
import io
import shutil
import wave
from pathlib import Path

import numpy as np
import pytest

from voicebot.settings import Settings
from voicebot.tts import (
    Audio,
    CachedTTS,
    EspeakTTS,
    RecordedPrompts,
    SileroTTS,
    TTSEngine,
    TTSError,
    TTSUnavailableError,
    create_tts,
)
from voicebot.tts.audio import parse_wav, rms

needs_espeak = pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng is not installed")


def wav_bytes(samples: np.ndarray, rate: int, channels: int = 1) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(samples.astype("<i2").tobytes())
    return buffer.getvalue()


def tone(seconds: float, rate: int) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return (np.sin(2 * np.pi * 440 * t) * 8000).astype(np.int16)


class CountingEngine:
    """A stand-in synthesiser that counts calls and can be slowed down."""

    name, voice, rate, sample_rate = "counting", "v", 100, 8000

    def __init__(self, delay: float = 0.0) -> None:
        self.calls: list[str] = []
        self.delay = delay

    async def synthesize(self, text: str) -> Audio:
        self.calls.append(text)
        await asyncio.sleep(self.delay)
        return Audio(tone(0.1, 8000).tobytes(), 8000)


@needs_espeak
async def test_espeak_speaks_russian_at_8khz_for_a_plausible_time():
    engine = EspeakTTS(voice="ru", rate=160, sample_rate=8000)
    assert isinstance(engine, TTSEngine)
    audio = await engine.synthesize("Здравствуйте! Вы позвонили в управляющую компанию.")
    assert audio.sample_rate == 8000 and len(audio.pcm) % 2 == 0
    assert 1.5 < audio.duration < 8.0  # seven words at 160 wpm
    assert rms(audio.pcm) > 500  # not silence


@needs_espeak
async def test_espeak_reads_numbers_as_words_and_handles_odd_text():
    engine = EspeakTTS(sample_rate=16000)
    short = await engine.synthesize("Долг 5 руб.")
    long = await engine.synthesize("Долг 4870.50 руб.")
    assert short.sample_rate == 16000 and long.duration > short.duration + 1.0
    dashed = await engine.synthesize("-v en --help")  # via stdin, never parsed as options
    assert dashed.duration > 0.3
    assert (await engine.synthesize("   ")).pcm == b""
    with pytest.raises(ValueError, match="too long"):
        await engine.synthesize("а" * 6000)


async def test_espeak_missing_binary_is_reported():
    engine = EspeakTTS(binary="espeak-ng-not-installed")
    assert engine.available()[0] is False
    with pytest.raises(TTSUnavailableError, match="not found"):
        await engine.synthesize("привет")


def test_espeak_refuses_bad_settings():
    with pytest.raises(ValueError):
        EspeakTTS(sample_rate=44100)
    with pytest.raises(ValueError):
        EspeakTTS(rate=5)


async def test_silero_reports_unavailable_cleanly(tmp_path: Path):
    engine = SileroTTS(tmp_path / "v5_cis_base.pt")
    ok, reason = engine.available()
    assert not ok and ("torch" in reason or "missing" in reason)
    assert engine.sample_rate == 8000 and engine.voice == "ru_zhadyra"
    with pytest.raises(TTSUnavailableError):
        await engine.synthesize("привет")
    assert not SileroTTS(None).available()[0]
    with pytest.raises(ValueError):
        SileroTTS(None, sample_rate=16000)


def test_parse_wav_tolerates_streamed_sizes_and_downmixes():
    stereo = np.repeat(tone(0.2, 22050), 2)
    data = bytearray(wav_bytes(stereo, 22050, channels=2))
    data[4:8] = b"\xff\xff\xff\x7f"  # what a pipe writer leaves in the RIFF size
    data[40:44] = b"\xff\xff\xff\x7f"  # and in the data size
    audio = parse_wav(bytes(data))
    assert audio.sample_rate == 22050 and abs(audio.duration - 0.2) < 0.001
    with pytest.raises(TTSError):
        parse_wav(b"not a wav at all")


async def test_recorded_prompt_is_resampled_and_missing_keys_fall_back(tmp_path: Path):
    (tmp_path / "greeting.wav").write_bytes(wav_bytes(tone(0.5, 16000), 16000))
    fallback = CountingEngine()
    prompts = RecordedPrompts(tmp_path, fallback, sample_rate=8000)

    greeting = await prompts.prompt("greeting", "Здравствуйте")
    assert greeting.sample_rate == 8000 and abs(greeting.duration - 0.5) < 0.01
    assert fallback.calls == []

    await prompts.prompt("goodbye", "До свидания")
    assert fallback.calls == ["До свидания"]
    with pytest.raises(ValueError, match="invalid prompt key"):
        await prompts.prompt("../etc/passwd", "x")
    with pytest.raises(TTSUnavailableError):
        await RecordedPrompts(tmp_path, None).prompt("goodbye", "До свидания")


async def test_cache_hit_does_not_synthesise_again(tmp_path: Path):
    engine = CountingEngine()
    cache = CachedTTS(engine, tmp_path)
    first = await cache.synthesize("Здравствуйте!")
    second = await cache.synthesize("  Здравствуйте!  ")  # same text after normalisation
    assert first == second and engine.calls == ["Здравствуйте!"]
    assert (cache.hits, cache.misses) == (1, 1)

    # a fresh cache object over the same folder (a restarted process) still hits
    again = CachedTTS(engine, tmp_path)
    assert await again.synthesize("Здравствуйте!") == first and len(engine.calls) == 1


async def test_cache_key_covers_engine_voice_and_rate(tmp_path: Path):
    a, b = CountingEngine(), CountingEngine()
    b.voice = "other"
    assert CachedTTS(a, tmp_path).key("да") != CachedTTS(b, tmp_path).key("да")
    assert CachedTTS(a, tmp_path).key("да") != CachedTTS(a, tmp_path).key("нет")


async def test_concurrent_requests_synthesise_once(tmp_path: Path):
    engine = CountingEngine(delay=0.05)
    cache = CachedTTS(engine, tmp_path)
    results = await asyncio.gather(*(cache.synthesize("Минутку") for _ in range(5)))
    assert len(engine.calls) == 1 and all(r == results[0] for r in results)


async def test_damaged_cache_entry_is_resynthesised(tmp_path: Path):
    engine = CountingEngine()
    cache = CachedTTS(engine, tmp_path)
    await cache.synthesize("Да")
    key = cache.key("Да")
    (tmp_path / key[:2] / f"{key}.pcm").write_bytes(b"\x00\x00")
    await cache.synthesize("Да")
    assert len(engine.calls) == 2


async def test_prewarm_counts_new_phrases(tmp_path: Path):
    engine = CountingEngine()
    cache = CachedTTS(engine, tmp_path)
    assert await cache.prewarm(["Да", "Нет", "Да", " "]) == 2
    assert await cache.prewarm(["Да", "Нет", "Может быть"]) == 1
    assert sorted(engine.calls) == ["Да", "Может быть", "Нет"]


@needs_espeak
async def test_cached_espeak_second_call_spawns_nothing(tmp_path: Path):
    engine = EspeakTTS()
    cache = CachedTTS(engine, tmp_path)
    first = await cache.synthesize("Спасибо за звонок")
    second = await cache.synthesize("Спасибо за звонок")
    assert engine.runs == 1 and first == second


@needs_espeak
def test_create_tts_auto_falls_back_to_espeak(tmp_path: Path):
    settings = Settings(tts="auto", models_dir=tmp_path, data_dir=tmp_path / "var")
    tts = create_tts(settings)
    assert isinstance(tts, CachedTTS) and tts.name == "espeak-ng" and tts.sample_rate == 8000
    assert tts.cache_dir == tmp_path / "var" / "cache" / "tts"


def test_create_tts_silero_demanded_but_missing_is_clear(tmp_path: Path):
    with pytest.raises(TTSUnavailableError, match="VOICEBOT_TTS=silero"):
        create_tts(Settings(tts="silero", models_dir=tmp_path, data_dir=tmp_path))


@needs_espeak
def test_create_tts_recorded_wraps_a_fallback(tmp_path: Path):
    settings = Settings(tts="recorded", prompts_dir=tmp_path, models_dir=tmp_path, data_dir=tmp_path)
    tts = create_tts(settings)
    assert isinstance(tts.engine, RecordedPrompts) and tts.engine.fallback.name == "espeak-ng"
