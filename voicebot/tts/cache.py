"""Disk cache in front of any synthesiser: fixed prompts are synthesised once, ever."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import os
import tempfile
import unicodedata
from collections.abc import Iterable
from pathlib import Path

from voicebot.tts.base import Audio, TTSEngine

logger = logging.getLogger(__name__)


def normalize_text(text: str) -> str:
    """Texts differing only in Unicode form or whitespace sound the same and share an entry."""
    return " ".join(unicodedata.normalize("NFC", text).split())


class CachedTTS:
    def __init__(self, engine: TTSEngine, cache_dir: Path) -> None:
        self.engine = engine
        self.cache_dir = Path(cache_dir)
        self.name = engine.name
        self.voice = engine.voice
        self.rate = engine.rate
        self.sample_rate = engine.sample_rate
        self.hits = 0
        self.misses = 0
        self._inflight: dict[str, asyncio.Task[Audio]] = {}

    def key(self, text: str) -> str:
        parts = [self.engine.name, self.engine.voice, str(self.engine.rate), str(self.engine.sample_rate)]
        material = "\x1f".join([*parts, normalize_text(text)])
        return hashlib.sha256(material.encode("utf-8")).hexdigest()

    async def synthesize(self, text: str) -> Audio:
        key = self.key(text)
        if key not in self._inflight:
            cached = await asyncio.to_thread(self._read, key)
            if cached is not None:
                self.hits += 1
                return cached
        task = self._inflight.get(key)  # looked up again: the disk read let others run
        if task is None:
            self.misses += 1
            task = self._inflight[key] = asyncio.create_task(self._fill(key, text))
            task.add_done_callback(lambda _: self._inflight.pop(key, None))
        else:  # someone is synthesising this very phrase: share their result
            self.hits += 1
        # shield: one impatient caller hanging up must not cancel the synthesis others wait for
        return await asyncio.shield(task)

    async def _fill(self, key: str, text: str) -> Audio:
        audio = await self.engine.synthesize(normalize_text(text))
        await asyncio.to_thread(self._write, key, audio, text)
        return audio

    async def prewarm(self, texts: Iterable[str], concurrency: int = 2) -> int:
        """Synthesise every text not cached yet; returns how many were new."""
        limit = asyncio.Semaphore(concurrency)
        unique = {normalize_text(t) for t in texts if t and t.strip()}
        before = self.misses

        async def one(text: str) -> None:
            async with limit:
                await self.synthesize(text)

        await asyncio.gather(*(one(t) for t in unique))
        return self.misses - before

    # --- files ------------------------------------------------------------------------------------------

    def _paths(self, key: str) -> tuple[Path, Path]:
        folder = self.cache_dir / key[:2]
        return folder / f"{key}.pcm", folder / f"{key}.json"

    def _read(self, key: str) -> Audio | None:
        pcm_path, meta_path = self._paths(key)
        try:
            meta = json.loads(meta_path.read_text("utf-8"))
            pcm = pcm_path.read_bytes()
        except (OSError, ValueError):
            return None
        if len(pcm) != meta.get("bytes") or not isinstance(meta.get("sample_rate"), int):
            logger.warning("discarding a damaged TTS cache entry", extra={"cache_key": key})
            return None
        return Audio(pcm, meta["sample_rate"])

    def _write(self, key: str, audio: Audio, text: str) -> None:
        pcm_path, meta_path = self._paths(key)
        pcm_path.parent.mkdir(parents=True, exist_ok=True)
        meta = {
            "sample_rate": audio.sample_rate,
            "bytes": len(audio.pcm),
            "engine": self.engine.name,
            "voice": self.engine.voice,
            "rate": self.engine.rate,
            "text": normalize_text(text),
        }
        # PCM first, metadata last: a reader only trusts an entry whose metadata exists and matches
        _atomic_write(pcm_path, audio.pcm)
        _atomic_write(meta_path, json.dumps(meta, ensure_ascii=False).encode("utf-8"))


def _atomic_write(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
