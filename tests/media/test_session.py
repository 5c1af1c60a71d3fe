"""MediaSession end to end: AudioSocket server + Asterisk peer emulator + espeak-ng speech."""

from __future__ import annotations

import asyncio
import wave
from collections.abc import Awaitable, Callable

import numpy as np
import pytest

from tests.emulators.audiosocket_peer import AudioSocketPeer
from tests.media.speech import speech, tone
from voicebot.asterisk.audiosocket import AudioSocketCall, AudioSocketServer
from voicebot.media.frames import BargeIn, Dtmf, Hangup, Silence, SpeechEnded, SpeechStarted
from voicebot.media.interfaces import Transcript
from voicebot.media.pipeline import MediaConfig, MediaSession
from voicebot.media.player import PlayoutState
from voicebot.media.resample import resample
from voicebot.media.vad import VoiceActivityDetector

RATE = 8000
FRAME = 320
PROMPT = tone(440, 3.0, RATE, amplitude=6000)

Scenario = Callable[[MediaSession, dict], Awaitable[None]]


class FakeRecognizer:
    def __init__(self, partial: str | None = None, final: str = "") -> None:
        self.partial = partial
        self.final_text = final
        self.accepted = bytearray()
        self.resets = 0

    async def accept(self, pcm16k: bytes) -> str | None:
        self.accepted += pcm16k
        return self.partial

    async def final(self) -> Transcript:
        return Transcript(self.final_text, 0.9)

    def reset(self) -> None:
        self.resets += 1


async def call(
    scenario: Scenario,
    caller_audio: bytes | None,
    *,
    then_silence: float = 1.0,
    config: MediaConfig | None = None,
    peer_actions: Callable[[AudioSocketPeer], Awaitable[None]] | None = None,
    peer_kwargs: dict | None = None,
    audio_delay: float = 0.0,
    **session_kwargs,
) -> tuple[dict, AudioSocketPeer]:
    """Run one call: the bot side runs `scenario`, the caller streams `caller_audio` in real time."""
    result: dict = {"events": []}
    finished = asyncio.Event()

    async def handler(audiosocket_call: AudioSocketCall) -> None:
        session = MediaSession(audiosocket_call, config=config or MediaConfig(), **session_kwargs)
        await session.start()
        result["session"] = session
        try:
            await scenario(session, result)
        finally:
            result["recording"] = await session.close()
            await audiosocket_call.hangup()
            finished.set()

    server = AudioSocketServer(handler, "127.0.0.1", 0)
    await server.start()
    peer = AudioSocketPeer("127.0.0.1", server.bound_port, **(peer_kwargs or {}))
    try:
        await peer.connect()
        result["stream_start"] = asyncio.get_running_loop().time() + audio_delay
        if caller_audio is not None:
            peer.start_stream(caller_audio, then_silence=then_silence, delay=audio_delay)
        if peer_actions is not None:
            await peer_actions(peer)
        await asyncio.wait_for(finished.wait(), 20)
    finally:
        await peer.close()
        await server.stop()
    return result, peer


async def collect_until(session: MediaSession, result: dict, stop: Callable, within: float) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while (remaining := deadline - loop.time()) > 0:
        event = await session.next_event(remaining)
        if event is None:
            return
        result["events"].append(event)
        if stop(event):
            return


def play_prompt(interruptible: bool = True, wait_events: float = 0.0) -> Scenario:
    async def scenario(session: MediaSession, result: dict) -> None:
        handle = session.play(PROMPT, RATE, interruptible=interruptible)
        result["play_at"] = asyncio.get_running_loop().time()
        result["outcome"] = await asyncio.wait_for(handle, 10)
        result["handle"] = handle
        await collect_until(session, result, lambda e: False, wait_events)

    return scenario


def prompt_frames(peer: AudioSocketPeer) -> list[bool]:
    """Per received frame: is it prompt audio (loud) or silence."""
    return [np.abs(np.frombuffer(r.payload, "<i2")).max() > 1000 for r in peer.audio_frames()]


