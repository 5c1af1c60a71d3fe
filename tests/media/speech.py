"""Russian test speech from espeak-ng, cached on disk (8 or 16 kHz, 16-bit mono PCM)."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import tempfile
import wave
from pathlib import Path

import numpy as np
import pytest

CACHE = Path(tempfile.gettempdir()) / "voicebot-test-speech"


def have_espeak() -> bool:
    return shutil.which("espeak-ng") is not None and shutil.which("sox") is not None


def speech(text: str, sample_rate: int = 8000) -> bytes:
    """PCM of `text` spoken by espeak-ng's Russian voice; skips the test when the tools are missing."""
    if not have_espeak():
        pytest.skip("espeak-ng/sox not installed (apt install espeak-ng sox)")
    CACHE.mkdir(parents=True, exist_ok=True)
    key = hashlib.sha1(f"{text}|{sample_rate}".encode()).hexdigest()[:16]
    target = CACHE / f"{key}.wav"
    if not target.exists():
        raw = CACHE / f"{key}.raw.wav"
        subprocess.run(["espeak-ng", "-v", "ru", "-w", str(raw), text], check=True, capture_output=True)
        tmp = CACHE / f"{key}.tmp.wav"
        subprocess.run(
            [
                "sox",
                str(raw),
                "-r",
                str(sample_rate),
                "-c",
                "1",
                "-b",
                "16",
                "-e",
                "signed-integer",
                str(tmp),
            ],
            check=True,
            capture_output=True,
        )
        tmp.replace(target)  # atomic, so parallel runs never read half a file
        raw.unlink(missing_ok=True)
    with wave.open(str(target), "rb") as wav:
        return wav.readframes(wav.getnframes())


def tone(freq: float, seconds: float, sample_rate: int = 8000, amplitude: float = 8000.0) -> bytes:
    t = np.arange(int(seconds * sample_rate)) / sample_rate
    return (np.sin(2 * np.pi * freq * t) * amplitude).astype("<i2").tobytes()


def noise(seconds: float, sample_rate: int = 8000, dbfs: float = -50.0, seed: int = 0) -> bytes:
    rng = np.random.default_rng(seed)
    rms = 32768 * 10 ** (dbfs / 20)
    return np.clip(rng.normal(0, rms, int(seconds * sample_rate)), -32768, 32767).astype("<i2").tobytes()


def buzz(seconds: float, sample_rate: int = 8000, f0: float = 140.0, amplitude: float = 6000.0) -> bytes:
    """A voice-like harmonic drone (no words in it): the VAD calls it speech, a recogniser finds nothing."""
    t = np.arange(int(seconds * sample_rate)) / sample_rate
    harmonics = range(1, int(sample_rate / 2 / f0))
    wave_ = sum(np.sin(2 * np.pi * f0 * k * t) / k for k in harmonics) * (1 + 0.3 * np.sin(2 * np.pi * 4 * t))
    return (wave_ / np.abs(wave_).max() * amplitude).astype("<i2").tobytes()


def mix(a: bytes, b: bytes) -> bytes:
    x = np.frombuffer(a, "<i2").astype(np.int32)
    y = np.frombuffer(b, "<i2").astype(np.int32)
    n = max(len(x), len(y))
    out = np.zeros(n, np.int32)
    out[: len(x)] += x
    out[: len(y)] += y
    return np.clip(out, -32768, 32767).astype("<i2").tobytes()
