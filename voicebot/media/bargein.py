"""Barge-in: when caller speech during a prompt stops it, and when it does not.

The controller works in two steps so a cough cannot cost the caller a prompt:

1. *Pause*: once `min_speech_ms` of loud voiced audio came in during an interruptible prompt, playback is
   paused at once (the caller hears the bot stop within a frame or two).
2. *Decide*: the pause becomes a real interruption (prompt cut, `BargeIn` reported) as soon as the ASR shows
   words that are not a backchannel, or the speech goes on for `confirm_speech_ms`. If the burst ends with
   no words, or the words are a backchannel («угу», «ага», «да-да», «так»), or nothing is decided within
   `max_pause_ms`, it was a false interruption and the prompt resumes where it stopped.

A partial transcript that is a backchannel before the pause suppresses the pause for the rest of that speech
segment. Prompts played with `interruptible=False` are never paused.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum

from voicebot.media.player import Player, PlayoutState
from voicebot.media.vad import VadFrame

log = logging.getLogger(__name__)

BACKCHANNELS = frozenset(
    {"угу", "ага", "да", "да-да", "да да", "так", "ну", "ммм", "мм", "хорошо", "понятно"}
)


def default_is_backchannel(text: str) -> bool:
    """A conservative built-in list; the dialogue layer can pass a smarter predicate."""
    words = " ".join(text.lower().replace("ё", "е").replace(",", " ").split())
    return words in BACKCHANNELS or (bool(words) and all(w in BACKCHANNELS for w in words.split()))


@dataclass(frozen=True)
class BargeInConfig:
    min_speech_ms: int = 300
    min_dbfs: float = -45.0  # quieter voiced frames (line noise, far-away talk) do not count
    confirm_speech_ms: int = 900  # this much speech interrupts even when the ASR shows no words yet
    max_pause_ms: int = 1500  # undecided for this long: resume
    resume_rewind_ms: int = 0


class Action(Enum):
    PAUSED = "paused"
    INTERRUPTED = "interrupted"
    RESUMED = "resumed"


class _State(Enum):
    IDLE = "idle"  # listening for a possible interruption
    PENDING = "pending"  # prompt paused, deciding
    SETTLED = "settled"  # this speech segment was judged; wait for it to end


class BargeInController:
    def __init__(
        self,
        player: Player,
        config: BargeInConfig | None = None,
        is_backchannel: Callable[[str], bool] | None = default_is_backchannel,
        frame_ms: int = 20,
    ) -> None:
        self.player = player
        self.config = config or BargeInConfig()
        self.is_backchannel = is_backchannel
        self.frame_ms = frame_ms
        self.interrupted_text: str | None = None
        self._state = _State.IDLE
        self._loud_ms = 0
        self._paused_ms = 0
        self._text = ""

    def on_frame(self, frame: VadFrame) -> Action | None:
        """Feed every analysis frame of caller audio (VAD output)."""
        if self._state is _State.PENDING:
            self._paused_ms += self.frame_ms
        if frame.ended:
            return self._segment_over()
        if not frame.speaking:
            return None
        if frame.started:
            # The VAD fires only after a few voiced frames; count those as well.
            self._loud_ms = frame.speech_ms if frame.dbfs >= self.config.min_dbfs else 0
        elif frame.voiced and frame.dbfs >= self.config.min_dbfs:
            self._loud_ms += self.frame_ms
        if self._state is _State.IDLE and self._loud_ms >= self.config.min_speech_ms and self._may_pause():
            self.player.pause()
            self._state = _State.PENDING
            self._paused_ms = 0
            log.debug("barge-in: prompt paused after %d ms of speech", self._loud_ms)
            return Action.PAUSED
        if self._state is _State.PENDING:
            if self._loud_ms >= self.config.confirm_speech_ms:
                return self._interrupt()
            if self._paused_ms >= self.config.max_pause_ms:
                return self._resume()
        return None

    def on_partial(self, text: str) -> Action | None:
        """Feed ASR partial (or final) text of the current segment."""
        self._text = text.strip()
        if not self._text:
            return None
        backchannel = self.is_backchannel is not None and self.is_backchannel(self._text)
        if self._state is _State.IDLE and backchannel:
            self._state = _State.SETTLED  # a backchannel: leave the prompt alone this time
        elif self._state is _State.PENDING:
            return self._resume() if backchannel else self._interrupt()
        return None

    def reset(self) -> None:
        """Forget the current segment (e.g. when a new prompt starts)."""
        self._state = _State.IDLE
        self._loud_ms = 0
        self._paused_ms = 0
        self._text = ""

    def _may_pause(self) -> bool:
        current = self.player.current
        return current is not None and current.interruptible and current.state is PlayoutState.PLAYING

    def _segment_over(self) -> Action | None:
        action = None
        if self._state is _State.PENDING:
            words = self._text and not (self.is_backchannel and self.is_backchannel(self._text))
            action = self._interrupt() if words else self._resume()
        self.reset()
        return action

    def _interrupt(self) -> Action:
        self.player.interrupt()
        self.interrupted_text = self._text or None
        self._state = _State.SETTLED
        log.debug("barge-in: prompt interrupted (%r)", self._text)
        return Action.INTERRUPTED

    def _resume(self) -> Action:
        self.player.resume(self.config.resume_rewind_ms)
        self._state = _State.SETTLED
        log.debug("barge-in: false interruption, prompt resumed")
        return Action.RESUMED
