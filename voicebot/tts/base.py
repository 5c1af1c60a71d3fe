"""The synthesiser interface and the audio it returns."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

SAMPLE_WIDTH = 2  # int16


class TTSError(RuntimeError):
    """Synthesis failed (engine crashed, timed out, produced garbage)."""


class TTSUnavailableError(TTSError):
    """The engine cannot run here: binary, library or model file missing."""


@dataclass(frozen=True, slots=True)
class Audio:
    """16-bit signed little-endian mono PCM."""

    pcm: bytes
    sample_rate: int

    @property
    def duration(self) -> float:
        return len(self.pcm) / SAMPLE_WIDTH / self.sample_rate

    def resampled(self, sample_rate: int) -> Audio:
        from voicebot.tts.audio import resample

        if sample_rate == self.sample_rate:
            return self
        return Audio(resample(self.pcm, self.sample_rate, sample_rate), sample_rate)


@runtime_checkable
class TTSEngine(Protocol):
    name: str
    voice: str
    rate: int
    sample_rate: int  # rate of the Audio it returns

    async def synthesize(self, text: str) -> Audio: ...
