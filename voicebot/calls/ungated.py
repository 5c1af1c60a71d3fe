"""Recognition without VAD gating: the recogniser hears every frame of the call, speech or not.

Only for measurement (`voicebot bench calls --no-vad`): it shows what gating the recogniser on voice
activity saves. Endpointing still uses the VAD, so the dialogue behaves the same.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

from voicebot.media.frames import AudioFrame, InboundFrame
from voicebot.media.interfaces import CallTransport
from voicebot.media.pipeline import ASR_RATE
from voicebot.media.resample import StreamResampler

log = logging.getLogger(__name__)


class TapTransport:
    """A transport that also feeds all inbound audio, at 16 kHz, to a recogniser."""

    def __init__(self, inner: CallTransport, recognizer: Any) -> None:
        self.inner = inner
        self.recognizer = recognizer
        self._queue: asyncio.Queue[bytes] = asyncio.Queue()
        self._resampler: StreamResampler | None = None
        self._task: asyncio.Task[None] | None = None

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    @property
    def sample_rate(self) -> int | None:
        return self.inner.sample_rate

    @property
    def closed(self) -> bool:
        return self.inner.closed

    async def send_audio(self, pcm: bytes, sample_rate: int | None = None) -> None:
        await self.inner.send_audio(pcm, sample_rate)

    async def hangup(self) -> None:
        await self.inner.hangup()

    async def frames(self) -> AsyncIterator[InboundFrame]:
        self._task = asyncio.create_task(self._feed())
        try:
            async for frame in self.inner.frames():
                if isinstance(frame, AudioFrame):
                    self._tap(frame)
                yield frame
        finally:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def _tap(self, frame: AudioFrame) -> None:
        if self._resampler is None or self._resampler.in_rate != frame.sample_rate:
            self._resampler = StreamResampler(frame.sample_rate, ASR_RATE)
        self._queue.put_nowait(self._resampler.process(frame.pcm))

    async def _feed(self) -> None:
        while True:
            chunks = [await self._queue.get()]
            while not self._queue.empty():
                chunks.append(self._queue.get_nowait())
            pcm = b"".join(chunks)
            if pcm:
                try:
                    await self.recognizer.accept(pcm)
                except Exception:
                    log.exception("recogniser failed on ungated audio")


class UngatedRecognizer:
    """What the media session drives when the tap feeds the real recogniser: its gated audio is dropped."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    async def accept(self, pcm16k: bytes) -> str | None:
        return None

    async def final(self) -> Any:
        return await self.inner.final()

    def reset(self) -> None:
        self.inner.reset()

    def set_grammar(self, phrases: list[str] | None) -> None:
        self.inner.set_grammar(phrases)

    async def close(self) -> None:
        await self.inner.close()