def frames_until_speech_reaches(pcm8k: bytes, ms: int) -> int:
    """Frames of `pcm8k` after which `ms` of loud voiced speech have been heard (independent VAD run)."""
    vad = VoiceActivityDetector(16000)
    loud = 0
    for i, frame in enumerate(vad.process(resample(pcm8k, RATE, 16000))):
        if frame.started:
            loud = frame.speech_ms  # the voiced frames that made the VAD fire count too
        elif frame.speaking and frame.voiced and frame.dbfs >= -45:
            loud += 20
        if loud >= ms:
            return i + 1
    raise AssertionError("speech never reached the length")


async def test_barge_in_stops_the_prompt_within_200_ms_of_min_speech():
    caller = bytes(RATE * 2) + speech("Здравствуйте, я хочу передать показания счётчика", RATE)
    result, peer = await call(play_prompt(wait_events=0.5), caller)
    assert result["outcome"] is PlayoutState.INTERRUPTED
    assert any(isinstance(e, BargeIn) for e in result["events"])
    # From when the frame completing 300 ms of speech really left the caller (a busy machine sends late).
    reached = peer.sent_at[frames_until_speech_reaches(caller, 300) - 1]
    loud = prompt_frames(peer)
    last_prompt = max(i for i, x in enumerate(loud) if x)
    stopped_at = peer.audio_frames()[last_prompt + 1].t
    assert stopped_at - reached <= 0.2, f"playback stopped {1000 * (stopped_at - reached):.0f} ms late"
    assert stopped_at > reached - 0.05  # and not before the caller said enough


async def test_backchannels_do_not_interrupt():
    # «угу» is too short to count; «да-да» is long enough, but the ASR partial says it is a backchannel.
    caller = (
        bytes(int(RATE * 0.8) * 2) + speech("угу", RATE) + bytes(int(RATE * 0.4) * 2) + speech("да-да", RATE)
    )
    result, peer = await call(play_prompt(), caller, recognizer=FakeRecognizer(partial="да да"))
    assert result["outcome"] is PlayoutState.DONE
    loud = prompt_frames(peer)
    first, last = loud.index(True), len(loud) - loud[::-1].index(True)
    assert all(loud[first:last]), "the prompt was paused"
    assert last - first == len(PROMPT) // FRAME


async def test_false_interruption_resumes_the_prompt_where_it_stopped():
    # «да-да» passes the minimum speech length, but no words come: a false interruption.
    caller = bytes(int(RATE * 0.8) * 2) + speech("да-да", RATE)
    result, peer = await call(play_prompt(), caller)
    assert result["outcome"] is PlayoutState.DONE
    assert not any(isinstance(e, BargeIn) for e in result["events"])
    loud = prompt_frames(peer)
    first, last = loud.index(True), len(loud) - loud[::-1].index(True)
    gap = loud[first:last].count(False)
    assert 3 <= gap <= 40, f"pause of {gap} frames"
    played = b"".join(r.payload for r, x in zip(peer.audio_frames(), loud, strict=True) if x)
    assert played == PROMPT  # resumed exactly: nothing lost, nothing repeated


async def test_uninterruptible_prompt_plays_through_speech():
    caller = bytes(int(RATE * 0.5) * 2) + speech("Здравствуйте, я хочу передать показания", RATE)
    result, peer = await call(play_prompt(interruptible=False), caller)
    assert result["outcome"] is PlayoutState.DONE
    loud = prompt_frames(peer)
    first, last = loud.index(True), len(loud) - loud[::-1].index(True)
    assert all(loud[first:last]) and last - first == len(PROMPT) // FRAME


async def test_caller_hangs_up_in_the_middle_of_a_prompt():
    async def scenario(session: MediaSession, result: dict) -> None:
        handle = session.play(PROMPT, RATE)
        await collect_until(session, result, lambda e: isinstance(e, Hangup), 5)
        result["outcome"] = await asyncio.wait_for(handle, 1)

    async def hang_up_soon(peer: AudioSocketPeer) -> None:
        await asyncio.sleep(0.5)
        await peer.hang_up()

    result, _ = await call(scenario, None, peer_actions=hang_up_soon)
    assert result["outcome"] in (PlayoutState.INTERRUPTED, PlayoutState.CLOSED)
    hangup = result["events"][-1]
    assert isinstance(hangup, Hangup) and hangup.reason == "caller"


