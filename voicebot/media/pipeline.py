"""`MediaSession`: the per-call glue between a call transport and the dialogue layer.

Inbound: transport frames -> recorder (left) -> resample to 16 kHz -> VAD -> endpointing and barge-in;
while the caller speaks, audio (with a pre-roll, since the VAD triggers late) goes to the recogniser.
Outbound: TTS PCM at any rate -> resample to the call's rate -> paced player -> transport, recorder (right).
The dialogue layer sees `MediaEvent`s (frames.py) and calls `play()` / `stop_playback()` / `hangup()`.

Two things Asterisk does not guarantee, so the session does not rely on them (PROTOCOLS.md §9):
* The caller's first audio frame can come late (outbound calls, phones with silence suppression). The
  session starts at once at a provisional rate (`default_rate`; Asterisk accepts 8 kHz frames on any
  channel) and switches player and recording to the call's real rate when its first frame arrives.
* Frames can stop while the caller is quiet. Turn-taking runs on the session's own clock: once no frame has
  come for `line_gap_ms`, the missing time is fed to the VAD as silence, so end-of-turn, the utterance cap,
  barge-in decisions and the silence watch go on as if the phone had sent silent frames.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path

from voicebot.logs import logged_failure
from voicebot.media.bargein import Action, BargeInConfig, BargeInController, default_is_backchannel
from voicebot.media.endpoint import Endpoint, EndpointDetector
from voicebot.media.frames import (
    AudioFrame,
    BargeIn,
    Dtmf,
    DtmfFrame,
    Hangup,
    HangupFrame,
    MediaEvent,
    PartialTranscript,
    Silence,
    SpeechEnded,
    SpeechStarted,
)
from voicebot.media.interfaces import CallTransport, StreamingRecognizer, SynthesizedSpeech
from voicebot.media.player import Player, Playout
from voicebot.media.recorder import StereoRecorder, recording_rate
from voicebot.media.resample import StreamResampler, resample
from voicebot.media.vad import VadFrame, VoiceActivityDetector

log = logging.getLogger(__name__)

ASR_RATE = 16000


@dataclass(frozen=True)
class MediaConfig:
    frame_ms: int = 20
    vad_aggressiveness: int = 2
    vad_start_ms: int = 100
    vad_end_ms: int = 300
    preroll_ms: int = 300
    trailing_silence_ms: int = 800
    # Silence inside an utterance beyond this is held back from the recogniser: sent if the caller speaks
    # again, dropped when the turn ends. Decoding the whole end-of-turn silence costs CPU and adds nothing.
    asr_tail_ms: int = 300
    asr_batch_ms: int = 400  # largest piece of backlog decoded in one thread job
    # Line audio (usually silence under the greeting) a recogniser with `adapt()` decodes before the caller
    # first speaks, moving part of a fresh recogniser's cold-start cost off the caller's time (1 s of
    # silence: ~0.75 CPU-s, halves the first utterance's ~1.3 CPU-s). A recogniser from the warm pool
    # (warmed on speech) skips it. 0: off.
    asr_warmup_ms: int = 1000
    max_utterance_ms: int = 15000
    silence_timeout: float | None = 8.0  # None: never report silence
    lookahead_frames: int = 1
    default_rate: int = 8000  # the output rate until the caller's first frame tells the call's rate
    # No inbound frame for this long means the phone suppresses silence: the gap counts as silence. Longer
    # than any stall of our own event loop, so frames still in the socket are never mistaken for a gap.
    line_gap_ms: int = 500
    bargein: BargeInConfig = field(default_factory=BargeInConfig)


class MediaSession:
    def __init__(
        self,
        call: CallTransport,
        *,
        recognizer: StreamingRecognizer | None = None,
        config: MediaConfig | None = None,
        recording_path: Path | str | None = None,
        is_backchannel: Callable[[str], bool] | None = default_is_backchannel,
        log_extra: dict[str, object] | None = None,
    ) -> None:
        self.call = call
        self.recognizer = recognizer
        self.config = config or MediaConfig()
        self.recording_path = recording_path
        self.is_backchannel = is_backchannel
        self.sample_rate = self.config.default_rate
        self.recorder: StereoRecorder | None = None
        self.player: Player | None = None
        self.bargein: BargeInController | None = None
        self._extra = log_extra or {}
        self._events: asyncio.Queue[MediaEvent] = asyncio.Queue()
        # A deque, not an asyncio.Queue: the worker looks at the next item to batch audio chunks.
        self._asr_items: deque[tuple[str, object]] = deque()
        self._asr_ready = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._preroll: deque[bytes] = deque(maxlen=max(1, self.config.preroll_ms // self.config.frame_ms))
        self._utterance = bytearray()
        self._utterance_offset: int | None = None
        self._unvoiced_ms = 0  # current run of unvoiced frames inside the utterance
        self._held: list[bytes] = []  # that run's audio past `asr_tail_ms`, not yet sent to the recogniser
        self._warmup: bytearray | None = bytearray() if self.config.asr_warmup_ms > 0 else None
        self._last_activity = 0.0
        self._heard_until = 0.0  # loop time up to which caller audio (or assumed silence) was processed
        self._rate_known = False
        self._rate_event = asyncio.Event()
        self.listening = (
            True  # False: caller audio is not analysed (no VAD, no speech events); keys still are
        )
        self._closed = False
        self._recording: tuple[Path, float] | None = None

    # --- lifecycle -----------------------------------------------------------------------------------

    async def start(self) -> None:
        cfg = self.config
        loop = asyncio.get_running_loop()
        known = self.call.sample_rate
        self._rate_known = known is not None
        if self._rate_known:
            self._rate_event.set()
        self.sample_rate = known or cfg.default_rate
        if self.recording_path is not None:
            rate = recording_rate(known) if known else None  # None: fixed by the caller's first frame
            self.recorder = StereoRecorder(self.recording_path, rate, clock=loop.time)
            self.recorder.start()
        self._inbound_resampler = StreamResampler(self.sample_rate, ASR_RATE)
        self._vad = VoiceActivityDetector(
            ASR_RATE,
            aggressiveness=cfg.vad_aggressiveness,
            frame_ms=cfg.frame_ms,
            start_ms=cfg.vad_start_ms,
            start_window_ms=max(cfg.vad_start_ms, 2 * cfg.vad_start_ms),
            end_ms=cfg.vad_end_ms,
        )
        self._endpoint = EndpointDetector(cfg.frame_ms, cfg.trailing_silence_ms, cfg.max_utterance_ms)
        self.player = Player(
            self._send,
            self.sample_rate,
            frame_ms=cfg.frame_ms,
            lookahead_frames=cfg.lookahead_frames,
            on_frame=self._record_bot if self.recorder else None,
        )
        self.bargein = BargeInController(self.player, cfg.bargein, self.is_backchannel, cfg.frame_ms)
        self._last_activity = self._heard_until = loop.time()
        self.player.start()
        self._spawn(self._inbound(), "inbound")
        self._spawn(self._line_clock(), "line-clock")
        if self.recognizer is not None:
            self._spawn(self._asr_worker(), "asr")
        if cfg.silence_timeout is not None:
            self._spawn(self._silence_watch(cfg.silence_timeout), "silence")

    async def stop(self) -> None:
        """Stop playing, listening and recognising (the recording is finished by `close()`)."""
        if self.player is not None:
            await self.player.close()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def close(self) -> tuple[Path, float] | None:
        """Stop everything; returns (recording path, duration) when recording. Safe to call twice."""
        if self._closed:
            return self._recording
        self._closed = True
        await self.stop()
        if self.recorder is not None:
            self._recording = await self.recorder.finish()
        return self._recording

    async def __aenter__(self) -> MediaSession:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    # --- what the dialogue layer calls ---------------------------------------------------------------

    async def events(self) -> AsyncIterator[MediaEvent]:
        """Events until (and including) the hang-up."""
        while True:
            event = await self._events.get()
            yield event
            if isinstance(event, Hangup):
                return

    async def next_event(self, max_wait: float | None = None) -> MediaEvent | None:
        try:
            return await asyncio.wait_for(self._events.get(), max_wait)
        except TimeoutError:
            return None

    async def call_rate(self, within: float) -> int:
        """The call's rate once its first frame told it (the provisional rate after `within` seconds)."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._rate_event.wait(), within)
        return self.sample_rate

    def take_events(self) -> list[MediaEvent]:
        """The events queued so far, without waiting."""
        taken = []
        while not self._events.empty():
            taken.append(self._events.get_nowait())
        return taken

    def play(self, pcm: bytes, sample_rate: int, interruptible: bool = True) -> Playout:
        """Queue audio at any rate; returns a handle resolving to done/interrupted/closed."""
        assert self.player is not None, "session not started"
        return self.player.play(resample(pcm, sample_rate, self.sample_rate), interruptible)

    def say(self, speech: SynthesizedSpeech, interruptible: bool = True) -> Playout:
        return self.play(speech.pcm, speech.sample_rate, interruptible)

    def stop_playback(self) -> None:
        if self.player is not None:
            self.player.stop()

    def offset_ms(self) -> int | None:
        """Where the call recording is now (ms), to store with a dialogue turn."""
        return self.recorder.offset_ms() if self.recorder else None

    async def hangup(self) -> None:
        if self.player is not None:
            self.player.stop()
        await self.call.hangup()

    # --- inbound -------------------------------------------------------------------------------------

    async def _inbound(self) -> None:
        async for frame in self.call.frames():
            if isinstance(frame, AudioFrame):
                self._on_audio(frame)
            elif isinstance(frame, DtmfFrame):
                self._touch()
                self._emit(Dtmf(frame.digit, frame.timestamp))
            elif isinstance(frame, HangupFrame):
                if self.player is not None:
                    self.player.stop()
                self._emit(Hangup(frame.reason, frame.timestamp))
                return

    def _on_audio(self, frame: AudioFrame) -> None:
        if frame.sample_rate != self.sample_rate or not self._rate_known:
            self._set_rate(frame.sample_rate)
        if self.recorder is not None:
            self.recorder.caller(frame.pcm, frame.timestamp, frame.sample_rate)
        if frame.sample_rate != self._inbound_resampler.in_rate:
            self._inbound_resampler = StreamResampler(frame.sample_rate, ASR_RATE)
        self._heard_until = max(self._heard_until, frame.timestamp)
        if not self.listening:
            return
        for vad_frame in self._vad.process(self._inbound_resampler.process(frame.pcm)):
            self._on_vad_frame(vad_frame, frame.timestamp)

    def _set_rate(self, rate: int) -> None:
        """The call's rate, from its caller's audio: the bot speaks at it from the next frame on."""
        if self._rate_known and rate != self.sample_rate:
            log.warning("call rate changed %s -> %s Hz", self.sample_rate, rate, extra=self._extra)
        self._rate_known = True
        self._rate_event.set()
        self.sample_rate = rate
        if self.player is not None:
            self.player.set_rate(rate)

    async def _send(self, pcm: bytes) -> None:
        # The player's rate is read before any await, so it is the rate this frame was cut at.
        await self.call.send_audio(pcm, self.player.sample_rate if self.player else self.sample_rate)

    def _record_bot(self, pcm: bytes, t: float) -> None:
        if self.recorder is not None and self.player is not None:
            self.recorder.bot(pcm, t, self.player.sample_rate)

    async def _line_clock(self) -> None:
        """Feed silence for the time no frame came (a phone that sends nothing while its user is quiet)."""
        loop = asyncio.get_running_loop()
        frame_s = self.config.frame_ms / 1000
        gap_s = self.config.line_gap_ms / 1000
        silent_frame = bytes(ASR_RATE * self.config.frame_ms // 1000 * 2)
        while True:
            tick = min(0.1, gap_s / 2)
            due = loop.time() + tick
            await asyncio.sleep(tick)
            now = loop.time()
            if now - due > gap_s / 2:
                continue  # our own loop stalled: frames may be waiting unread, this is no gap
            read_at = getattr(self.call, "last_audio_at", None)  # read but perhaps not yet processed
            if read_at is not None and now - read_at < gap_s:
                continue
            missing = int((now - self._heard_until) / frame_s)
            if now - self._heard_until < gap_s or missing <= 0:
                continue
            if not self.listening:
                self._heard_until += missing * frame_s
                continue
            for index in range(missing):
                t = self._heard_until + (index + 1) * frame_s
                for vad_frame in self._vad.process(silent_frame):
                    self._on_vad_frame(vad_frame, t)
            self._heard_until += missing * frame_s

    def _on_vad_frame(self, vf: VadFrame, now: float) -> None:
        assert self.bargein is not None
        action = self.bargein.on_frame(vf)
        if action is Action.INTERRUPTED:
            self._emit(BargeIn(now, self.bargein.interrupted_text))
        edge = self._endpoint.update(vf)
        self._collect_warmup(vf, speaking=edge is Endpoint.START or self._endpoint.in_utterance)
        if edge is Endpoint.START:
            self._touch()
            self._preroll.append(vf.pcm)
            self._utterance = bytearray(b"".join(self._preroll))
            self._preroll.clear()
            self._utterance_offset = self._offset_at(now - len(self._utterance) / (2 * ASR_RATE))
            self._unvoiced_ms, self._held = 0, []
            self._to_asr("audio", bytes(self._utterance))
            self._emit(SpeechStarted(now, self._utterance_offset))
        elif self._endpoint.in_utterance:
            self._utterance += vf.pcm
            self._utterance_audio_to_asr(vf)
        elif edge in (Endpoint.END, Endpoint.FORCED_END):
            self._touch()
            self._utterance += vf.pcm
            self._finish_utterance(now, forced=edge is Endpoint.FORCED_END)
        else:
            self._preroll.append(vf.pcm)

    def _collect_warmup(self, vf: VadFrame, speaking: bool) -> None:
        if self._warmup is None:
            return
        if speaking or getattr(self.recognizer, "adapt", None) is None:
            self._warmup = None  # the caller spoke first: the recogniser adapts on the real thing
            return
        self._warmup += vf.pcm
        if len(self._warmup) >= ASR_RATE * 2 * self.config.asr_warmup_ms // 1000:
            self._to_asr("adapt", bytes(self._warmup))
            self._warmup = None

    def _utterance_audio_to_asr(self, vf: VadFrame) -> None:
        self._unvoiced_ms = 0 if vf.voiced else self._unvoiced_ms + self.config.frame_ms
        if self._unvoiced_ms > self.config.asr_tail_ms:
            if not self._held and getattr(self.recognizer, "settle", None) is not None:
                # The caller paused: decode the words so far now, while the end-of-turn silence runs,
                # instead of all at once after it (the final decode was most of the reply latency). The
                # turn may be ending, so this call's queued audio goes ahead of other calls' meanwhile.
                self.recognizer.expect_final()  # type: ignore[union-attr]
                self._to_asr("settle", None)
            self._held.append(vf.pcm)
            return
        if self._held:  # the caller went on after a pause: the recogniser hears the pause too
            self._to_asr("audio", b"".join(self._held))
            self._held = []
            expect_more = getattr(self.recognizer, "expect_more", None)
            if expect_more is not None:
                expect_more()  # not the end after all: back in line with the other calls
        self._to_asr("audio", vf.pcm)

    def _finish_utterance(self, now: float, forced: bool) -> None:
        audio, self._utterance = bytes(self._utterance), bytearray()
        self._held = []
        expect_final = getattr(self.recognizer, "expect_final", None)
        if expect_final is not None:
            expect_final()  # its queued audio and final go ahead of other calls' ongoing speech
        if self.recognizer is None:
            self._emit(SpeechEnded(audio, ASR_RATE, now, forced=forced, offset_ms=self._utterance_offset))
        else:
            self._to_asr("end", (audio, now, forced, self._utterance_offset))

    def _to_asr(self, kind: str, payload: object) -> None:
        if self.recognizer is not None:
            self._asr_items.append((kind, payload))
            self._asr_ready.set()

    async def _next_asr(self) -> tuple[str, object]:
        while not self._asr_items:
            self._asr_ready.clear()
            await self._asr_ready.wait()
        return self._asr_items.popleft()

    async def _asr_worker(self) -> None:
        assert self.recognizer is not None and self.bargein is not None
        while True:
            kind, payload = await self._next_asr()
            if kind == "audio":
                # Decode what piled up in one go (fewer thread hops when the engine lags), but in jobs of at
                # most `asr_batch_ms`: a decoding thread busy with one long job would hold up another call's
                # urgent end-of-utterance work for that long.
                chunks, size = [payload], len(payload)  # type: ignore[arg-type]
                limit = ASR_RATE * 2 * self.config.asr_batch_ms // 1000
                while size < limit and self._asr_items and self._asr_items[0][0] == "audio":
                    chunk = self._asr_items.popleft()[1]
                    chunks.append(chunk)
                    size += len(chunk)  # type: ignore[arg-type]
                await self._asr_accept(b"".join(chunks))  # type: ignore[arg-type]
            elif kind == "adapt":
                await self._asr_adapt(payload)  # type: ignore[arg-type]
            elif kind == "settle":
                await self._asr_settle()
            else:
                await self._asr_final(*payload)  # type: ignore[misc]

    async def _asr_adapt(self, pcm: bytes) -> None:
        try:
            await self.recognizer.adapt(pcm)  # type: ignore[union-attr]
        except Exception:
            log.exception("recogniser failed to adapt to the line", extra=self._extra)

    async def _asr_settle(self) -> None:
        try:
            await self.recognizer.settle()  # type: ignore[union-attr]
        except Exception:
            log.exception("recogniser failed to settle a pause", extra=self._extra)

    async def _asr_accept(self, pcm: bytes) -> None:
        assert self.recognizer is not None and self.bargein is not None
        try:
            partial = await self.recognizer.accept(pcm)
        except Exception:
            log.exception("recogniser failed on audio", extra=self._extra)
            return
        if partial:
            now = asyncio.get_running_loop().time()
            self._emit(PartialTranscript(partial, now))
            if self.bargein.on_partial(partial) is Action.INTERRUPTED:
                self._emit(BargeIn(now, partial))

    async def _asr_final(self, audio: bytes, now: float, forced: bool, offset: int | None) -> None:
        assert self.recognizer is not None
        text = confidence = None
        try:
            transcript = await self.recognizer.final()
            text, confidence = transcript.text, transcript.confidence
        except Exception:
            log.exception("recogniser failed on final", extra=self._extra)
        finally:
            self.recognizer.reset()
        wait_ms = round((asyncio.get_running_loop().time() - now) * 1000)
        log.debug("utterance transcribed", extra={**self._extra, "text": text, "asr_wait_ms": wait_ms})
        self._emit(SpeechEnded(audio, ASR_RATE, now, text, confidence, forced, offset))

    # --- silence ---------------------------------------------------------------------------------------

    async def _silence_watch(self, after: float) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(min(0.1, after / 4))
            now = loop.time()
            if (self.player is not None and self.player.busy) or self._endpoint.in_utterance:
                self._last_activity = now  # the clock runs only while both sides are quiet
            elif now - self._last_activity >= after:
                self._last_activity = now
                self._emit(Silence(after, now))

    # --- helpers ----------------------------------------------------------------------------------------

    def _touch(self) -> None:
        self._last_activity = asyncio.get_running_loop().time()

    def _offset_at(self, t: float) -> int | None:
        return self.recorder.offset_ms(t) if self.recorder else None

    def _emit(self, event: MediaEvent) -> None:
        self._events.put_nowait(event)

    def _spawn(self, coro, name: str) -> None:  # noqa: ANN001
        task = asyncio.create_task(self._guard(coro, name), name=name)
        self._tasks.append(task)

    async def _guard(self, coro, name: str) -> None:  # noqa: ANN001
        try:
            await coro
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("media task %s failed", name, extra=self._extra)
            with logged_failure(log, "hanging up after a failed media task", **self._extra):
                await self.call.hangup()
