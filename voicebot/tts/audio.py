"""PCM helpers for synthesisers: WAV parsing that tolerates streamed headers, resampling via soxr."""

from __future__ import annotations

import struct

import numpy as np
import soxr

from voicebot.tts.base import Audio, TTSError


def resample(pcm: bytes, from_rate: int, to_rate: int) -> bytes:
    """One-shot resampling of a whole phrase (streaming resamplers belong to the media pipeline)."""
    if from_rate == to_rate or not pcm:
        return pcm
    samples = np.frombuffer(pcm, dtype="<i2")
    out = soxr.resample(samples, from_rate, to_rate, quality="HQ")
    return np.asarray(out, dtype="<i2").tobytes()


def float_to_pcm(samples: np.ndarray) -> bytes:
    clipped = np.clip(np.asarray(samples, dtype=np.float32), -1.0, 1.0)
    return (clipped * 32767.0).astype("<i2").tobytes()


def parse_wav(data: bytes) -> Audio:
    """Read a PCM WAV into mono int16. Tools writing to a pipe (espeak-ng --stdout) cannot seek back to
    fill in the sizes, so the RIFF and data sizes are not trusted: the data chunk runs to the end."""
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise TTSError("not a WAV file")
    pos, fmt = 12, None
    while pos + 8 <= len(data):
        chunk_id, size = data[pos : pos + 4], struct.unpack("<I", data[pos + 4 : pos + 8])[0]
        body_start = pos + 8
        if chunk_id == b"fmt ":
            fmt = struct.unpack("<HHIIHH", data[body_start : body_start + 16])
        elif chunk_id == b"data":
            if fmt is None:
                raise TTSError("WAV data chunk before its format chunk")
            end = len(data) if size in (0, 0xFFFFFFFF, 0x7FFFFFFF) else min(len(data), body_start + size)
            return _to_mono16(data[body_start:end], fmt)
        pos = body_start + size + (size & 1)
    raise TTSError("WAV file without a data chunk")


def _to_mono16(body: bytes, fmt: tuple[int, ...]) -> Audio:
    audio_format, channels, rate, _, _, bits = fmt
    if audio_format not in (1, 0xFFFE) or bits not in (8, 16):
        raise TTSError(f"unsupported WAV encoding (format {audio_format}, {bits} bits); use 8/16-bit PCM")
    if channels < 1:
        raise TTSError("WAV file with no channels")
    frame = channels * bits // 8
    body = body[: len(body) - len(body) % frame]
    if bits == 8:
        samples = (np.frombuffer(body, dtype=np.uint8).astype(np.int16) - 128) << 8
    else:
        samples = np.frombuffer(body, dtype="<i2")
    if channels > 1:
        samples = samples.reshape(-1, channels).mean(axis=1).astype(np.int16)
    return Audio(np.asarray(samples, dtype="<i2").tobytes(), rate)


def rms(pcm: bytes) -> float:
    if not pcm:
        return 0.0
    samples = np.frombuffer(pcm, dtype="<i2").astype(np.float64)
    return float(np.sqrt(np.mean(samples**2)))
