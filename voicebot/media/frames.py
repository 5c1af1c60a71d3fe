"""Value objects that travel through the media pipeline.

Two families live here: what a call transport delivers (audio, DTMF, hang-up) and what a `MediaSession`
reports to the dialogue layer (speech started/ended, silence, ...). They are plain frozen dataclasses so they
can be compared in tests and passed between tasks without copying concerns.
"""

from __future__ import annotations

from dataclasses import dataclass, field

SAMPLE_WIDTH = 2  # every PCM buffer in the project is signed 16-bit little-endian mono


def pcm_duration(pcm: bytes, sample_rate: int) -> float:
    """Seconds of audio in a 16-bit mono buffer."""
    return len(pcm) / (SAMPLE_WIDTH * sample_rate)


def silence(sample_rate: int, ms: float) -> bytes:
    """A buffer of digital silence of the given length."""
    return bytes(round(sample_rate * ms / 1000) * SAMPLE_WIDTH)


# --- what a call transport delivers ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AudioFrame:
    """A chunk of 16-bit mono PCM; `timestamp` is the event-loop time it arrived or was produced."""

    pcm: bytes
    sample_rate: int
    timestamp: float = 0.0

    @property
    def samples(self) -> int:
        return len(self.pcm) // SAMPLE_WIDTH

    @property
    def duration(self) -> float:
        return pcm_duration(self.pcm, self.sample_rate)


@dataclass(frozen=True, slots=True)
class DtmfFrame:
    """One key press, reported when the key is released."""

    digit: str
    timestamp: float = 0.0


@dataclass(frozen=True, slots=True)
class HangupFrame:
    """The call is over; `reason` says who or what ended it (caller, bot, protocol_error, ...)."""

    reason: str
    timestamp: float = 0.0


InboundFrame = AudioFrame | DtmfFrame | HangupFrame


# --- what a media session reports --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SpeechStarted:
    timestamp: float
    offset_ms: int | None = None  # offset into the call recording, when one is made


@dataclass(frozen=True, slots=True)
class PartialTranscript:
    text: str
    timestamp: float


@dataclass(frozen=True, slots=True)
class SpeechEnded:
    """One caller utterance: its audio at 16 kHz and, when a recogniser is attached, its transcript."""

    audio: bytes
    sample_rate: int
    timestamp: float
    text: str | None = None
    confidence: float | None = None
    forced: bool = False  # cut at the maximum utterance length rather than by trailing silence
    offset_ms: int | None = None

    @property
    def duration(self) -> float:
        return pcm_duration(self.audio, self.sample_rate)


@dataclass(frozen=True, slots=True)
class BargeIn:
    """The caller interrupted a prompt and playback was stopped for good."""

    timestamp: float
    text: str | None = None


@dataclass(frozen=True, slots=True)
class Dtmf:
    digit: str
    timestamp: float


@dataclass(frozen=True, slots=True)
class Silence:
    """Nobody spoke for `timeout` seconds while the bot was quiet."""

    timeout: float
    timestamp: float


@dataclass(frozen=True, slots=True)
class Hangup:
    reason: str
    timestamp: float
    extra: dict[str, object] = field(default_factory=dict)


MediaEvent = SpeechStarted | PartialTranscript | SpeechEnded | BargeIn | Dtmf | Silence | Hangup
