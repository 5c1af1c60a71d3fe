"""In-process Vosk: one KaldiRecognizer per call, decoded on the shared pool's threads."""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from typing import TYPE_CHECKING, Any

from voicebot.asr.results import parse_json, parse_result
from voicebot.asr.types import ASRError, Partial, Transcript, Word, _Segments
from voicebot.asr.vosk_model import VoskModelPool

if TYPE_CHECKING:
    import vosk

logger = logging.getLogger(__name__)

UNKNOWN_WORD = "[unk]"


def grammar_json(phrases: list[str]) -> str:
    """Vosk's grammar: a JSON list of phrases. «[unk]» lets off-list speech come out as unknown instead of
    being forced onto the nearest phrase. ensure_ascii=False matters: Vosk does not decode \\u escapes."""
    cleaned = [p.strip().lower() for p in phrases if p and p.strip()]
    if UNKNOWN_WORD not in cleaned:
        cleaned.append(UNKNOWN_WORD)
    return json.dumps(cleaned, ensure_ascii=False)


class VoskRecognizer:
    """Streaming recogniser for one call. Feed int16 mono PCM at `sample_rate` (16 kHz for small models)."""

    def __init__(
        self,
        pool: VoskModelPool,
        sample_rate: int = 16000,
        call_id: str | None = None,
        max_alternatives: int = 0,
    ) -> None:
        self.pool = pool
        self.sample_rate = sample_rate
        self.call_id = call_id
        self.max_alternatives = max_alternatives
        self._rec: vosk.KaldiRecognizer | None = None
        self._rec_key: tuple[int, str | None, int] | None = None  # the key `_rec` was made (or taken) for
        self._grammar: list[str] | None = None
        self._rebuild = True  # (re)create the KaldiRecognizer before the next chunk
        self._offset = 0.0  # seconds fed to earlier KaldiRecognizer instances, to keep word times absolute
        self._fed = 0.0  # seconds fed to the current instance
        self._segments = _Segments()
        self._last_partial = ""
        self._generation = 0  # bumped by reset(); work started before a reset is discarded
        self._reset_pending = False
        self._urgent = False  # the utterance ended: this call's decoding jumps the pool's queue
        self._lock = asyncio.Lock()
        # Held while a worker thread uses `_rec`: a call cancelled mid-decode must not hand a recogniser
        # that is still decoding to the next call.
        self._decoding = threading.Lock()
        self._closed = False
        self._adapted = False  # has decoded audio of a line before (its own, or a previous call's)
        self._settled = False  # settle() finalised everything fed so far: final() has nothing to decode

    @property
    def urgent(self) -> bool:
        return self._urgent

    def expect_final(self) -> None:
        """The caller stopped speaking: the audio still queued for this call, and its final, come before
        other calls' ordinary audio. Cleared by `reset()`."""
        self._urgent = True

    def expect_more(self) -> None:
        """The caller spoke on after a pause that looked like the end: ordinary priority again."""
        self._urgent = False

    @property
    def grammar_active(self) -> bool:
        return self._grammar is not None and self.pool.grammar_supported

    def set_grammar(self, phrases: list[str] | None) -> None:
        if phrases is not None and not self.pool.grammar_supported:
            logger.info(
                "model has a static graph; grammar ignored, decoding free speech",
                extra={"call_id": self.call_id, "model_path": str(self.pool.model_path)},
            )
            phrases = None
        if phrases == self._grammar:
            return
        self._grammar = list(phrases) if phrases is not None else None
        self._rebuild = True  # applied from the next chunk on; Kaldi cannot swap graphs mid-utterance

    def reset(self) -> None:
        self._urgent = False
        self._settled = False
        self._generation += 1
        self._segments.items.clear()
        self._last_partial = ""
        self._reset_pending = True

    async def accept(self, pcm: bytes) -> Partial | None:
        _check_pcm(pcm)
        if not pcm:
            return None
        async with self._lock:
            generation = self._generation
            self._settled = False
            endpoint, data = await self.pool.run(self._accept_blocking, bytes(pcm), owner=self)
            if generation != self._generation:
                return None
            if endpoint:
                self._segments.add(self._transcript(data))
                self._last_partial = ""
                return Partial(text=self._segments.text_with(""), endpoint=True)
            partial = str(data.get("partial", "")).strip()
            if partial == self._last_partial:
                return None
            self._last_partial = partial
            return Partial(text=self._segments.text_with(partial))

    async def adapt(self, pcm: bytes) -> None:
        """Decode the line's audio before the caller first speaks (e.g. during the greeting) and throw the
        result away. A fresh recogniser's online CMVN and i-vector start from nothing, which makes its first
        seconds several times dearer to decode; this pays that cost while the bot talks, not when the caller
        waits for an answer. No-op once the recogniser has heard any audio."""
        _check_pcm(pcm)
        if not pcm or self._adapted:
            return
        async with self._lock:
            generation = self._generation
            await self.pool.run(self._adapt_blocking, bytes(pcm), owner=self)
            if generation == self._generation:
                self.reset()

    async def settle(self) -> None:
        """The caller paused (the end of the turn may follow): decode what was heard so far to its final
        words now, as Vosk's own endpointing would, while the end-of-turn silence still runs. If the caller
        goes on, the next words are a new segment; if not, `final()` has nothing left to decode."""
        async with self._lock:
            generation = self._generation
            data = await self.pool.run(self._final_blocking, urgent=True)
            if generation != self._generation:
                return
            self._segments.add(self._transcript(data))
            self._last_partial = ""
            self._settled = True

    async def final(self) -> Transcript:
        self._urgent = True  # also promotes an accept of ours already waiting in the pool
        async with self._lock:
            if self._settled:  # nothing was fed since the pause was decoded
                self._settled = False
                return self._segments.merge(self._transcript({"text": ""}))
            data = await self.pool.run(self._final_blocking, urgent=True)
            self._last_partial = ""
            return self._segments.merge(self._transcript(data))

    async def close(self) -> None:
        async with self._lock:
            self._closed = True
            if self._rec is not None and self._rec_key is not None:
                # Reset() when taken; a full pool frees it (and trims the heap): both off the event loop.
                await self.pool.run(self._give_back_blocking)
            self._rec = None

    def _give_back_blocking(self) -> None:
        # A call that ended mid-decode (the caller hung up while speaking) leaves that decode running in
        # a worker thread: the recogniser goes back once it is over, never to a call while it decodes.
        # (Dropping it instead left ~25 MB a time on the heap, freed but never trimmed.)
        with self._decoding:
            rec, key = self._rec, self._rec_key
            self._rec = None
        if rec is not None and key is not None:
            self.pool.give_back(key, rec)

    # --- worker-thread side -------------------------------------------------------------------------

    def _accept_blocking(self, pcm: bytes) -> tuple[bool, dict[str, Any]]:
        with self._decoding:
            if self._closed:
                return False, {}
            return self._accept_locked(pcm)

    def _adapt_blocking(self, pcm: bytes) -> None:
        with self._decoding:
            if self._closed:
                return
            rec = self._recognizer()
            if self._adapted:
                return  # it came from the pool, already warmed on speech
            self._fed += len(pcm) / 2 / self.sample_rate
            rec.AcceptWaveform(pcm)
            rec.FinalResult()
            self._adapted = True

    def _accept_locked(self, pcm: bytes) -> tuple[bool, dict[str, Any]]:
        self._adapted = True
        rec = self._recognizer()
        self._fed += len(pcm) / 2 / self.sample_rate
        try:
            if rec.AcceptWaveform(pcm):
                return True, parse_json(rec.Result())
            return False, parse_json(rec.PartialResult())
        except ASRError:
            raise
        except Exception as exc:
            raise ASRError(f"Vosk failed to decode audio: {exc}") from exc

    def _final_blocking(self) -> dict[str, Any]:
        with self._decoding:
            if self._closed:
                return {"text": ""}
            return self._final_locked()

    def _final_locked(self) -> dict[str, Any]:
        if self._rec is None or self._reset_pending:
            self._recognizer()  # apply a pending reset so nothing stale comes back
            return {"text": ""}
        return parse_json(self._rec.FinalResult())

    def _recognizer(self) -> vosk.KaldiRecognizer:
        if self._rec is None or self._rebuild:
            self._rec = self._create()
            self._rebuild = False
            self._reset_pending = False
        elif self._reset_pending:
            self._rec.Reset()
            self._reset_pending = False
        return self._rec

    def _create(self) -> vosk.KaldiRecognizer:
        self._offset += self._fed
        self._fed = 0.0
        if self._rec is not None and self._rec_key is not None:
            # The grammar changed: the old recogniser serves the next call that needs its grammar.
            self._rec.Reset()
            self.pool.give_back(self._rec_key, self._rec)
            self._rec = None
        key = self._reuse_key()
        self._rec_key = key
        reused = self.pool.take_idle(key)
        if reused is not None:
            reused.Reset()
            self._adapted = True
            return reused
        return self.pool.create(key)

    def _reuse_key(self) -> tuple[int, str | None, int]:
        grammar = grammar_json(self._grammar) if self.grammar_active and self._grammar is not None else None
        return (self.sample_rate, grammar, self.max_alternatives)

    def _transcript(self, data: dict[str, Any]) -> Transcript:
        transcript = parse_result(data, grammar=self.grammar_active)
        if not self._offset or not transcript.words:
            return transcript
        shifted = tuple(
            Word(w.text, w.start + self._offset, w.end + self._offset, w.confidence) for w in transcript.words
        )
        return Transcript(
            transcript.text, transcript.confidence, shifted, transcript.alternatives, transcript.grammar
        )


def _check_pcm(pcm: bytes) -> None:
    if not isinstance(pcm, bytes | bytearray | memoryview):
        raise TypeError(f"audio must be bytes of int16 PCM, got {type(pcm).__name__}")
    if len(pcm) % 2:
        raise ValueError(f"int16 PCM needs an even number of bytes, got {len(pcm)}")
