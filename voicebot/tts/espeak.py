"""espeak-ng: robotic but always available, and fast enough to synthesise while the caller waits."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shutil

from voicebot.tts.audio import parse_wav
from voicebot.tts.base import Audio, TTSError, TTSUnavailableError
from voicebot.tts.verbalize import verbalize

logger = logging.getLogger(__name__)

MAX_TEXT_CHARS = 5000


class EspeakTTS:
    name = "espeak-ng"

    def __init__(
        self,
        voice: str = "ru",
        rate: int = 160,
        sample_rate: int = 8000,
        binary: str = "espeak-ng",
        timeout: float = 30.0,
        normalize: bool = True,
    ) -> None:
        if sample_rate not in (8000, 16000):
            raise ValueError(f"EspeakTTS produces 8000 or 16000 Hz, not {sample_rate}")
        if not 80 <= rate <= 450:
            raise ValueError(f"espeak-ng rate {rate} words/minute is outside 80..450")
        self.voice = voice
        self.rate = rate
        self.sample_rate = sample_rate
        self.binary = binary
        self.timeout = timeout
        self.normalize = normalize
        self.runs = 0  # subprocesses started; lets tests and metrics see cache hits

    def available(self) -> tuple[bool, str]:
        if shutil.which(self.binary) is None:
            return False, f"{self.binary} not found; install the Debian package espeak-ng"
        return True, ""

    async def synthesize(self, text: str) -> Audio:
        if len(text) > MAX_TEXT_CHARS:
            raise ValueError(
                f"text of {len(text)} characters is too long to synthesise (max {MAX_TEXT_CHARS})"
            )
        spoken = verbalize(text) if self.normalize else text
        if not spoken.strip():
            return Audio(b"", self.sample_rate)
        wav = await self._run(spoken)
        return parse_wav(wav).resampled(self.sample_rate)

    async def _run(self, text: str) -> bytes:
        ok, reason = self.available()
        if not ok:
            raise TTSUnavailableError(reason)
        self.runs += 1
        # Text goes through stdin: no argument-length limit, and a leading «-» cannot pass for an option.
        proc = await asyncio.create_subprocess_exec(
            self.binary,
            "-v",
            self.voice,
            "-s",
            str(self.rate),
            "--stdout",
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            out, err = await asyncio.wait_for(proc.communicate(text.encode("utf-8")), self.timeout)
        except (TimeoutError, asyncio.CancelledError):
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            await proc.wait()
            raise
        if proc.returncode != 0 or not out:
            message = err.decode("utf-8", "replace").strip()
            raise TTSError(f"espeak-ng failed (exit {proc.returncode}): {message or 'no audio'}")
        return out
