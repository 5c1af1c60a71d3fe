"""Paced playout against a sink that timestamps every frame."""

import asyncio
import time

import numpy as np
import pytest

from voicebot.media.player import Player, PlayoutState

RATE = 8000
FRAME = 320


class Sink:
    def __init__(self) -> None:
        self.frames: list[tuple[float, bytes]] = []
        self.fail_after: int | None = None

    async def __call__(self, pcm: bytes) -> None:
        if self.fail_after is not None and len(self.frames) >= self.fail_after:
            raise ConnectionError("gone")
        self.frames.append((asyncio.get_running_loop().time(), pcm))

    def gaps_ms(self, skip: int = 3) -> np.ndarray:
        times = np.array([t for t, _ in self.frames[skip:]])
        return np.diff(times) * 1000

    def audio(self) -> bytes:
        return b"".join(p for _, p in self.frames)


def ramp(frames: int) -> bytes:
    """Distinct non-zero samples, so any reordering, loss or repetition is visible."""
    return (np.arange(1, frames * 160 + 1) % 30000).astype("<i2").tobytes()


async def started(sink: Sink, **kwargs) -> Player:
    player = Player(sink, RATE, **kwargs)
    player.start()
    return player


async def test_frames_leave_every_20_ms_without_bursts():
    sink = Sink()
    player = await started(sink, lookahead_frames=1)
    handle = player.play(ramp(50))
    assert await asyncio.wait_for(handle, 3) is PlayoutState.DONE
    await asyncio.sleep(0.2)
    await player.close()
    gaps = sink.gaps_ms()
    assert all(len(p) == FRAME for _, p in sink.frames)
    assert abs(np.median(gaps) - 20) < 2
    # No bursts: a frame woken late on a busy machine may be followed by one on time (a short gap), but
    # frames never go out back to back.
    assert (gaps < 10).sum() <= 2, f"burst: {np.sort(gaps)[:5]} ms"
    assert np.percentile(gaps, 90) < 35 and gaps.max() < 100
    # Long-run rate is exact: no drift of the clock.
    (t_first, _), (t_last, _) = sink.frames[3], sink.frames[-1]
    assert abs((t_last - t_first) / (len(sink.frames) - 4) - 0.020) < 0.001


async def test_idle_player_streams_silence():
    sink = Sink()
    loop = asyncio.get_running_loop()
    began = loop.time()
    player = await started(sink)
    await asyncio.sleep(0.5)
    await player.close()
    elapsed = loop.time() - began  # a busy machine oversleeps: frames follow the real time
    assert elapsed / 0.02 - 3 <= len(sink.frames) <= elapsed / 0.02 + 2
    assert sink.audio() == bytes(len(sink.frames) * FRAME)


async def test_after_a_stall_it_does_not_catch_up():
    sink = Sink()
    player = await started(sink)
    player.play(ramp(100))
    await asyncio.sleep(0.2)
    time.sleep(0.3)  # block the event loop: 15 frame periods missed  # noqa: ASYNC251
    await asyncio.sleep(0.3)
    await player.close()
    times = np.array([t for t, _ in sink.frames])
    after = times[times > times[0] + 0.45]
    gaps = np.diff(after) * 1000
    assert player.stalls >= 1
    # After a stall at most the look-ahead goes out early again, never the 15 missed ones. (A busy machine
    # may stall the player again on its own: each stall refills the look-ahead, never more.)
    runs, run = [0], 0
    for short in gaps < 5:
        run = run + 1 if short else 0
        runs.append(run)
    assert max(runs) <= player.lookahead_frames, gaps
    assert sink.audio()[: len(sink.audio())] == ramp(100)[: len(sink.audio())]


async def test_stop_takes_effect_on_the_next_frame():
    sink = Sink()
    player = await started(sink)
    handle = player.play(ramp(100))
    queued = player.play(ramp(10))
    await asyncio.sleep(0.3)
    sent_before = len(sink.frames)
    player.stop()
    assert handle.state is PlayoutState.INTERRUPTED and queued.state is PlayoutState.INTERRUPTED
    assert await handle is PlayoutState.INTERRUPTED
    await asyncio.sleep(0.1)
    await player.close()
    after = [p for _, p in sink.frames[sent_before:]]
    assert all(p == bytes(FRAME) for p in after[1:])  # at most one more prompt frame was in flight
    assert 0 < handle.played_ms < handle.duration_ms


async def test_pause_and_resume_continue_exactly_where_it_stopped():
    sink = Sink()
    player = await started(sink)
    prompt = ramp(40)
    handle = player.play(prompt)
    await asyncio.sleep(0.2)
    assert player.pause()
    await asyncio.sleep(0.2)
    assert handle.state is PlayoutState.PAUSED
    assert player.resume()
    assert await asyncio.wait_for(handle, 3) is PlayoutState.DONE
    await player.close()
    voiced = b"".join(p for _, p in sink.frames if p != bytes(FRAME))
    assert voiced == prompt  # nothing lost, nothing repeated
    frames = [p != bytes(FRAME) for _, p in sink.frames]
    first = frames.index(True)
    last = len(frames) - frames[::-1].index(True)
    assert 8 <= frames[first:last].count(False) <= 12  # the 200 ms pause


async def test_interrupt_respects_uninterruptible_prompts():
    sink = Sink()
    player = await started(sink)
    protected = player.play(ramp(10), interruptible=False)
    await asyncio.sleep(0.05)
    assert not player.interrupt()
    assert not player.pause()
    assert await asyncio.wait_for(protected, 2) is PlayoutState.DONE
    await player.close()


async def test_streaming_playout_and_queue_order():
    sink = Sink()
    player = await started(sink)
    stream = player.play_stream()
    after = player.play(ramp(2))
    stream.write(ramp(3)[:700])  # not a whole number of frames
    await asyncio.sleep(0.15)
    stream.write(ramp(3)[700:])
    stream.end()
    assert await asyncio.wait_for(after, 2) is PlayoutState.DONE
    assert stream.state is PlayoutState.DONE
    await player.close()
    voiced = b"".join(p for _, p in sink.frames if p != bytes(FRAME))
    assert voiced == ramp(3) + ramp(2)


async def test_dead_sink_resolves_handles_as_closed():
    sink = Sink()
    sink.fail_after = 5
    player = await started(sink)
    handle = player.play(ramp(50))
    assert await asyncio.wait_for(handle, 2) is PlayoutState.CLOSED
    assert player.play(ramp(1)).state is PlayoutState.CLOSED
    await player.close()


def test_negative_lookahead_is_refused():
    with pytest.raises(ValueError):
        Player(Sink(), lookahead_frames=-1)
