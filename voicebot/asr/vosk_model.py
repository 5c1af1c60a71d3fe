"""One Vosk model per process and the bounded thread pool every recogniser decodes in."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable, Hashable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from voicebot.asr.decoder import DecoderTuning, tuned_model_dir
from voicebot.asr.priority import Owner, PriorityExecutor
from voicebot.asr.types import ASRUnavailableError

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
        max_idle: int = 64,
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
        self, fn: Callable[..., T], *args: Any, owner: Owner | None = None, urgent: bool = False
    ) -> T:
        """Run `fn(*args)` on a decoding thread; urgent work (or work whose owner turned urgent) first."""
        return await asyncio.wrap_future(self._executor.submit(fn, *args, owner=owner, urgent=urgent))

    # A fresh KaldiRecognizer starts its online i-vector (speaker/channel adaptation) from zero, and until it
    # has a few seconds of audio the acoustic scores are so flat that the search fills max-active: measured,
    # the first utterance of a fresh recogniser costs ~10x the CPU of the next one. Handing a finished
    # call's recogniser to the next call carries only those adaptation statistics over (Reset() clears the
    # decoder: no audio or words), and Kaldi lets the new caller's own audio outweigh them within seconds.

    def take_idle(self, key: Hashable) -> vosk.KaldiRecognizer | None:
        with self._idle_lock:
            idle = self._idle.get(key)
            return idle.pop() if idle else None

    def give_back(self, key: Hashable, rec: vosk.KaldiRecognizer) -> None:
        if not self.reuse_recognizers:
            return
        with self._idle_lock:
            idle = self._idle.setdefault(key, [])
            if sum(map(len, self._idle.values())) < self._max_idle:
                idle.append(rec)

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


_pools: dict[tuple[Path, int, DecoderTuning, bool], VoskModelPool] = {}
_pools_lock = threading.Lock()


def shared_pool(
    model_path: Path,
    threads: int = 2,
    decoder: DecoderTuning | None = None,
    cache_dir: Path | None = None,
    reuse_recognizers: bool = True,
) -> VoskModelPool:
    """The process-wide pool for this model, so every call shares one loaded model."""
    decoder = decoder or DecoderTuning()
    key = (Path(model_path).resolve(), threads, decoder, reuse_recognizers)
    with _pools_lock:
        pool = _pools.get(key)
        if pool is None:
            pool = _pools[key] = VoskModelPool(
                key[0], threads, decoder=decoder, cache_dir=cache_dir, reuse_recognizers=reuse_recognizers
            )
        return pool
