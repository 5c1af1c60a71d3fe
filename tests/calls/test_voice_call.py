"""Whole calls through the AudioSocket emulator: real Korean Vosk, espeak-ng prompts, the real dialogue."""

from __future__ import annotations

import asyncio
import json
import subprocess
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from tests.emulators.audiosocket_peer import AudioSocketPeer
from tests.media.speech import buzz
from voicebot.asterisk.audiosocket import AudioSocketServer
from voicebot.calls.engine import VoiceEngine
from voicebot.db.models import Call, Callback, CallTurn
from voicebot.media.interfaces import Transcript
from voicebot.tts import EspeakTTS

PHONE = "+79990000001"


def voiced(frames) -> list:  # noqa: ANN001
    return [f for f in frames if any(f.payload)]


async def wait_for(predicate, within: float, step: float = 0.05) -> bool:  # noqa: ANN001
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while loop.time() < deadline:
        if predicate():
            return True
        await asyncio.sleep(step)
    return predicate()


async def wait_quiet(peer: AudioSocketPeer, after: float, quiet: float = 0.4, within: float = 15.0) -> float:
    """Wait until the bot spoke after time `after` and then went quiet; returns when its speech began."""

    def spoke() -> list:
        return [f for f in voiced(peer.audio_frames()) if f.t > after]

    assert await wait_for(lambda: bool(spoke()) or peer.ended, within), "the bot never spoke"
    assert await wait_for(lambda: peer.ended or peer.now() - spoke()[-1].t > quiet, within)
    return spoke()[0].t


async def call_row(db, call_id: uuid.UUID) -> Call | None:  # noqa: ANN001
    async with db.session() as session:
        return await session.get(Call, call_id)


async def turns(db, call_id: uuid.UUID) -> list[CallTurn]:  # noqa: ANN001
    async with db.session() as session:
        rows = await session.execute(
            select(CallTurn).where(CallTurn.call_id == call_id).order_by(CallTurn.seq)
        )
        return list(rows.scalars())


def channels(path: Path) -> int:
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-show_streams", "-of", "json", str(path)], capture_output=True, check=True
    )
    return json.loads(out.stdout)["streams"][0]["channels"]


async def korean(text: str) -> bytes:
    return (await EspeakTTS(voice="ko", rate=150, sample_rate=16000, normalize=False).synthesize(text)).pcm


@dataclass
class VoiceCall:
    """One call into a started engine: its id, the engine and AudioSocket server, and the caller's peer."""

    engine: VoiceEngine
    server: AudioSocketServer
    call_id: uuid.UUID
    peer: AudioSocketPeer

    async def hang_up(self) -> None:
        """The caller hangs up; returns once the server has let the call go."""
        await self.peer.hang_up()
        assert await wait_for(lambda: self.call_id not in self.server.calls, 10)


@pytest.fixture
def dial(make_engine, audiosocket) -> Callable[..., Awaitable[VoiceCall]]:  # noqa: ANN001
    """`await dial(scenario, …)`: an engine (`engine=` one already made, else `make_engine(**kwargs)`) on
    its own AudioSocket server, the call announced for `scenario` (None: never announced), and a connected
    caller."""

    async def dial(
        scenario: str | None,
        *,
        phone: str = PHONE,
        direction: str | None = None,
        sample_rate: int = 8000,
        engine: VoiceEngine | None = None,
        **engine_kwargs: Any,
    ) -> VoiceCall:
        engine = engine or make_engine(**engine_kwargs)
        server = await audiosocket(engine)
        call_id = uuid.uuid4()
        if scenario is not None:
            engine.registry.announce(call_id, scenario, phone, direction=direction)
        peer = AudioSocketPeer("127.0.0.1", server.bound_port, call_uuid=call_id, sample_rate=sample_rate)
        await peer.connect()
        return VoiceCall(engine, server, call_id, peer)

    return dial


