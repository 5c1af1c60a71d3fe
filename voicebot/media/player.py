"""Paced playout: the bot owns the call's output clock.

Asterisk plays whatever arrives as soon as it arrives and cannot take it back, so the player sends exactly
one frame per frame period against the event loop's monotonic clock, keeping only `lookahead_frames` in
flight. That look-ahead is the floor of barge-in latency; after a stall (a busy loop, a slow socket) the
clock is re-anchored instead of bursting the missed frames, which Asterisk would play too fast anyway.
While nothing is playing the player sends silence, because the AudioSocket() dialplan application hangs up
after 2 s with nothing sent either way.

The output rate can change mid-call (`set_rate`): a call starts at a provisional rate until the caller's
first frame tells the real one, and what is still to be played is converted then.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Generator
from enum import Enum

from voicebot.media.resample import resample
from voicebot.metrics import observe_frame

log = logging.getLogger(__name__)

Send = Callable[[bytes], Awaitable[None]]
FrameTap = Callable[[bytes, float], None]  # (frame pcm, send time) for the recorder


class PlayoutState(Enum):
    QUEUED = "queued"
    PLAYING = "playing"
    PAUSED = "paused"
    DONE = "done"
    INTERRUPTED = "interrupted"
    CLOSED = "closed"  # the call ended under it


FINAL_STATES = (PlayoutState.DONE, PlayoutState.INTERRUPTED, PlayoutState.CLOSED)


class Playout:
    """A handle on one queued prompt. Await it to get the final state (done / interrupted / closed)."""

    def __init__(self, pcm: bytes, sample_rate: int, interruptible: bool, streaming: bool = False) -> None:
        self.sample_rate = sample_rate
        self._write_rate = sample_rate
        self.interruptible = interruptible
        self.state = PlayoutState.QUEUED
        self.started_at: float | None = None  # loop time its first frame was sent
        self.position = 0  # bytes already sent
        # A complete prompt is not copied: a cached announcement played to hundreds of callers at once is
        # one buffer, not one per call. Only a streaming playout grows.
        self._pcm: bytes | bytearray = bytearray(pcm) if streaming else bytes(pcm)
        self._complete = not streaming  # no more audio will be appended
        self._future: asyncio.Future[PlayoutState] = asyncio.get_running_loop().create_future()

    def __await__(self) -> Generator[object, None, PlayoutState]:
        return asyncio.shield(self._future).__await__()

    @property
    def done(self) -> bool:
        return self.state in FINAL_STATES

    @property
    def duration_ms(self) -> int:
        return len(self._pcm) * 1000 // (2 * self.sample_rate)

    @property
    def played_ms(self) -> int:
        return self.position * 1000 // (2 * self.sample_rate)

    def write(self, pcm: bytes) -> None:
        """Append audio at the rate the playout was created with (TTS that synthesises sentence by sentence)."""
        if self._complete:
            raise RuntimeError("playout is already complete")
        self._pcm += resample(pcm, self._write_rate, self.sample_rate)  # a bytearray: streaming

    def _convert(self, rate: int) -> None:
        """Re-express the audio not yet sent at another rate; what was sent stays counted."""
        if rate == self.sample_rate:
            return
        sent = self.position * rate // self.sample_rate
        sent -= sent % 2
        rest = resample(bytes(self._pcm[self.position :]), self.sample_rate, rate)
        self._pcm = bytearray(sent) + bytearray(rest) if not self._complete else bytes(sent) + rest
        self.position = sent
        self.sample_rate = rate

    def end(self) -> None:
        """No more audio for a streaming playout; it finishes once what it has is sent."""
        self._complete = True

    def _next_frame(self, size: int) -> bytes | None:
        """The next frame, zero-padded at the very end; None while a stream waits for more audio."""
        chunk = bytes(self._pcm[self.position : self.position + size])
        if len(chunk) < size and not self._complete:
            return None
        self.position += len(chunk)
        return chunk + bytes(size - len(chunk))

    @property
    def _exhausted(self) -> bool:
        return self._complete and self.position >= len(self._pcm)

    def _finish(self, state: PlayoutState) -> None:
        if self.done:
            return
        self.state = state
        if not self._future.done():
            self._future.set_result(state)


class Player:
    def __init__(
        self,
        send: Send,
        sample_rate: int = 8000,
        *,
        frame_ms: int = 20,
        lookahead_frames: int = 1,
        idle_silence: bool = True,
        on_frame: FrameTap | None = None,
    ) -> None:
        if lookahead_frames < 0:
            raise ValueError("lookahead_frames must be >= 0")
        self._send = send
        self.sample_rate = sample_rate
        self.frame_ms = frame_ms
        self.lookahead_frames = lookahead_frames
        self.idle_silence = idle_silence
        self.on_frame = on_frame
        self.frames_sent = 0
        self.stalls = 0
        self.closed = False
        self._queue: deque[Playout] = deque()
        self._current: Playout | None = None
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()

    @property
    def frame_bytes(self) -> int:
        return self.sample_rate * self.frame_ms // 1000 * 2

    @property
    def current(self) -> Playout | None:
        return self._current

    @property
    def speaking(self) -> bool:
        """True while a prompt is actually being sent (not paused, not idle)."""
        return self._current is not None and self._current.state is PlayoutState.PLAYING

    @property
    def busy(self) -> bool:
        """True while anything is playing, paused or queued."""
        return self._current is not None or bool(self._queue)

    # --- control -----------------------------------------------------------------------------------

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="player")

    async def close(self) -> None:
        self.closed = True
        self._finish_all(PlayoutState.CLOSED)
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def play(self, pcm: bytes, interruptible: bool = True) -> Playout:
        """Queue PCM at the player's rate; returns a handle that resolves when it finished or was cut."""
        return self._enqueue(Playout(pcm, self.sample_rate, interruptible))

    def play_stream(self, interruptible: bool = True) -> Playout:
        """Queue a playout fed later with `write()` and closed with `end()`."""
        return self._enqueue(Playout(b"", self.sample_rate, interruptible, streaming=True))

    def stop(self) -> None:
        """Cut the current prompt and drop the queue, whatever their barge-in policy (hang-up, transfer)."""
        self._finish_all(PlayoutState.INTERRUPTED)

    def interrupt(self) -> bool:
        """Barge-in: cut the current prompt if it allows it; the queue goes too. Returns whether it did."""
        if self._current is None or not self._current.interruptible:
            return False
        self._finish_all(PlayoutState.INTERRUPTED)
        return True

    def pause(self, force: bool = False) -> bool:
        """Hold the current prompt where it is (silence goes out meanwhile).

        Returns False when nothing is playing or the prompt is uninterruptible (unless `force`).
        """
        current = self._current
        if current is None or current.state is not PlayoutState.PLAYING:
            return False
        if not (current.interruptible or force):
            return False
        current.state = PlayoutState.PAUSED
        return True

    def resume(self, rewind_ms: int = 0) -> bool:
        """Continue a paused prompt, optionally repeating the last `rewind_ms` for intelligibility."""
        if self._current is None or self._current.state is not PlayoutState.PAUSED:
            return False
        rewind = rewind_ms * self.sample_rate // 1000 * 2
        self._current.position = max(0, self._current.position - rewind)
        self._current.state = PlayoutState.PLAYING
        return True

    def set_rate(self, sample_rate: int) -> None:
        """Play at another rate from the next frame on; queued and unplayed audio is converted."""
        if sample_rate == self.sample_rate:
            return
        log.info("playout rate %s -> %s Hz", self.sample_rate, sample_rate)
        self.sample_rate = sample_rate
        for playout in [self._current, *self._queue]:
            if playout is not None:
                playout._convert(sample_rate)

    def _enqueue(self, playout: Playout) -> Playout:
        if self.closed:
            playout._finish(PlayoutState.CLOSED)
            return playout
        self._queue.append(playout)
        self._wake.set()
        return playout

    def _finish_all(self, state: PlayoutState) -> None:
        if self._current is not None:
            self._current._finish(state)
            self._current = None
        while self._queue:
            self._queue.popleft()._finish(state)

    # --- the clock ----------------------------------------------------------------------------------

    def _next_frame(self) -> bytes | None:
        while True:
            if self._current is None:
                if not self._queue:
                    return None
                self._current = self._queue.popleft()
                self._current.state = PlayoutState.PLAYING
                self._current.started_at = asyncio.get_running_loop().time()
            playout = self._current
            if playout.state is PlayoutState.PAUSED:
                return None
            if playout._exhausted:
                playout._finish(PlayoutState.DONE)
                self._current = None
                continue
            frame = playout._next_frame(self.frame_bytes)
            if playout._exhausted:
                # Resolve as the last frame leaves, so the caller's no-input timer starts on time.
                playout._finish(PlayoutState.DONE)
                self._current = None
            return frame

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        period = self.frame_ms / 1000
        nominal = loop.time()  # when the next frame is due to be heard
        try:
            while not self.closed:
                now = loop.time()
                send_at = nominal - self.lookahead_frames * period
                if send_at > now:
                    await asyncio.sleep(send_at - now)
                    now = loop.time()
                lateness = now - send_at
                if now > nominal + period:
                    # We fell behind real time: start afresh instead of bursting the missed frames (only
                    # the look-ahead is refilled).
                    self.stalls += 1
                    log.debug("playout stalled %.0f ms", (now - nominal) * 1000)
                    nominal = now
                frame = self._next_frame()
                if frame is None and self.idle_silence:
                    frame = bytes(self.frame_bytes)
                if frame is not None:
                    await self._send(frame)
                    self.frames_sent += 1
                    observe_frame(lateness)
                    if self.on_frame is not None:
                        self.on_frame(frame, loop.time())
                elif not self.busy:
                    # Nothing to send and no silence wanted: sleep until something is queued.
                    self._wake.clear()
                    await self._wake.wait()
                    nominal = loop.time()
                    continue
                nominal += period
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the call is gone (or the sink broke): nothing more can be played
            log.info("playout ended: %r", exc)
        finally:
            self.closed = True
            self._finish_all(PlayoutState.CLOSED)
