"""One Vosk model per process and the bounded thread pool every recogniser decodes in."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

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
    event loop never blocks on Kaldi."""

    def __init__(self, model_path: Path, threads: int = 2, log_level: int = -1) -> None:
        self.model_path = Path(model_path)
        self.threads = max(1, threads)
        self.grammar_supported = supports_grammar(self.model_path)
        self._log_level = log_level
        self._model: vosk.Model | None = None
        self._lock = threading.Lock()
        self._executor = ThreadPoolExecutor(max_workers=self.threads, thread_name_prefix="vosk")

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

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)

    def _load(self) -> vosk.Model:
        check_model_dir(self.model_path)
        import vosk

        vosk.SetLogLevel(self._log_level)
        logger.info("loading Vosk model", extra={"model_path": str(self.model_path)})
        try:
            return vosk.Model(str(self.model_path))
        except Exception as exc:  # vosk raises a bare Exception on a broken model
            raise ASRUnavailableError(f"Vosk could not load {self.model_path}: {exc}") from exc


_pools: dict[tuple[Path, int], VoskModelPool] = {}
_pools_lock = threading.Lock()


def shared_pool(model_path: Path, threads: int = 2) -> VoskModelPool:
    """The process-wide pool for this model, so every call shares one loaded model."""
    key = (Path(model_path).resolve(), threads)
    with _pools_lock:
        pool = _pools.get(key)
        if pool is None:
            pool = _pools[key] = VoskModelPool(key[0], threads)
        return pool
