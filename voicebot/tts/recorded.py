"""Prompts an announcer recorded: one WAV per prompt key, with a synthesiser for keys without a file."""

from __future__ import annotations

import asyncio
import logging
import re
from pathlib import Path

from voicebot.tts.audio import parse_wav
from voicebot.tts.base import Audio, TTSEngine, TTSError, TTSUnavailableError

logger = logging.getLogger(__name__)

_KEY = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\-]*$")


class RecordedPrompts:
    name = "recorded"

    def __init__(self, prompts_dir: Path | None, fallback: TTSEngine | None, sample_rate: int = 8000) -> None:
        self.prompts_dir = Path(prompts_dir) if prompts_dir else None
        self.fallback = fallback
        self.sample_rate = sample_rate
        # The cache key of a free text is the fallback's; a recording is never cached (it is on disk)
        self.voice = fallback.voice if fallback else "recorded"
        self.rate = fallback.rate if fallback else 0

    def path_for(self, key: str) -> Path | None:
        if not _KEY.match(key) or ".." in key:
            raise ValueError(f"invalid prompt key {key!r}: letters, digits, '_', '-' and '.' only")
        if self.prompts_dir is None:
            return None
        path = self.prompts_dir / f"{key}.wav"
        return path if path.is_file() else None

    def has(self, key: str) -> bool:
        return self.path_for(key) is not None

    async def prompt(self, key: str, text: str | None = None) -> Audio:
        """The recording for `key`, else `text` from the fallback synthesiser."""
        path = self.path_for(key)
        if path is not None:
            data = await asyncio.to_thread(path.read_bytes)
            try:
                return parse_wav(data).resampled(self.sample_rate)
            except TTSError as exc:
                raise TTSError(f"recorded prompt {path}: {exc}") from exc
        if text is None:
            raise TTSUnavailableError(f"no recording for prompt {key!r} and no text to synthesise")
        logger.debug("no recording, synthesising", extra={"prompt_key": key})
        return await self.synthesize(text)

    async def synthesize(self, text: str) -> Audio:
        if self.fallback is None:
            raise TTSUnavailableError("recorded prompts only: free text needs a fallback synthesiser")
        return (await self.fallback.synthesize(text)).resampled(self.sample_rate)
