"""Stereo call recording: caller on the left, bot on the right, on one shared timeline.

Both directions are written in the order they happen (caller frames as received, bot frames as sent) and
placed on a clock that starts with the recording: when a side falls behind that clock by more than
`jitter_ms` (the caller's phone stopped sending, the bot was not streaming) the gap is filled with silence,
so a sound heard at second N of the call sits at second N in both channels. Audio goes to a WAV file as it
comes (the header is fixed up on close) and is encoded to OGG/Opus when the call ends.

The file's rate may be left open (`sample_rate=None`) when the call's rate is not known yet: a slin16
channel whose first caller frame comes late. Until then the clock already runs and the bot's frames are
kept in memory; the first caller frame fixes the rate (or, after `decide_within` seconds without one, the
rate of the bot's frames does). Frames at another rate than the file's are resampled, so nothing is ever
stretched or squeezed.

A recording never ends a call: when the disk fills up (or any write fails) the recorder stops, deletes
its partial file so the space goes back to the calls still recording, counts it in
`voicebot_recordings_skipped_total`, and the call goes on unrecorded.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import time
import wave
from collections.abc import Callable
from pathlib import Path

import numpy as np

from voicebot.media.encode import encode_opus
from voicebot.media.resample import StreamResampler
from voicebot.metrics import RECORDINGS_SKIPPED

log = logging.getLogger(__name__)

LEFT, RIGHT = 0, 1


RECORDING_RATES = (8000, 16000)


def recording_rate(call_rate: int) -> int:
    """The file rate for a call rate: as is for 8/16 kHz, wideband calls at other rates at 16 kHz."""
    return call_rate if call_rate in RECORDING_RATES else 16000


class StereoRecorder:
    def __init__(
        self,
        path: Path | str,
        sample_rate: int | None = 8000,
        *,
        jitter_ms: int = 60,
        clock: Callable[[], float] = time.monotonic,
        opus_bitrate: str = "32k",
        keep_wav: bool = False,
        decide_within: float = 10.0,
    ) -> None:
        if sample_rate is not None and sample_rate not in RECORDING_RATES:
            raise ValueError("recordings are made at 8 or 16 kHz")
        self.path = Path(path).with_suffix(".wav")
        self.sample_rate = sample_rate
        self.jitter_ms = jitter_ms
        self.jitter = 0
        self.opus_bitrate = opus_bitrate
        self.keep_wav = keep_wav
        self.decide_within = decide_within
        self._clock = clock
        self._t0: float | None = None
        self._pending = [bytearray(), bytearray()]  # samples not yet interleaved, per channel
        self._position = [0, 0]  # samples placed on the timeline, per channel
        self._written = 0  # stereo frames in the file
        self._wav: wave.Wave_write | None = None
        self._early: list[tuple[int, bytes, float, int]] = []  # bot frames before the rate was known
        self._resamplers: dict[tuple[int, int], StreamResampler] = {}
        self.failed: str | None = None  # why recording stopped (disk_full, error); the call went on

    # --- writing -------------------------------------------------------------------------------------

    def start(self, t0: float | None = None) -> None:
        """Start the clock (default: now); the file opens now, or once the rate is known."""
        self._t0 = self._clock() if t0 is None else t0
        if self.sample_rate is not None:
            self._open(self.sample_rate)

    @property
    def started(self) -> bool:
        return self._t0 is not None

    def caller(self, pcm: bytes, t: float | None = None, rate: int | None = None) -> None:
        """A frame from the caller that arrived at `t`, so it was spoken just before."""
        if self.sample_rate is None and self._t0 is not None and rate is not None:
            self.decide(recording_rate(rate))  # the caller's first frame tells the call's rate
        self._add(LEFT, pcm, t, rate, ends_at_t=True)

    def bot(self, pcm: bytes, t: float | None = None, rate: int | None = None) -> None:
        """A frame the bot sent at `t`, so it is heard from then on."""
        self._add(RIGHT, pcm, t, rate, ends_at_t=False)

    def decide(self, rate: int) -> None:
        """Fix the file's rate (no-op once fixed) and place the frames kept while it was open."""
        if self.sample_rate is not None or self._t0 is None:
            return
        self._open(recording_rate(rate))
        early, self._early = self._early, []
        for channel, pcm, t, frame_rate in early:
            self._add(channel, pcm, t, frame_rate, ends_at_t=channel == LEFT)

    def _open(self, rate: int) -> None:
        self.sample_rate = rate
        self.jitter = rate * self.jitter_ms // 1000
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._wav = wave.open(str(self.path), "wb")  # noqa: SIM115 (open for the whole call)
            self._wav.setnchannels(2)
            self._wav.setsampwidth(2)
            self._wav.setframerate(rate)
        except OSError as exc:
            self._give_up(exc)

    def _give_up(self, exc: OSError) -> None:
        """Stop recording for good and give back the disk space the partial file took."""
        self.failed = "disk_full" if exc.errno in (errno.ENOSPC, errno.EDQUOT) else "error"
        RECORDINGS_SKIPPED.labels(self.failed).inc()
        log.error(
            "recording stopped, the call goes on unrecorded",
            extra={"reason": self.failed, "error": repr(exc)},
        )
        wav, self._wav = self._wav, None
        if wav is not None:
            with contextlib.suppress(OSError):  # the header cannot be written either; the file goes anyway
                wav.close()
        self.path.unlink(missing_ok=True)
        self._pending = [bytearray(), bytearray()]

    def offset_ms(self, t: float | None = None) -> int:
        """Milliseconds since the recording started, to store with dialogue turns."""
        if self._t0 is None:
            return 0
        return max(0, round(((self._clock() if t is None else t) - self._t0) * 1000))

    def _add(self, channel: int, pcm: bytes, t: float | None, rate: int | None, *, ends_at_t: bool) -> None:
        if not pcm or self._t0 is None:
            return
        now = self._clock() if t is None else t
        if self.sample_rate is None:
            if rate is None:
                return
            self._early.append((channel, pcm, now, rate))
            if now - self._t0 >= self.decide_within:
                self.decide(rate)  # the caller stays silent: record at the bot's rate
            return
        if self._wav is None:
            return
        if rate is not None and rate != self.sample_rate:
            pcm = self._resampled(channel, pcm, rate)
        samples = len(pcm) // 2
        start = self._clock_samples(now) - (samples if ends_at_t else 0)
        self._pad_to(channel, start)
        self._pending[channel] += pcm[: samples * 2]
        self._position[channel] += samples
        # Keep the other side moving too, so a silent side never holds this one's audio in memory.
        self._pad_to(1 - channel, self._clock_samples(now) - samples)
        try:
            self._flush()
        except OSError as exc:  # disk full: the recording goes, the call stays
            self._give_up(exc)

    def _resampled(self, channel: int, pcm: bytes, rate: int) -> bytes:
        key = (channel, rate)
        if key not in self._resamplers:
            self._resamplers[key] = StreamResampler(rate, self.sample_rate or rate, quality="QQ")
        return self._resamplers[key].process(pcm)

    def _clock_samples(self, t: float) -> int:
        assert self._t0 is not None and self.sample_rate is not None
        return round((t - self._t0) * self.sample_rate)

    def _pad_to(self, channel: int, target: int) -> None:
        gap = target - self._position[channel]
        if gap > self.jitter:
            self._pending[channel] += bytes(gap * 2)
            self._position[channel] += gap

    def _flush(self, pad: bool = False) -> None:
        left, right = self._pending
        if pad:  # at the end, the shorter side is padded to the longer one
            longest = max(len(left), len(right))
            left += bytes(longest - len(left))
            right += bytes(longest - len(right))
        count = min(len(left), len(right)) // 2
        if count == 0 or self._wav is None:
            return
        stereo = np.empty(count * 2, dtype="<i2")
        stereo[0::2] = np.frombuffer(left, dtype="<i2", count=count)
        stereo[1::2] = np.frombuffer(right, dtype="<i2", count=count)
        self._wav.writeframesraw(stereo.tobytes())
        self._written += count
        del left[: count * 2]
        del right[: count * 2]

    # --- ending --------------------------------------------------------------------------------------

    @property
    def duration(self) -> float:
        return self._written / self.sample_rate if self.sample_rate else 0.0

    def close(self) -> float:
        """Write what is left, fix the WAV header; returns the duration in seconds."""
        if self.sample_rate is None:
            self.decide(self._early[-1][3] if self._early else RECORDING_RATES[0])
        if self._wav is not None:
            try:
                self._flush(pad=True)
                self._wav.close()
            except OSError as exc:
                self._give_up(exc)
            self._wav = None
        return self.duration

    async def finish(self) -> tuple[Path, float] | None:
        """Close the WAV and encode it to OGG/Opus (one encoder at a time, low priority; see encode.py).
        On encoder failure the WAV stays; None when the recording was given up (disk full)."""
        duration = self.close()
        if self.failed is not None:
            return None
        target = self.path.with_suffix(".ogg")
        try:
            await encode_opus(self.path, target, self.opus_bitrate)
        except Exception:
            log.exception("recording %s could not be encoded; keeping the WAV", self.path)
            target.unlink(missing_ok=True)  # a half-written OGG (disk full) only takes space
            return self.path, duration
        if not self.keep_wav:
            self.path.unlink(missing_ok=True)
        return target, duration
