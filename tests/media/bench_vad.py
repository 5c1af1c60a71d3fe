"""Compare per-frame VAD classifiers on espeak-ng speech with added noise (not a test; run by hand).

.venv/bin/python -m tests.media.bench_vad
"""

from __future__ import annotations

import time

import numpy as np

from tests.media.speech import mix, noise, speech, tone
from voicebot.media.vad import EnergyClassifier, WebRtcClassifier, frame_dbfs

PHRASES = [
    "Здравствуйте, я хочу передать показания счётчика горячей воды",
    "У меня течёт кран на кухне, пришлите сантехника",
    "Сто двадцать три кубометра",
]


def corpus(rate: int) -> tuple[bytes, list[bool]]:
    pause = bytes(int(0.8 * rate) * 2)
    clean = b"".join(pause + speech(p, rate) for p in PHRASES) + pause
    size = rate // 50 * 2
    truth = [frame_dbfs(clean[i : i + size]) > -45 for i in range(0, len(clean) - size + 1, size)]
    return clean, truth


def score(classifier, pcm: bytes, truth: list[bool], rate: int) -> tuple[float, float, float]:
    size = rate // 50 * 2
    frames = [pcm[i : i + size] for i in range(0, len(pcm) - size + 1, size)]
    start = time.perf_counter()
    guess = [classifier.is_speech(f) for f in frames]
    per_frame_us = (time.perf_counter() - start) / len(frames) * 1e6
    t, g = np.array(truth), np.array(guess)
    # False alarms are counted only in pauses well away from speech (word gaps and tails are ambiguous).
    near = np.convolve(t.astype(int), np.ones(21, int), mode="same") > 0
    miss = float(np.mean(~g[t])) if t.any() else 0.0
    false_alarm = float(np.mean(g[~near])) if (~near).any() else 0.0
    return miss, false_alarm, per_frame_us


def main() -> None:
    for rate in (8000, 16000):
        clean, truth = corpus(rate)
        seconds = len(clean) / 2 / rate
        conditions = {
            "clean": clean,
            "white -45dBFS": mix(clean, noise(seconds, rate, -45)),
            "white -35dBFS": mix(clean, noise(seconds, rate, -35)),
            "hum 50Hz -45dBFS": mix(clean, tone(50, seconds, rate, 32768 * 10 ** (-45 / 20) * 1.414)),
        }
        classifiers = {f"webrtc{m}": WebRtcClassifier(rate, m) for m in range(4)}
        classifiers["energy-40"] = EnergyClassifier(-40)
        print(f"--- {rate} Hz, {seconds:.1f} s; miss / false alarm / us per frame")
        for cond, pcm in conditions.items():
            row = [
                f"{name} {m:.2f}/{fa:.2f}/{us:.0f}"
                for name, (m, fa, us) in ((n, score(c, pcm, truth, rate)) for n, c in classifiers.items())
            ]
            print(f"{cond:18} " + "  ".join(row))


if __name__ == "__main__":
    main()