async def test_whole_call_speech_dtmf_recording(demo_db, dial) -> None:  # noqa: ANN001
    call = await dial("voicetest", direction="inbound", sample_rate=16000)
    peer, call_id = call.peer, call.call_id
    # The greeting arrives, paced: one 20 ms frame per 20 ms, never a burst.
    await wait_quiet(peer, 0.0)
    frames = peer.audio_frames()
    span = frames[-1].t - frames[0].t
    assert len(frames) <= span / 0.02 + 3
    assert len(frames) >= span / 0.02 * 0.8

    # Speech: the Korean model makes some text of it, the dialogue gets it as a caller turn and re-asks.
    spoken_at = peer.now()
    await peer.stream(await korean("안녕하세요 반갑습니다 감사합니다"), then_silence=1.0)
    await wait_quiet(peer, spoken_at + 0.5)

    # Keypad: the account number, ended by '#', moves the dialogue on to the confirmation.
    pressed_at = peer.now()
    for digit in "07234501#":
        await peer.send_dtmf(digit)
    await wait_quiet(peer, pressed_at)
    await call.hang_up()

    row = await call_row(demo_db, call_id)
    assert row is not None and row.channel == "voice" and row.status == "ended"
    assert row.answered_at is not None and row.outcome
    recorded = [t for t in await turns(demo_db, call_id)]
    caller = [t for t in recorded if t.speaker == "caller"]
    assert any(t.text and t.text != "07234501" for t in caller), [t.text for t in caller]
    assert caller[0].start_ms is not None and caller[0].end_ms > caller[0].start_ms
    assert any(t.text == "07234501" and t.step == "ask_account" for t in caller)
    assert any(t.speaker == "bot" and t.step == "confirm" for t in recorded)
    bot_offsets = [t.start_ms for t in recorded if t.speaker == "bot"]
    assert all(o is not None for o in bot_offsets) and bot_offsets == sorted(bot_offsets)  # on the recording
    path = Path(row.recording_path)
    assert path.suffix == ".ogg" and path.exists() and channels(path) == 2  # noqa: ASYNC240
    assert float(row.recording_duration) > 2.0


async def test_hangup_mid_prompt_closes_the_dialogue(db, dial) -> None:  # noqa: ANN001
    call = await dial("voicelong")
    call.peer.start_stream(bytes(320 * 50 * 20))
    assert await wait_for(lambda: bool(voiced(call.peer.audio_frames())), 10)
    await asyncio.sleep(0.5)
    await call.hang_up()
    row = await call_row(db, call.call_id)
    assert row.status == "ended" and row.outcome == "hangup" and row.ended_at is not None
    assert row.recording_path and Path(row.recording_path).exists()  # noqa: ASYNC240


async def test_overflow_when_all_dialogues_are_busy(db, make_engine, audiosocket) -> None:  # noqa: ANN001
    engine = make_engine(max_dialogues=1)
    server = await audiosocket(engine)
    first, second = uuid.uuid4(), uuid.uuid4()
    engine.registry.announce(first, "voicelong", "+79990000002")
    engine.registry.announce(second, "voicetest", PHONE)
    busy = await AudioSocketPeer("127.0.0.1", server.bound_port, call_uuid=first).connect()
    busy.start_stream(bytes(320 * 50 * 20))
    assert await wait_for(lambda: engine.admission.active == 1, 5)

    peer = await AudioSocketPeer("127.0.0.1", server.bound_port, call_uuid=second).connect()
    peer.start_stream(bytes(320 * 50 * 20))
    assert await peer.wait_ended(20) == "bot_hangup"
    assert len(voiced(peer.audio_frames())) > 50  # the message was played before the hang-up
    assert not busy.ended and engine.admission.active == 1

    async with db.session() as session:
        callbacks = list((await session.execute(select(Callback))).scalars())
    assert len(callbacks) == 1
    callback = callbacks[0]
    assert callback.reason == "overflow" and callback.phone == PHONE and callback.source_call_id == second
    assert timedelta(0) <= callback.due_at - callback.missed_at <= timedelta(minutes=10)
    row = await call_row(db, second)
    assert row.outcome == "overflow"
    await busy.hang_up()


