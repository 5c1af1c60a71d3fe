"""The seams of the media pipeline: what carries a call, what recognises speech, what synthesises it.

Only Protocols live here, so the pipeline depends on no engine and no transport; the speech types
(`Transcript`, `Word`) are the recognisers' own, from `voicebot.asr.types`. `AudioSocketCall`
(voicebot.asterisk.audiosocket) is a `CallTransport`; the ASR and TTS packages provide the engines.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from voicebot.asr.types import Transcript, Word
from voicebot.media.frames import InboundFrame

__all__ = ["CallTransport", "StreamingRecognizer", "SynthesizedSpeech", "Transcript", "Word"]


@runtime_checkable
class CallTransport(Protocol):
    """One live call: inbound frames in, paced PCM out."""

    @property
    def sample_rate(self) -> int | None:
        """Rate of the call's audio, known after the first inbound audio frame."""
        ...

    @property
    def closed(self) -> bool: ...

    def frames(self) -> AsyncIterator[InboundFrame]:
        """Audio and DTMF in arrival order, ending with a `HangupFrame`."""
        ...

    async def send_audio(self, pcm: bytes, sample_rate: int | None = None) -> None:
        """Send PCM at `sample_rate` (default: the call's rate); pacing is the caller's job.

        Raises ConnectionError once closed. A transport that cannot carry the rate raises ValueError.
        """
        ...

    async def hangup(self) -> None: ...


class StreamingRecognizer(Protocol):
    """One recogniser per call, fed 16 kHz 16-bit mono PCM only while the caller speaks.

    `accept` returns the current partial text (None when unchanged or unknown); `final` closes the
    utterance and returns its transcript; `reset` prepares for the next utterance.
    """

    async def accept(self, pcm16k: bytes) -> str | None: ...

    async def final(self) -> Transcript: ...

    def reset(self) -> None: ...


@dataclass(frozen=True)
class SynthesizedSpeech:
    pcm: bytes  # 16-bit mono
    sample_rate: int
