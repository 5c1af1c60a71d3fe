"""VAD smoothing and end-of-utterance detection on espeak-ng Russian speech."""

import pytest

from tests.media.speech import mix, noise, speech
from voicebot.media.endpoint import Endpoint, EndpointDetector
from voicebot.media.vad import EnergyClassifier, VoiceActivityDetector, WebRtcClassifier

RATE = 16000


def silence(seconds: float, rate: int = RATE) -> bytes:
    return bytes(int(seconds * rate) * 2)


def run_vad(pcm: bytes, **kwargs):
    vad = VoiceActivityDetector(RATE, **kwargs)
    frames = []
    for i in range(0, len(pcm), 640):  # feed 20 ms at a time, like a call
        frames += vad.process(pcm[i : i + 640])
    return frames


def test_speech_start_and_end_are_found_near_the_real_edges():
    phrase = speech("Здравствуйте, я хочу передать показания", RATE)
    frames = run_vad(silence(1) + phrase + silence(1))
    starts = [i * 20 for i, f in enumerate(frames) if f.started]
    ends = [i * 20 for i, f in enumerate(frames) if f.ended]
    assert len(starts) == 1 and len(ends) == 1
    assert 1000 <= starts[0] <= 1300  # espeak pads ~50 ms; smoothing adds ~100 ms
    speech_end_ms = 1000 + len(phrase) / 32
    assert speech_end_ms - 300 <= ends[0] <= speech_end_ms + 400


def test_silence_and_line_noise_are_not_speech():
    frames = run_vad(silence(2) + noise(3, RATE, dbfs=-50) + noise(2, RATE, dbfs=-65))
    assert not any(f.started for f in frames)


def test_energy_classifier_is_pluggable():
    phrase = speech("Сто двадцать три", RATE)
    frames = run_vad(silence(0.5) + phrase + silence(1), classifier=EnergyClassifier(-40))
    assert sum(f.started for f in frames) >= 1


def test_classifier_refuses_unsupported_settings():
    with pytest.raises(ValueError):
        WebRtcClassifier(22050)
    with pytest.raises(ValueError):
        WebRtcClassifier(16000, frame_ms=25)
    with pytest.raises(ValueError):
        WebRtcClassifier(16000, aggressiveness=4)


def utterances(pcm: bytes, detector: EndpointDetector) -> list[tuple[Endpoint, int]]:
    out = []
    for i, frame in enumerate(run_vad(pcm)):
        edge = detector.update(frame)
        if edge is not None:
            out.append((edge, i * 20))
    return out


def test_short_pause_stays_inside_one_utterance_long_pause_splits():
    a = speech("Сто двадцать три", RATE)
    b = speech("и ещё сорок", RATE)
    joined = utterances(silence(0.5) + a + silence(0.3) + b + silence(1.5), EndpointDetector(20, 800))
    assert [e for e, _ in joined] == [Endpoint.START, Endpoint.END]
    split = utterances(silence(0.5) + a + silence(1.5) + b + silence(1.5), EndpointDetector(20, 800))
    assert [e for e, _ in split] == [Endpoint.START, Endpoint.END] * 2


def test_end_comes_after_the_configured_trailing_silence():
    a = speech("Сто двадцать три", RATE)
    detector = EndpointDetector(20, trailing_silence_ms=1000)
    last_voiced = end = None
    for i, frame in enumerate(run_vad(silence(0.5) + a + silence(2))):
        if detector.update(frame) is Endpoint.END:
            end = i * 20
            break
        if frame.voiced:
            last_voiced = i * 20
    assert end is not None and last_voiced is not None
    assert end - last_voiced == 1000


def test_endless_talk_is_cut_at_the_maximum_length():
    phrase = speech("Здравствуйте, я хочу передать показания счётчика горячей воды", RATE)
    noisy_talk = mix(phrase * 3, noise(len(phrase) * 3 / 32000, RATE, dbfs=-30))
    edges = utterances(noisy_talk, EndpointDetector(20, 800, max_utterance_ms=2000))
    assert (Endpoint.FORCED_END, edges[1][1]) == edges[1]
    assert 1800 <= edges[1][1] - edges[0][1] <= 2200