async def test_unknown_uuid_runs_the_inbound_scenario(db, dial) -> None:  # noqa: ANN001
    call = await dial(None)  # never announced
    call.peer.start_stream(bytes(320 * 50 * 10))
    assert await wait_for(lambda: bool(voiced(call.peer.audio_frames())), 10)
    await call.hang_up()
    row = await call_row(db, call.call_id)
    assert row.scenario == "voicetest" and row.direction == "inbound" and row.phone is None


@pytest.mark.parametrize("gating", [False])
async def test_without_vad_gating_speech_still_reaches_the_dialogue(db, dial, gating: bool) -> None:  # noqa: ANN001
    call = await dial("voicetest", sample_rate=16000, vad_gating=gating)
    peer = call.peer
    await wait_quiet(peer, 0.0)
    spoken_at = peer.now()
    await peer.stream(await korean("안녕하세요 반갑습니다 감사합니다"), then_silence=1.0)
    await wait_quiet(peer, spoken_at + 0.5)
    await call.hang_up()
    caller = [t for t in await turns(db, call.call_id) if t.speaker == "caller" and t.text]
    assert caller, "the transcript of the ungated recogniser never reached the dialogue"


class WordlessRecognizer:
    """A recogniser that hears the audio but makes out no words (noise, or speech it cannot decode)."""

    def __init__(self, **_kwargs: object) -> None:
        self.heard = 0

    async def accept(self, pcm16k: bytes) -> None:
        self.heard += len(pcm16k)

    async def final(self) -> Transcript:
        return Transcript("")

    def reset(self) -> None:
        return None


async def test_a_long_noise_that_cuts_the_prompt_gets_the_prompt_again(db, make_engine, dial) -> None:  # noqa: ANN001
    # 1.5 s of a voice-like drone during the long interruptible prompt: the barge-in cuts the prompt (over
    # 900 ms of speech), the recogniser finds no words, and the caller hears the prompt again instead of
    # silence until the no-input timer.
    engine = make_engine()
    engine.recognizers = WordlessRecognizer
    call = await dial("voicelong", engine=engine)
    peer = call.peer
    assert await wait_for(lambda: bool(voiced(peer.audio_frames())), 10)
    prompt_from = voiced(peer.audio_frames())[0].t
    await asyncio.sleep(1.0)
    await peer.stream(bytes(3200) + buzz(1.5, 8000), then_silence=0.0)
    noise_end = peer.now()
    peer.start_stream(bytes(320 * 50 * 12))
    cut_after = noise_end - prompt_from

    def heard_again() -> list:
        return voiced([f for f in peer.audio_frames() if f.t > noise_end])

    # Until more of the prompt than the noise cut has been heard again (about 4 s; 10 on a busy machine).
    await wait_for(lambda: len(heard_again()) * 0.02 > cut_after, 10)
    frames = peer.audio_frames()
    during = [f for f in frames if noise_end - 0.5 < f.t < noise_end]
    assert during and not voiced(during), "the noise did not cut the prompt"
    again = heard_again()
    assert again, "the caller was left in silence after the noise"
    assert again[0].t - noise_end < 2.5
    assert len(again) * 0.02 > cut_after, "the prompt did not start again from the utterance it cut"
    await call.hang_up()


async def test_reply_observer_ties_the_reply_to_the_utterance(db, dial) -> None:  # noqa: ANN001
    # What `bench calls` relies on: the speech span of a caller turn and when that turn's reply went out.
    seen: list[tuple] = []
    call = await dial("voicetest", sample_rate=16000, reply_observer=lambda *args: seen.append(args))
    peer, call_id = call.peer, call.call_id
    await wait_quiet(peer, 0.0)
    spoken_from = asyncio.get_running_loop().time()
    await peer.stream(await korean("안녕하세요 반갑습니다 감사합니다"), then_silence=1.0)
    spoken_to = asyncio.get_running_loop().time() - 1.0
    assert await wait_for(lambda: bool(seen), 20), "no reply was reported"
    await peer.hang_up()
    observed_id, start, end, reply_at = seen[0]
    assert observed_id == call_id
    assert start <= spoken_to and end >= spoken_from  # the span covers what the caller said
    assert reply_at is not None and reply_at > end
