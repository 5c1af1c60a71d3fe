"""One Vosk model per process and the bounded thread pool every recogniser decodes in."""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import ctypes.util
import logging
import threading
import time
from collections.abc import Callable, Hashable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from voicebot.asr.decoder import DecoderTuning, tuned_model_dir
from voicebot.asr.priority import Owner, PriorityExecutor
from voicebot.asr.types import ASRUnavailableError
from voicebot.metrics import ASR_DECODE, ASR_QUEUE_WAIT

if TYPE_CHECKING:
    import vosk

logger = logging.getLogger(__name__)

T = TypeVar("T")

DOWNLOAD_HINT = (
    "run `voicebot models download --name vosk-model-small-ru-0.22` (or set VOICEBOT_VOSK_MODEL_PATH)"
)


def supports_grammar(model_path: Path) -> bool:
    """Small models ship a lookahead graph (HCLr.fst + Gr.fst) that accepts a runtime grammar; big ones
    ship a static HCLG.fst, where Vosk ignores the grammar."""
    for graph in (model_path / "graph", model_path):
        if (graph / "HCLr.fst").exists() and (graph / "Gr.fst").exists():
            return True
    return False


def check_model_dir(model_path: Path) -> None:
    if not model_path.is_dir():
        raise ASRUnavailableError(f"Vosk model folder {model_path} does not exist; {DOWNLOAD_HINT}")
    has_am = (model_path / "am" / "final.mdl").exists() or (model_path / "final.mdl").exists()
    if not has_am:
        raise ASRUnavailableError(f"{model_path} is not a Vosk model (no am/final.mdl); {DOWNLOAD_HINT}")


