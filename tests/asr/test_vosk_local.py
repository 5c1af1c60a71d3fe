"""The in-process Vosk recogniser against the real (Korean) model and espeak-ng speech."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from voicebot.asr import ASRUnavailableError, Partial, VoskModelPool, VoskRecognizer, supports_grammar

from .helpers import chunks, overlap, silence

PHRASE = "안녕하세요. 오늘 날씨가 좋습니다."


async def recognise(rec: VoskRecognizer, pcm: bytes) -> tuple[list[Partial], object]:
    partials = [p for chunk in chunks(pcm) if (p := await rec.accept(chunk)) is not None]
    return partials, await rec.final()


async def test_streaming_gives_partials_text_and_word_times(ko_pool, korean_speech):
    pcm = await korean_speech(PHRASE)
    duration = len(pcm) / 2 / 16000
    partials, transcript = await recognise(VoskRecognizer(ko_pool), pcm)

    assert partials and any(p.text for p in partials)
    assert len(transcript.words) >= 3
    assert transcript.text == " ".join(w.text for w in transcript.words)
    assert 0.0 < transcript.confidence <= 1.0
    starts = [w.start for w in transcript.words]
    assert starts == sorted(starts)
    assert all(0.0 <= w.start < w.end <= duration + 0.1 for w in transcript.words)


async def test_final_resets_for_the_next_utterance_and_times_keep_running(ko_pool, korean_speech):
    rec = VoskRecognizer(ko_pool)
    first_pcm = await korean_speech(PHRASE)
    _, first = await recognise(rec, first_pcm)
    _, second = await recognise(rec, await korean_speech("감사합니다"))
    assert first.text and second.text
    assert len(second.words) < len(first.words)
    assert second.words[0].start >= len(first_pcm) / 2 / 16000 - 0.1


async def test_a_settled_pause_leaves_the_final_nothing_to_decode(ko_pool, korean_speech):
    # What the media session does when the caller pauses: the words so far are decoded during the
    # end-of-turn silence; the final then costs no decoding, and speech after the pause is a new segment.
    pcm, more = await korean_speech(PHRASE), await korean_speech("감사합니다")
    rec = VoskRecognizer(ko_pool)
    for chunk in chunks(pcm):
        await rec.accept(chunk)
    await rec.settle()
    started = time.perf_counter()
    settled = await rec.final()
    assert time.perf_counter() - started < 0.05  # no decoding job: an answer at once
    assert len(settled.words) >= 3 and settled.text == " ".join(w.text for w in settled.words)
    for chunk in chunks(pcm):
        await rec.accept(chunk)
    await rec.settle()
    for chunk in chunks(more):
        await rec.accept(chunk)
    both = await rec.final()
    assert len(both.words) > len(settled.words)  # the words before the pause and after it
    starts = [w.start for w in both.words]
    assert starts == sorted(starts)


async def test_silence_yields_an_empty_transcript(ko_pool):
    rec = VoskRecognizer(ko_pool)
    for chunk in chunks(silence(1.0)):
        await rec.accept(chunk)
    transcript = await rec.final()
    assert transcript.empty and transcript.confidence == 0.0 and transcript.words == ()


async def test_reset_drops_what_was_heard(ko_pool, korean_speech):
    rec = VoskRecognizer(ko_pool)
    for chunk in chunks(await korean_speech("감사합니다")):
        await rec.accept(chunk)
    rec.reset()
    assert (await rec.final()).empty


async def test_grammar_restricts_the_vocabulary_and_can_be_lifted(ko_pool, korean_speech):
    assert ko_pool.grammar_supported
    rec = VoskRecognizer(ko_pool)
    rec.set_grammar(["네", "아니요"])
    _, yes = await recognise(rec, await korean_speech("네"))
    _, no = await recognise(rec, await korean_speech("아니요"))
    assert (yes.text, no.text) == ("네", "아니요")
    assert yes.grammar

    rec.set_grammar(None)
    _, free = await recognise(rec, await korean_speech(PHRASE))
    assert not free.grammar and len(free.words) >= 3


def test_grammar_support_is_detected_from_the_graph(tmp_path: Path, ko_model_path: Path):
    assert supports_grammar(ko_model_path)
    big = tmp_path / "vosk-model-ru-0.42"
    (big / "graph").mkdir(parents=True)
    (big / "graph" / "HCLG.fst").write_bytes(b"")
    assert not supports_grammar(big)


def test_a_big_model_ignores_the_grammar(tmp_path: Path):
    pool = VoskModelPool(tmp_path, threads=1)  # no lookahead graph: like vosk-model-ru-0.42
    rec = VoskRecognizer(pool)
    rec.set_grammar(["да", "нет"])
    assert not rec.grammar_active
    pool.close()


async def test_bad_audio_is_refused_clearly(ko_pool):
    rec = VoskRecognizer(ko_pool)
    with pytest.raises(ValueError, match="even number of bytes"):
        await rec.accept(b"\x00\x01\x02")
    with pytest.raises(TypeError):
        await rec.accept("text")  # type: ignore[arg-type]
    assert await rec.accept(b"") is None


async def test_missing_model_folder_is_a_clear_error(tmp_path: Path):
    pool = VoskModelPool(tmp_path / "nowhere", threads=1)
    with pytest.raises(ASRUnavailableError, match="voicebot models download"):
        await pool.load()
    pool.close()


async def test_concurrent_calls_decode_in_the_pool_without_blocking_the_loop(ko_pool, korean_speech):
    pcm = await korean_speech(PHRASE)
    recognisers = [VoskRecognizer(ko_pool, call_id=f"call-{i}") for i in range(3)]
    gaps: list[float] = []
    done = asyncio.Event()

    async def ticker() -> None:
        last = time.perf_counter()
        while not done.is_set():
            await asyncio.sleep(0.01)
            now = time.perf_counter()
            gaps.append(now - last)
            last = now

    tick = asyncio.create_task(ticker())
    started = time.perf_counter()
    results = await asyncio.gather(*(recognise(r, pcm) for r in recognisers))
    elapsed = time.perf_counter() - started
    done.set()
    await tick

    first, *others = [transcript.text.split() for _, transcript in results]
    # Online i-vector adaptation makes Vosk slightly non-deterministic, so compare loosely
    assert first and all(overlap(first, other) >= 0.6 for other in others)
    # Decoding in the loop would stall it for the whole utterance (seconds); the pool keeps ticks flowing.
    # Speed itself is measured by `voicebot bench calls`, not asserted here.
    assert max(gaps) < 0.5, f"event loop stalled for {max(gaps):.3f}s (decoding {elapsed:.1f}s in all)"


async def test_a_closed_call_hands_its_recogniser_on_reset(ko_pool, korean_speech):
    speech = await korean_speech("안녕하세요")
    first = VoskRecognizer(ko_pool, call_id="a")
    await first.accept(speech)
    heard = (await first.final()).text
    first.reset()
    await first.accept(speech)  # mid-utterance when the call ends
    kaldi = first._rec
    await first.close()
    second = VoskRecognizer(ko_pool, call_id="b")
    await second.accept(bytes(3200))
    assert second._rec is kaldi
    assert heard and heard not in (await second.final()).text  # the first call's words did not carry over
    await second.close()
    # A recogniser with other options (here: alternatives) never gets it.
    third = VoskRecognizer(ko_pool, call_id="c", max_alternatives=2)
    await third.accept(bytes(3200))
    assert third._rec is not kaldi
    await third.close()


async def test_final_is_urgent_until_reset(ko_pool):
    rec = VoskRecognizer(ko_pool)
    assert not rec.urgent
    rec.expect_final()
    assert rec.urgent
    await rec.final()
    rec.reset()
    assert not rec.urgent


async def test_adapting_to_the_line_leaves_no_words_and_happens_once(ko_pool, korean_speech):
    rec = VoskRecognizer(ko_pool)
    await rec.adapt(await korean_speech("안녕하세요"))  # as if the line carried crosstalk under the greeting
    assert rec._adapted
    await rec.accept(bytes(3200))
    assert "안녕" not in (await rec.final()).text
    rec.reset()
    kaldi, fed = rec._rec, rec._fed
    await rec.adapt(bytes(32000))  # already adapted: nothing decoded, nothing reset
    assert rec._rec is kaldi and rec._fed == fed
    await rec.close()
