"""`voicebot bench isolation` counts honestly: a call that got no audio, or lost it before hanging up,
is a call with a gap, and the bars are never "met" without frames measured for every call."""

from __future__ import annotations

from voicebot.bench.isolation import bars_met
from voicebot.bench.isolation_peer import PERIOD, LegLog, frame_stats


def _steady(start: float, seconds: float) -> LegLog:
    frames = int(seconds / PERIOD)
    return LegLog(connected=start, ended=start + seconds, arrivals=[start + i * PERIOD for i in range(frames)],
                  ended_by="us", last_voiced=start + 1.0)  # fmt: skip


def _result(logs: list[LegLog]) -> dict:
    return {
        "calls": len(logs),
        "calls_failed": sum(1 for log in logs if log.failed),
        "all": frame_stats(logs),
    }


def test_steady_audio_meets_the_bars():
    logs = [_steady(100.0, 10.0), _steady(100.5, 10.0)]
    stats = frame_stats(logs)
    assert stats["calls_with_gaps"] == 0 and stats["coverage"] >= 0.99 and stats["lateness_p99_ms"] == 0
    assert bars_met(_result(logs))


def test_a_call_without_audio_is_a_failed_call_with_a_gap():
    silent = LegLog(connected=100.0, ended=110.0, ended_by="us")
    logs = [_steady(100.0, 10.0), silent]
    assert frame_stats(logs)["calls_with_gaps"] == 1
    assert not bars_met(_result(logs))
    assert not bars_met(_result([silent]))  # no frames at all: never "met"


def test_audio_that_stops_before_the_hang_up_is_a_gap():
    stalled = _steady(100.0, 10.0)
    stalled.ended = 113.0  # three seconds of silence, then the caller hung up
    stats = frame_stats([stalled])
    assert stats["max_gap_ms"] >= 2900 and stats["calls_with_gaps"] == 1
    assert not bars_met(_result([stalled]))


def test_a_call_dropped_without_the_bot_hanging_up_fails():
    dropped = _steady(100.0, 5.0)
    dropped.ended_by = "closed"
    assert dropped.failed and not bars_met(_result([dropped, _steady(100.0, 10.0)]))


def test_missing_frames_show_in_the_coverage():
    thin = _steady(100.0, 10.0)
    thin.arrivals = thin.arrivals[::2][:-1] + [thin.arrivals[-1]]  # every other frame, paced at 40 ms
    stats = frame_stats([thin])
    assert stats["coverage"] < 0.6 and not bars_met(_result([thin]))


def test_frames_of_silence_alone_are_not_a_served_call():
    mute = _steady(100.0, 10.0)
    mute.last_voiced = 0.0  # paced frames, but the bot never said a word
    assert mute.failed and not bars_met(_result([mute, _steady(100.0, 10.0)]))
