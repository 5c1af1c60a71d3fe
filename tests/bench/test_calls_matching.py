"""`bench calls` counts an utterance as answered only by the reply made of it, within the window."""

from voicebot.bench.calls import count_utterances, match_replies


def call(uuid: str, *utterances: tuple) -> dict:
    return {"uuid": uuid, "utterances": [list(u) for u in utterances]}


def test_replies_are_matched_by_turn_not_by_the_next_sound():
    calls = [
        call("a", (10.0, 12.0, 12.5), (20.0, 22.0, 22.1)),
        call("b", (10.0, 12.0, 12.2), (30.0, 32.0, None), (40.0, None, None)),
    ]
    observed = {
        # the first utterance of a got its reply 0.9 s after the speech ended; the second made no turn
        # (the prompt heard at 22.1 s answered nothing).
        "a": [(9.8, 12.6, 12.9)],
        # b's first turn replied 4 s late: unanswered even though some audio came at 12.2 s.
        "b": [(9.7, 12.6, 16.0), (29.8, 32.6, 33.0)],
    }
    unanswered, latencies = match_replies(calls, observed)
    assert count_utterances(calls) == 4  # the one cut by the end of the run is not counted
    assert unanswered == 2
    assert [round(x) for x in latencies] == [900, 1000]


def test_without_the_servers_record_the_first_sound_is_taken():
    calls = [call("a", (10.0, 12.0, 12.5), (20.0, 22.0, 25.5))]
    unanswered, latencies = match_replies(calls, None)
    assert unanswered == 1 and [round(x) for x in latencies] == [500]