async def test_silent_call_is_kept_alive_and_reports_silence_and_dtmf():
    async def scenario(session: MediaSession, result: dict) -> None:
        await collect_until(session, result, lambda e: isinstance(e, Dtmf) and e.digit == "#", 5)

    async def press_keys_late(peer: AudioSocketPeer) -> None:
        await asyncio.sleep(3.0)  # the far end sends nothing: only the bot keeps the app's 2 s timer alive
        assert not peer.ended, peer.end_reason
        await peer.send_dtmf("4")
        await peer.send_dtmf("#")

    config = MediaConfig(silence_timeout=1.0)
    result, peer = await call(scenario, None, config=config, peer_actions=press_keys_late)
    assert peer.end_reason == "bot_hangup"
    frames = peer.audio_frames()
    # The session does not wait for caller audio to learn the rate (it would wait 3 s here): silence
    # streams at once.
    assert frames[0].t < 0.5 and all(r.payload == bytes(FRAME) for r in frames)
    assert len(frames) >= (frames[-1].t - frames[0].t) / 0.02 - 2
    gaps = np.diff([r.t for r in frames[3:]])
    # Paced, not bursty (a burst makes most gaps ~0); a busy shared machine may delay the odd frame, never
    # the stream (Asterisk hangs up after 2 s without one).
    assert 0.015 <= np.median(gaps) <= 0.025 and np.percentile(gaps, 90) < 0.05 and gaps.max() < 0.5
    silences = [e for e in result["events"] if isinstance(e, Silence)]
    assert 2 <= len(silences) <= 3 and silences[0].timeout == 1.0
    assert [e.digit for e in result["events"] if isinstance(e, Dtmf)] == ["4", "#"]


async def test_speech_goes_to_the_recogniser_with_preroll_only_while_spoken():
    phrase = speech("Сто двадцать три", RATE)
    caller = bytes(RATE * 2) + phrase
    recognizer = FakeRecognizer(partial=None, final="сто двадцать три")

    async def scenario(session: MediaSession, result: dict) -> None:
        await collect_until(session, result, lambda e: isinstance(e, SpeechEnded), 6)

    result, _ = await call(scenario, caller, then_silence=1.5, recognizer=recognizer)
    started = [e for e in result["events"] if isinstance(e, SpeechStarted)]
    ended = [e for e in result["events"] if isinstance(e, SpeechEnded)]
    assert len(started) == 1 and len(ended) == 1
    assert ended[0].text == "сто двадцать три" and ended[0].sample_rate == 16000
    utterance = ended[0].audio
    # All of it but the end-of-turn silence past asr_tail_ms (0.8 s - 0.3 s, give or take a frame or two).
    held_back = (len(utterance) - len(recognizer.accepted)) / 32000
    assert 0.44 <= held_back <= 0.56
    # Fed from the pre-roll through 0.3 s of trailing silence, not during the 1 s of silence before.
    assert len(recognizer.accepted) <= 2 * 16000 * (len(phrase) / 16000 + 0.3 + 0.3 + 0.1)
    # The pre-roll reaches back before the VAD fired: the utterance holds the whole phrase.
    assert len(utterance) / 32000 >= 0.8 * len(phrase) / 16000 - 0.1
    assert recognizer.resets == 1


