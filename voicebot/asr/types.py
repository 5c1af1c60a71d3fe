"""What every speech recogniser hands back, and the streaming interface the media pipeline drives."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable


class ASRError(RuntimeError):
    """Recognition failed (engine crashed, server dropped the stream, bad audio)."""


class ASRUnavailableError(ASRError):
    """The engine cannot start at all: no model on disk, server unreachable."""


@dataclass(frozen=True, slots=True)
class Word:
    text: str
    start: float  # seconds from the start of the stream
    end: float
    confidence: float = 1.0

    @property
    def word(self) -> str:
        """The name voicebot.media.interfaces.Word uses."""
        return self.text


class Partial(str):
    """Interim hypothesis. A str, so the media pipeline (which expects `str | None` from accept) uses it
    as is; `endpoint` is True when the engine itself heard the end of an utterance."""

    endpoint: bool

    def __new__(cls, text: str = "", endpoint: bool = False) -> Partial:
        obj = super().__new__(cls, text)
        obj.endpoint = endpoint
        return obj

    @property
    def text(self) -> str:
        return str(self)

    def __repr__(self) -> str:
        return f"Partial({str(self)!r}, endpoint={self.endpoint})"


@dataclass(frozen=True, slots=True)
class Transcript:
    text: str
    confidence: float = 0.0  # 0..1, mean of word confidences (0 when nothing was heard)
    words: tuple[Word, ...] = ()
    alternatives: tuple[str, ...] = ()
    grammar: bool = False  # decoded against a closed grammar

    @property
    def empty(self) -> bool:
        return not self.text


EMPTY_TRANSCRIPT = Transcript(text="", confidence=0.0)


@runtime_checkable
class Recognizer(Protocol):
    """One per call. Feed 16-bit mono PCM at `sample_rate`; methods must not be called concurrently."""

    sample_rate: int

    async def accept(self, pcm: bytes) -> Partial | None:
        """Decode a chunk; return a Partial when the hypothesis changed (or an endpoint was heard)."""
        ...

    async def final(self) -> Transcript:
        """End the utterance: everything heard since the last final()/reset(); the stream continues."""
        ...

    def reset(self) -> None:
        """Drop what was heard so far (e.g. the bot started speaking again)."""
        ...

    def set_grammar(self, phrases: list[str] | None) -> None:
        """Restrict the next utterances to `phrases` (None: free speech). Ignored where unsupported."""
        ...

    async def close(self) -> None: ...


RecognizerFactory = Callable[..., Recognizer]


@dataclass
class _Segments:
    """Utterance pieces the engine finalised on its own (Vosk endpointing) before final() was called."""

    items: list[Transcript] = field(default_factory=list)

    def add(self, piece: Transcript) -> None:
        if piece.text:
            self.items.append(piece)

    def text_with(self, partial: str) -> str:
        return " ".join([t.text for t in self.items] + ([partial] if partial else []))

    def merge(self, last: Transcript) -> Transcript:
        pieces = [*self.items, last] if last.text else list(self.items)
        self.items.clear()
        if not pieces:
            return Transcript(text="", confidence=0.0, grammar=last.grammar)
        if len(pieces) == 1:
            return pieces[0]
        words = tuple(w for p in pieces for w in p.words)
        confidence = sum(w.confidence for w in words) / len(words) if words else pieces[-1].confidence
        return Transcript(
            text=" ".join(p.text for p in pieces),
            confidence=confidence,
            words=words,
            alternatives=(),
            grammar=last.grammar,
        )
