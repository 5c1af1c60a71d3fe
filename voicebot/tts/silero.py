"""Silero TTS: natural voices at 8 kHz, on CPU. Optional: needs torch (extra `silero`) and a model file."""

from __future__ import annotations

import asyncio
import importlib.util
import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from voicebot.tts.audio import float_to_pcm
from voicebot.tts.base import Audio, TTSError, TTSUnavailableError
from voicebot.tts.verbalize import verbalize

logger = logging.getLogger(__name__)

# Model files as the manifest names them, best licence first: v5_cis_base is MIT, v4_ru is CC BY-NC.
MODEL_FILES = ("v5_cis_base.pt", "v4_ru.pt")
DEFAULT_SPEAKERS = {"v5_cis_base.pt": "ru_zhadyra", "v4_ru.pt": "xenia"}
SAMPLE_RATES = (8000, 24000, 48000)
MAX_TEXT_CHARS = 1000  # Silero synthesises a whole phrase at once; long texts must be split upstream


def find_model(models_dir: Path) -> Path | None:
    for name in MODEL_FILES:
        candidate = Path(models_dir) / name
        if candidate.is_file():
            return candidate
    return None


class SileroTTS:
    name = "silero"

    def __init__(
        self,
        model_path: Path | None,
        voice: str | None = None,
        sample_rate: int = 8000,
        rate: int = 100,
        threads: int = 1,
    ) -> None:
        if sample_rate not in SAMPLE_RATES:
            raise ValueError(f"Silero synthesises at {SAMPLE_RATES} Hz, not {sample_rate}")
        self.model_path = Path(model_path) if model_path else None
        self.voice = voice or DEFAULT_SPEAKERS.get(self.model_path.name if self.model_path else "", "xenia")
        self.sample_rate = sample_rate  # synthesised directly at telephone rate, no resampling
        self.rate = rate  # kept for the cache key; Silero's speed is set with SSML prosody, not used here
        self.threads = threads
        self._model: Any = None
        self._lock = threading.Lock()
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="silero")

    def available(self) -> tuple[bool, str]:
        if importlib.util.find_spec("torch") is None:
            return False, "torch is not installed (pip install 'voicebot[silero]')"
        if self.model_path is None:
            return False, f"no Silero model file ({' or '.join(MODEL_FILES)}); run `voicebot models download`"
        if not self.model_path.is_file():
            return False, f"Silero model file {self.model_path} is missing; run `voicebot models download`"
        return True, ""

    async def synthesize(self, text: str) -> Audio:
        if len(text) > MAX_TEXT_CHARS:
            raise ValueError(f"text of {len(text)} characters is too long for Silero (max {MAX_TEXT_CHARS})")
        spoken = verbalize(text)
        if not spoken.strip():
            return Audio(b"", self.sample_rate)
        ok, reason = self.available()
        if not ok:
            raise TTSUnavailableError(reason)
        loop = asyncio.get_running_loop()
        pcm = await loop.run_in_executor(self._executor, self._synthesize_blocking, spoken)
        return Audio(pcm, self.sample_rate)

    def _synthesize_blocking(self, text: str) -> bytes:
        model = self._load()
        try:
            tensor = model.apply_tts(text=text, speaker=self.voice, sample_rate=self.sample_rate)
        except Exception as exc:  # torch/Silero raise assorted errors on unknown speakers or symbols
            raise TTSError(f"Silero failed on {text[:60]!r}: {exc}") from exc
        return float_to_pcm(tensor.detach().cpu().numpy())

    def _load(self) -> Any:
        with self._lock:
            if self._model is None:
                import torch  # heavy and optional: imported only when Silero is really used

                torch.set_num_threads(self.threads)
                logger.info("loading Silero model", extra={"model_path": str(self.model_path)})
                importer = torch.package.PackageImporter(str(self.model_path))
                model = importer.load_pickle("tts_models", "model")
                model.to(torch.device("cpu"))
                self._model = model
            return self._model
