"""The vosk-server client against a local fake server that speaks vosk-server's protocol."""

from __future__ import annotations

import pytest

from voicebot.asr import ASRError, ASRUnavailableError, VoskRecognizer, VoskServerRecognizer
from voicebot.asr.vosk_server import EOF_MESSAGE

from .fake_vosk_server import EOF_TEXT, FakeVoskServer
from .helpers import chunks, overlap

PHRASE = "안녕하세요. 오늘 날씨가 좋습니다."


@pytest.fixture
async def server(ko_pool):
    fake = await FakeVoskServer(ko_pool.model()).start()
    yield fake
    await fake.stop()


async def stream(rec, pcm: bytes):
    partials = [p for c in chunks(pcm) if (p := await rec.accept(c)) is not None]
    return partials, await rec.final()


async def test_streams_and_matches_the_in_process_recogniser(server, ko_pool, korean_speech):
    pcm = await korean_speech(PHRASE)
    rec = VoskServerRecognizer(server.url, sample_rate=16000)
    partials, remote = await stream(rec, pcm)
    _, local = await stream(VoskRecognizer(ko_pool), pcm)

    assert partials and remote.text and local.text
    assert overlap(remote.text.split(), local.text.split()) >= 0.6  # Vosk is not bit-exact run to run
    assert remote.words and remote.words[-1].end > remote.words[0].start
    assert server.configs == [{"sample_rate": 16000, "words": 1}]
    assert server.text_frames[-1] == EOF_TEXT == EOF_MESSAGE


async def test_each_utterance_opens_a_new_stream_with_the_current_grammar(server, korean_speech):
    rec = VoskServerRecognizer(server.url, sample_rate=16000)
    rec.set_grammar(["네", "아니요"])
    _, yes = await stream(rec, await korean_speech("네"))
    rec.set_grammar(None)
    _, free = await stream(rec, await korean_speech("감사합니다"))

    assert yes.text == "네" and yes.grammar
    assert free.text and not free.grammar
    assert server.configs[0]["phrase_list"] == ["네", "아니요", "[unk]"]
    assert "phrase_list" not in server.configs[1]
    await rec.close()


async def test_final_without_audio_does_not_touch_the_server(server):
    rec = VoskServerRecognizer(server.url)
    assert (await rec.final()).empty
    assert server.configs == []


async def test_unreachable_server_is_a_clear_error():
    rec = VoskServerRecognizer("ws://127.0.0.1:9", connect_timeout=2)
    with pytest.raises(ASRUnavailableError, match="cannot reach vosk-server"):
        await rec.accept(bytes(320))


async def test_garbage_from_the_server_is_an_asr_error(server):
    server.garbage = True
    rec = VoskServerRecognizer(server.url)
    with pytest.raises(ASRError, match="not JSON"):
        await rec.accept(bytes(3200))
    await rec.close()