async def test_recording_keeps_both_sides_on_one_timeline(tmp_path):
    click = tone(2000, 0.01, RATE, amplitude=20000)
    caller = bytes(RATE * 2) + click  # caller click at 1.0 s into the caller's stream
    bot_audio = bytes(int(RATE * 1.5) * 2) + click  # bot click 1.5 s after the bot starts playing

    async def scenario(session: MediaSession, result: dict) -> None:
        result["t0"] = session.recorder._t0
        handle = session.play(bot_audio, RATE)
        result["play_at"] = asyncio.get_running_loop().time()
        await handle
        await asyncio.sleep(0.5)
        result["offset_ms"] = session.offset_ms()

    result, peer = await call(scenario, caller, recording_path=tmp_path / "call.wav")
    path, duration = result["recording"]
    assert path.suffix == ".ogg" and path.stat().st_size > 1000
    assert abs(duration - result["offset_ms"] / 1000) < 0.3

    # Re-derive the WAV (the finished file is Opus): decode it back with ffmpeg through pydub.
    from pydub import AudioSegment

    segment = AudioSegment.from_file(path).set_frame_rate(RATE)
    stereo = np.array(segment.get_array_of_samples()).reshape(-1, 2)
    left_click = np.argmax(np.abs(stereo[:, 0])) / RATE
    right_click = np.argmax(np.abs(stereo[:, 1])) / RATE
    t0 = result["t0"]
    expected_left = result["stream_start"] + 1.0 - t0
    loud = prompt_frames(peer)
    bot_click_arrival = peer.t0 + peer.audio_frames()[loud.index(True)].t
    expected_right = bot_click_arrival - t0
    # 0.12 s: a busy machine delays arrival a little; the faults this guards against (a channel that lost
    # its leading silence, or was not kept on the shared timeline) move a click by 1 s or more.
    assert abs(left_click - expected_left) < 0.12, (left_click, expected_left)
    assert abs(right_click - expected_right) < 0.12, (right_click, expected_right)


async def test_recording_wav_is_written_incrementally(tmp_path):
    async def scenario(session: MediaSession, result: dict) -> None:
        await asyncio.sleep(0.6)
        with wave.open(str(session.recorder.path), "rb") as wav:
            result["channels"] = wav.getnchannels()
        result["bytes_on_disk"] = session.recorder.path.stat().st_size

    result, _ = await call(scenario, bytes(RATE * 2), recording_path=tmp_path / "live")
    assert result["channels"] == 2
    assert result["bytes_on_disk"] > 44 + 0.3 * RATE * 4


class UrgencyRecognizer(FakeRecognizer):
    def __init__(self) -> None:
        super().__init__(final="да")
        self.expected_final = 0

    def expect_final(self) -> None:
        self.expected_final += 1


