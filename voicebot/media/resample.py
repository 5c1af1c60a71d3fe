"""Sample-rate conversion of 16-bit mono PCM.

`StreamResampler` keeps the filter state between chunks (soxr's streaming API), so a call's audio can be
converted 20 ms at a time without clicks at chunk borders or drift of the total length; `audioop.ratecv`
(removed in Python 3.13) and per-chunk one-shot resampling both fail on one of those counts.
"""

from __future__ import annotations

import numpy as np
import soxr


class StreamResampler:
    """Converts a continuous stream; call `flush()` once at the end to get the filter's tail."""

    def __init__(self, in_rate: int, out_rate: int, quality: str = "HQ") -> None:
        if in_rate <= 0 or out_rate <= 0:
            raise ValueError(f"bad sample rates {in_rate} -> {out_rate}")
        self.in_rate = in_rate
        self.out_rate = out_rate
        self._stream = (
            None
            if in_rate == out_rate
            else soxr.ResampleStream(in_rate, out_rate, 1, dtype="int16", quality=quality)
        )
        self._odd = b""  # a byte left over when a chunk split a sample in two

    def process(self, pcm: bytes) -> bytes:
        data = self._odd + pcm
        cut = len(data) - len(data) % 2
        data, self._odd = data[:cut], data[cut:]
        if self._stream is None or not data:
            return data
        out = self._stream.resample_chunk(np.frombuffer(data, dtype="<i2"), last=False)
        return out.astype("<i2", copy=False).tobytes()

    def flush(self) -> bytes:
        if self._stream is None:
            return b""
        out = self._stream.resample_chunk(np.zeros(0, dtype="<i2"), last=True)
        return out.astype("<i2", copy=False).tobytes()


def resample(pcm: bytes, in_rate: int, out_rate: int, quality: str = "HQ") -> bytes:
    """One-shot conversion of a whole buffer (a TTS phrase, a prompt file)."""
    if in_rate == out_rate or not pcm:
        return pcm
    samples = np.frombuffer(pcm[: len(pcm) - len(pcm) % 2], dtype="<i2")
    return soxr.resample(samples, in_rate, out_rate, quality=quality).astype("<i2", copy=False).tobytes()
