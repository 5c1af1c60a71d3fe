"""Warm recognisers: made on speech off callers' time, reused across calls and grammars, bounded."""

from __future__ import annotations

import time

from voicebot.asr import VoskModelPool
from voicebot.asr.vosk_local import VoskRecognizer
from voicebot.asr.vosk_model import recognizer_key


async def test_prewarm_fills_the_pool_once_and_calls_take_warm_recognisers(ko_model_path, korean_speech):
    pool = VoskModelPool(ko_model_path, threads=1, max_idle=2)
    try:
        speech = await korean_speech("안녕하세요 반갑습니다")
        free = recognizer_key(16000, None)
        assert await pool.prewarm([free], speech) == 2
        assert await pool.prewarm([free], speech) == 0  # already full
        rec = VoskRecognizer(pool, 16000)
        await rec.adapt(bytes(32000))  # a warm recogniser skips the line warm-up
        assert pool.idle_count(free) == 1 and rec._adapted
        await rec.accept(speech)
        assert (await rec.final()).text
        await rec.close()
        assert pool.idle_count(free) == 2
    finally:
        pool.close()


async def test_a_warm_recogniser_decodes_its_first_utterance_cheaper(ko_model_path, korean_speech):
    pool = VoskModelPool(ko_model_path, threads=1, max_idle=1)
    try:
        speech = await korean_speech("안녕하세요 반갑습니다 감사합니다")
        free = recognizer_key(16000, None)

        def first_utterance_cpu(rec) -> float:  # noqa: ANN001
            started = time.thread_time()
            rec.AcceptWaveform(speech)
            rec.FinalResult()
            return time.thread_time() - started

        fresh = await pool.run(lambda: first_utterance_cpu(pool.create(free)))
        await pool.prewarm([free], await korean_speech("안녕하세요 반갑습니다"))
        warm = await pool.run(lambda: first_utterance_cpu(pool.take_idle(free)))
        assert warm < fresh * 0.7, (warm, fresh)
    finally:
        pool.close()


async def test_full_pool_frees_what_comes_back_and_grammar_switches_return_recognisers(
    ko_model_path, korean_speech
):
    pool = VoskModelPool(ko_model_path, threads=1, max_idle=1)
    try:
        speech = await korean_speech("안녕하세요")
        rec = VoskRecognizer(pool, 16000)
        await rec.accept(speech)
        first_key = rec._rec_key
        rec.set_grammar(["예", "아니요"])
        await rec.accept(speech)  # a new graph: the free-speech recogniser goes back to the pool
        assert pool.idle_count(first_key) == 1
        other = VoskRecognizer(pool, 16000)
        await other.accept(speech)
        await rec.close()
        await other.close()
        assert pool.idle_count(first_key) == 1  # the pool holds at most max_idle per key
    finally:
        pool.close()


async def test_a_calls_decoding_feeds_the_asr_metrics_warming_does_not(ko_model_path, korean_speech):
    from voicebot.metrics import ASR_DECODE, ASR_QUEUE_WAIT

    def count(histogram) -> float:  # noqa: ANN001
        return next(s.value for s in histogram.collect()[0].samples if s.name.endswith("_count"))

    pool = VoskModelPool(ko_model_path, threads=1, max_idle=1)
    try:
        speech = await korean_speech("안녕하세요")
        await pool.prewarm([recognizer_key(16000, None)], speech)
        before = count(ASR_DECODE), count(ASR_QUEUE_WAIT)
        rec = VoskRecognizer(pool, 16000)
        await rec.accept(speech)
        await rec.final()
        await rec.close()
        assert count(ASR_DECODE) >= before[0] + 2 and count(ASR_QUEUE_WAIT) >= before[1] + 2
    finally:
        pool.close()
