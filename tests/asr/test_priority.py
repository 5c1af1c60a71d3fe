"""The decoding pool serves urgent work (a call finishing its utterance) before other calls' audio."""

from __future__ import annotations

import threading
import time

import pytest

from voicebot.asr.priority import PriorityExecutor


class Call:
    def __init__(self) -> None:
        self.urgent = False


def test_urgent_and_promoted_jobs_overtake_queued_audio():
    executor = PriorityExecutor(1)
    gate = threading.Event()
    order: list[str] = []
    blocker = executor.submit(gate.wait)  # occupies the only thread while the queue fills
    late_caller = Call()
    futures = [executor.submit(order.append, f"audio{i}") for i in range(3)]
    futures.append(executor.submit(order.append, "late-audio", owner=late_caller))
    futures.append(executor.submit(order.append, "final", urgent=True))
    late_caller.urgent = True  # its utterance ended after its audio was queued
    gate.set()
    for future in [blocker, *futures]:
        future.result(timeout=5)
    assert order == ["late-audio", "final", "audio0", "audio1", "audio2"]
    executor.shutdown()


def test_errors_reach_the_caller_and_shutdown_cancels_what_waits():
    executor = PriorityExecutor(1)
    with pytest.raises(ZeroDivisionError):
        executor.submit(lambda: 1 / 0).result(timeout=5)
    gate = threading.Event()
    running = executor.submit(gate.wait)
    deadline = time.monotonic() + 5
    while not running.running() and time.monotonic() < deadline:
        time.sleep(0.01)
    waiting = executor.submit(time.sleep, 0)
    executor.shutdown(cancel_futures=True)
    assert waiting.cancelled()
    gate.set()
    assert running.result(timeout=5) is True
    with pytest.raises(RuntimeError):
        executor.submit(time.sleep, 0)


def test_threads_run_in_parallel():
    executor = PriorityExecutor(2)
    barrier = threading.Barrier(2, timeout=5)
    futures = [executor.submit(barrier.wait) for _ in range(2)]  # deadlocks unless both run at once
    assert sorted(f.result(timeout=5) for f in futures) == [0, 1]
    executor.shutdown()


def test_background_work_waits_until_no_call_has_work_queued():
    executor = PriorityExecutor(1)
    gate = threading.Event()
    order: list[str] = []
    blocker = executor.submit(gate.wait)
    futures = [executor.submit(order.append, "warm", background=True)]
    futures += [executor.submit(order.append, f"audio{i}") for i in range(2)]
    futures.append(executor.submit(order.append, "final", urgent=True))
    gate.set()
    for future in [blocker, *futures]:
        future.result(timeout=5)
    assert order == ["final", "audio0", "audio1", "warm"]
    executor.shutdown()