class VoskModelPool:
    """Loads the model lazily, once, whoever asks first; runs all decoding on `threads` workers so the
    event loop never blocks on Kaldi. Work of a recogniser that is finishing an utterance (its `urgent`
    flag) jumps the queue: see priority.py.

    `decoder` narrows Kaldi's search (max-active, beam, lattice-beam) for small servers; the model is then
    loaded from an overlay folder under `cache_dir` (see decoder.py)."""

    def __init__(
        self,
        model_path: Path,
        threads: int = 2,
        log_level: int = -1,
        decoder: DecoderTuning | None = None,
        cache_dir: Path | None = None,
        reuse_recognizers: bool = True,
        max_idle: int = 20,
    ) -> None:
        self.model_path = Path(model_path)
        self.threads = max(1, threads)
        self.grammar_supported = supports_grammar(self.model_path)
        self.decoder = decoder or DecoderTuning()
        self.cache_dir = cache_dir
        self._log_level = log_level
        self._model: vosk.Model | None = None
        self._lock = threading.Lock()
        self._executor = PriorityExecutor(self.threads, name="vosk")
        self.reuse_recognizers = reuse_recognizers
        self._max_idle = max_idle
        self._idle: dict[Hashable, list[vosk.KaldiRecognizer]] = {}
        self._idle_lock = threading.Lock()
        self._trimmed_at = 0.0

    def model(self) -> vosk.Model:
        """Blocking; call from a worker thread (or via `load()`)."""
        if self._model is None:
            with self._lock:
                if self._model is None:
                    self._model = self._load()
        return self._model

    async def load(self) -> None:
        """Load at start-up rather than on the first call's first word."""
        await self.run(self.model)

    async def run(
        self,
        fn: Callable[..., T],
        *args: Any,
        owner: Owner | None = None,
        urgent: bool = False,
        background: bool = False,
    ) -> T:
        """Run `fn(*args)` on a decoding thread; urgent work (or work whose owner turned urgent) first,
        background work only when nothing else waits. A call's decoding (work with an owner, or urgent)
        feeds the ASR queue-wait and decode-time metrics; loading, warming and hand-backs do not."""
        if background or (owner is None and not urgent):
            future = self._executor.submit(fn, *args, owner=owner, urgent=urgent, background=background)
            return await asyncio.wrap_future(future)
        submitted = time.perf_counter()

        def timed() -> T:
            started = time.perf_counter()
            ASR_QUEUE_WAIT.observe(started - submitted)
            try:
                return fn(*args)
            finally:
                ASR_DECODE.observe(time.perf_counter() - started)

        future = self._executor.submit(timed, owner=owner, urgent=urgent)
        return await asyncio.wrap_future(future)

    # A fresh KaldiRecognizer starts its online i-vector (speaker/channel adaptation) from zero, and until it
    # has a few seconds of audio the acoustic scores are so flat that the search fills max-active: measured,
    # the first utterance of a fresh recogniser costs ~10x the CPU of the next one. Handing a finished
    # call's recogniser to the next call carries only those adaptation statistics over (Reset() clears the
    # decoder: no audio or words), and Kaldi lets the new caller's own audio outweigh them within seconds.

    #
    # Measured with the small models (2.2 s utterance, --max-active=1000): a fresh recogniser's first
    # utterance costs ~1.3 CPU-s, the next ones ~0.16; decoding 1 s of line silence first costs ~0.75 CPU-s
    # and still leaves the next utterance at ~0.65: only speech warms a recogniser fully. Each one holds
    # ~25 MB once it has decoded. Hence a pool of `max_idle` recognisers warmed on speech at start-up, off
    # any caller's time (`prewarm`), reused call after call; one handed back to a full pool is freed and its
    # memory returned to the system, so memory after the calls end is what it was before they started.

    def take_idle(self, key: Hashable) -> vosk.KaldiRecognizer | None:
        with self._idle_lock:
            idle = self._idle.get(key)
            return idle.pop() if idle else None

    def give_back(self, key: Hashable, rec: vosk.KaldiRecognizer) -> None:
        """Keep `rec` for the next call (call off the event loop: a full pool frees it)."""
        if self.reuse_recognizers:
            with self._idle_lock:
                idle = self._idle.setdefault(key, [])
                if len(idle) < self._limit(key):
                    idle.append(rec)
                    return
        del rec
        self._return_memory()

    def idle_count(self, key: Hashable | None = None) -> int:
        with self._idle_lock:
            if key is None:
                return sum(map(len, self._idle.values()))
            return len(self._idle.get(key, ()))

    def create(self, key: tuple[int, str | None, int]) -> vosk.KaldiRecognizer:
        """A new recogniser for (sample rate, grammar JSON or None, max alternatives); blocking."""
        import vosk

        sample_rate, grammar, alternatives = key
        model = self.model()
        if grammar is not None and self.grammar_supported:
            rec = vosk.KaldiRecognizer(model, sample_rate, grammar)
        else:
            rec = vosk.KaldiRecognizer(model, sample_rate)
        rec.SetWords(True)
        if alternatives:
            rec.SetMaxAlternatives(alternatives)
        return rec

    async def prewarm(self, keys: list[tuple[int, str | None, int]], speech16k: bytes) -> int:
        """Fill the idle pool for each key with recognisers that have decoded `speech16k` once, as
        background work; returns how many were made."""
        made = 0
        for key in keys:
            while self.reuse_recognizers and self.idle_count(key) < self._limit(key):
                await self.run(self._warm_one, key, speech16k, background=True)
                made += 1
        if made:
            logger.info("speech recognisers warmed", extra={"count": made})
        return made

    def _warm_one(self, key: tuple[int, str | None, int], speech16k: bytes) -> None:
        rec = self.create(key)
        rec.AcceptWaveform(speech16k)
        rec.FinalResult()
        rec.Reset()
        self.give_back(key, rec)

    def _limit(self, key: Hashable) -> int:
        # Grammar recognisers are one per closed question kind; a quarter of the pool each is plenty.
        grammar = key[1] if isinstance(key, tuple) and len(key) > 1 else None
        return self._max_idle if grammar is None else max(1, self._max_idle // 4)

    def _return_memory(self) -> None:
        """glibc keeps freed heap pages; a freed recogniser's ~25 MB only goes back with malloc_trim."""
        now = time.monotonic()
        if now - self._trimmed_at < 5.0:
            return
        self._trimmed_at = now
        _malloc_trim()

    @property
    def queued(self) -> int:
        return self._executor.queued

    def close(self) -> None:
        self._executor.shutdown(cancel_futures=True)

    def _load(self) -> vosk.Model:
        check_model_dir(self.model_path)
        import vosk

        vosk.SetLogLevel(self._log_level)
        path = self.model_path
        if self.decoder.active:
            if self.cache_dir is None:
                raise ASRUnavailableError("decoder tuning needs a cache folder for the tuned model overlay")
            path = tuned_model_dir(self.model_path, self.decoder, self.cache_dir)
        logger.info("loading Vosk model", extra={"model_path": str(path), "decoder": self.decoder.describe()})
        try:
            return vosk.Model(str(path))
        except Exception as exc:  # vosk raises a bare Exception on a broken model
            raise ASRUnavailableError(f"Vosk could not load {path}: {exc}") from exc


def _malloc_trim() -> None:
    name = ctypes.util.find_library("c")
    if name is None:
        return
    with contextlib.suppress(OSError, AttributeError):  # not glibc: nothing to trim
        ctypes.CDLL(name).malloc_trim(0)


def recognizer_key(sample_rate: int, grammar: list[str] | None, max_alternatives: int = 0) -> tuple:
    from voicebot.asr.vosk_local import grammar_json

    return (sample_rate, grammar_json(grammar) if grammar is not None else None, max_alternatives)


_pools: dict[tuple[Path, int, DecoderTuning, bool], VoskModelPool] = {}
_pools_lock = threading.Lock()


def shared_pool(
    model_path: Path,
    threads: int = 2,
    decoder: DecoderTuning | None = None,
    cache_dir: Path | None = None,
    reuse_recognizers: bool = True,
    max_idle: int = 20,
) -> VoskModelPool:
    """The process-wide pool for this model, so every call shares one loaded model."""
    decoder = decoder or DecoderTuning()
    key = (Path(model_path).resolve(), threads, decoder, reuse_recognizers)
    with _pools_lock:
        pool = _pools.get(key)
        if pool is None:
            pool = _pools[key] = VoskModelPool(
                key[0],
                threads,
                decoder=decoder,
                cache_dir=cache_dir,
                reuse_recognizers=reuse_recognizers,
                max_idle=max_idle,
            )
        return pool
