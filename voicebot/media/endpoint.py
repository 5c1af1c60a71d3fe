"""End-of-utterance detection on top of the VAD.

The VAD's own end (a few hundred ms of silence) is right for barge-in but too eager for turn-taking: people
pause inside a sentence, especially while reading digits off a meter. An utterance therefore ends only after
`trailing_silence_ms` without a voiced frame, or is cut at `max_utterance_ms` so a caller on a noisy line
(or one who never stops) still gets an answer.
"""

from __future__ import annotations

from enum import Enum

from voicebot.media.vad import VadFrame


class Endpoint(Enum):
    START = "start"
    END = "end"
    FORCED_END = "forced_end"


class EndpointDetector:
    def __init__(
        self, frame_ms: int = 20, trailing_silence_ms: int = 800, max_utterance_ms: int = 15000
    ) -> None:
        if trailing_silence_ms < frame_ms or max_utterance_ms < frame_ms:
            raise ValueError("endpoint limits must be at least one frame long")
        self.frame_ms = frame_ms
        self.trailing_silence_ms = trailing_silence_ms
        self.max_utterance_ms = max_utterance_ms
        self.in_utterance = False
        self.utterance_ms = 0
        self._silence_ms = 0

    def update(self, frame: VadFrame) -> Endpoint | None:
        if not self.in_utterance:
            # `speaking and voiced` also restarts right after a forced cut while the caller keeps talking.
            if frame.started or (frame.speaking and frame.voiced):
                self.in_utterance = True
                self.utterance_ms = frame.speech_ms or self.frame_ms
                self._silence_ms = 0
                return Endpoint.START
            return None
        self.utterance_ms += self.frame_ms
        self._silence_ms = 0 if frame.voiced else self._silence_ms + self.frame_ms
        if self._silence_ms >= self.trailing_silence_ms and not frame.speaking:
            self._stop()
            return Endpoint.END
        if self.utterance_ms >= self.max_utterance_ms:
            self._stop()
            return Endpoint.FORCED_END
        return None

    def reset(self) -> None:
        self._stop()

    def _stop(self) -> None:
        self.in_utterance = False
        self.utterance_ms = 0
        self._silence_ms = 0