async def test_a_pause_inside_an_utterance_reaches_the_recogniser_and_the_end_is_urgent():
    word = speech("Сто двадцать три", RATE)
    pause = bytes(RATE * 2 * 6 // 10)  # 0.6 s: longer than asr_tail_ms, shorter than the endpoint
    caller = bytes(RATE) + word + pause + word
    recognizer = UrgencyRecognizer()
    config = MediaConfig(trailing_silence_ms=900, asr_tail_ms=200)

    async def scenario(session: MediaSession, result: dict) -> None:
        await collect_until(session, result, lambda e: isinstance(e, SpeechEnded), 8)

    result, _ = await call(scenario, caller, then_silence=1.5, recognizer=recognizer, config=config)
    ended = [e for e in result["events"] if isinstance(e, SpeechEnded)]
    assert len(ended) == 1 and recognizer.expected_final == 1
    held_back = (len(ended[0].audio) - len(recognizer.accepted)) / 32000
    assert 0.6 <= held_back <= 0.76  # only the end-of-turn silence past 0.2 s; the pause was sent


class AdaptingRecognizer(FakeRecognizer):
    def __init__(self) -> None:
        super().__init__(final="да")
        self.adapted: list[int] = []

    async def adapt(self, pcm16k: bytes) -> None:
        self.adapted.append(len(pcm16k))


async def test_the_recogniser_adapts_to_the_line_before_the_caller_first_speaks():
    caller = bytes(RATE * 2 * 3 // 2) + speech("Сто двадцать три", RATE)  # 1.5 s of line, then speech
    recognizer = AdaptingRecognizer()

    async def scenario(session: MediaSession, result: dict) -> None:
        await collect_until(session, result, lambda e: isinstance(e, SpeechEnded), 8)

    result, _ = await call(scenario, caller, then_silence=1.5, recognizer=recognizer)
    assert recognizer.adapted == [32000]  # once, 1 s (asr_warmup_ms) at 16 kHz
    assert [e.text for e in result["events"] if isinstance(e, SpeechEnded)] == ["да"]


# --- PROTOCOLS.md §9: the first audio comes late, or not at all while the caller is quiet -------------


def decode_recording(path) -> tuple[np.ndarray, int]:  # noqa: ANN001
    from pydub import AudioSegment

    segment = AudioSegment.from_file(path)
    return np.array(segment.get_array_of_samples()).reshape(-1, 2), segment.frame_rate


@pytest.mark.parametrize("rate", [8000, 16000])
async def test_late_first_audio_keeps_rate_kind_and_timeline_right(tmp_path, rate):
    # A slin16 channel (Dial(AudioSocket/...c(slin16)): no 2 s timer) whose caller is quiet for 1.2 s. The
    # bot starts its prompt at once: 8 kHz labelled 0x10 until the caller's first frame tells the call's
    # rate, then that rate, the prompt neither stretched nor squeezed. The caller's click sits in the
    # recording where it was heard.
    click = tone(2000, 0.02, rate, amplitude=20000)
    caller = bytes(rate) + click + bytes(rate)  # click 0.5 s after the first frame
    prompt = tone(440, 3.0, 16000, amplitude=6000)

    async def scenario(session: MediaSession, result: dict) -> None:
        result["t0"] = session.recorder._t0
        handle = session.play(prompt, 16000, interruptible=False)
        await asyncio.wait_for(handle, 10)
        await asyncio.sleep(0.3)
        result["recording_rate"] = session.recorder.sample_rate

    result, peer = await call(
        scenario,
        caller,
        audio_delay=1.2,
        recording_path=tmp_path / "late.wav",
        peer_kwargs={"sample_rate": rate, "inactivity_timeout": None},
    )
    frames = peer.audio_frames()
    assert frames[0].t < 0.5  # no waiting for the rate (the caller's first frame comes at 1.2 s)
    for frame in frames:  # the kind always tells the payload's real rate (20 ms frames)
        assert len(frame.payload) == {0x10: 320, 0x12: 640}[frame.kind], (hex(frame.kind), len(frame.payload))
    first_in = peer.first_audio_at
    assert first_in is not None and first_in >= 1.2
    assert all(f.kind == 0x10 for f in frames if f.t < first_in)
    expected_kind = {8000: 0x10, 16000: 0x12}[rate]
    assert all(f.kind == expected_kind for f in frames if f.t > first_in + 0.1)
    played = sum(
        len(f.payload) / 2 / {0x10: 8000, 0x12: 16000}[f.kind]
        for f in frames
        if np.abs(np.frombuffer(f.payload, "<i2")).max() > 1000
    )
    assert abs(played - 3.0) <= 0.05, f"the 3.0 s prompt was heard for {played:.2f} s"

    assert result["recording_rate"] == rate
    stereo, file_rate = decode_recording(result["recording"][0])
    left_click = np.argmax(np.abs(stereo[:, 0])) / file_rate
    expected = result["stream_start"] + 0.5 - result["t0"]
    # 0.12 s: a busy machine delays arrival a little; the faults this guards against (a stretched or
    # late-started caller channel) move the click by 0.5 s or more.
    assert abs(left_click - expected) < 0.12, (left_click, expected)


async def test_turn_ends_when_the_phone_stops_sending_during_silence():
    # A phone with silence suppression sends the phrase and then nothing: the turn still ends after the
    # trailing silence, and the silence watch runs on afterwards.
    phrase = speech("Сто двадцать три", RATE)
    recognizer = FakeRecognizer(final="сто двадцать три")
    config = MediaConfig(silence_timeout=1.5)

    async def scenario(session: MediaSession, result: dict) -> None:
        await collect_until(session, result, lambda e: isinstance(e, Silence), 8)
        result["done_at"] = asyncio.get_running_loop().time()

    result, peer = await call(
        scenario,
        bytes(RATE) + phrase,
        then_silence=10.0,
        config=config,
        recognizer=recognizer,
        peer_kwargs={"silence_suppression": True},
    )
    assert peer.suppressed_frames > 0 and peer.end_reason == "bot_hangup"
    ended = [e for e in result["events"] if isinstance(e, SpeechEnded)]
    assert [e.text for e in ended] == ["сто двадцать три"]
    phrase_end = result["stream_start"] + 0.5 + len(phrase) / 2 / RATE
    assert ended[0].timestamp - phrase_end < 0.8 + 0.6, "end of turn waited for frames that never came"
    silences = [e for e in result["events"] if isinstance(e, Silence)]
    assert silences and silences[0].timestamp - ended[0].timestamp < 1.5 + 0.5
