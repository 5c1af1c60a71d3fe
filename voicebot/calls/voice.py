"""One voice call: a call transport, its media session and a dialogue, turn after turn.

The bot speaks a turn (every utterance synthesised up front, played in order, each interruptible or not as
the flow says), then waits for the caller: an utterance the recogniser transcribed, keypad digits, silence
or the hang-up. Caller speech that ends while an interruptible prompt is still playing did not interrupt it
(the barge-in controller judged it a backchannel or noise) and is ignored; speech or keys during a
protected prompt are answered once the prompt is over. Speech that did cut a prompt but brought no words
(a long noise, a cough, speech the recogniser could not make out) gives the caller the cut part of the turn
again, from the start of the utterance it cut, instead of leaving them in silence.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from voicebot.calls.disk import may_record
from voicebot.calls.dtmf import DtmfCollector
from voicebot.calls.grammar import grammar_for
from voicebot.calls.overflow import OVERFLOW_OUTCOME, play_overflow_message, record_unserved
from voicebot.calls.registry import Direction
from voicebot.dialogue.context import CallerInput
from voicebot.dialogue.runtime import BotTurn, Dialogue
from voicebot.dialogue.sandbox import Sandbox
from voicebot.dialogue.session import open_dialogue
from voicebot.dialogue.store import DataUnavailable
from voicebot.logs import call_id_var, logged_failure
from voicebot.media.frames import BargeIn, Dtmf, Hangup, Silence, SpeechEnded
from voicebot.media.pipeline import MediaSession
from voicebot.media.player import Playout, PlayoutState
from voicebot.metrics import ADMISSION_REFUSALS

if TYPE_CHECKING:
    from voicebot.calls.engine import VoiceEngine
    from voicebot.media.interfaces import CallTransport

log = logging.getLogger(__name__)


@dataclass
class CallSpec:
    """What to run on a connected call."""

    scenario: str
    phone: str | None = None
    variables: dict[str, Any] = field(default_factory=dict)
    direction: Direction | None = None
    campaign_id: int | None = None
    contact_id: int | None = None
    call_id: uuid.UUID = field(default_factory=uuid.uuid4)
    channel: str = "voice"
    sandbox: Sandbox | None = None  # a test call (browser microphone): no rows, no recording
    outage: str | None = None  # an outage the caller hears first, with no dialogue slot (calls/outage.py)
    start_step: str | None = None  # where the dialogue starts, when not at the flow's start


@dataclass
class CallResult:
    call_id: uuid.UUID
    outcome: str | None
    transfer: str | None = None
    recording: tuple[Path, float] | None = None
    overflow: bool = False


Notify = Callable[[dict[str, Any]], Awaitable[None]]


async def _ignore(_event: dict[str, Any]) -> None:
    return None


def recording_path(root: Path, call_id: uuid.UUID, when: datetime | None = None) -> Path:
    """recordings/YYYY/MM/DD/<call id>.ogg: one folder per day keeps listings and retention cheap."""
    when = when or datetime.now(UTC)
    return root / f"{when:%Y}" / f"{when:%m}" / f"{when:%d}" / f"{call_id}.ogg"


class VoiceCall:
    def __init__(
        self,
        engine: VoiceEngine,
        transport: CallTransport,
        spec: CallSpec,
        notify: Notify | None = None,
        on_hangup: Callable[[], None] | None = None,
    ) -> None:
        self.engine = engine
        self.on_hangup = on_hangup  # the call is over for the caller (its slot may go to the next one)
        self.transport = transport
        self.spec = spec
        self.notify = notify or _ignore
        self.extra = {"call_id": str(spec.call_id)}
        self.recognizer: Any = None
        self.media: MediaSession | None = None
        self.dialogue: Dialogue | None = None
        self.playouts: list[Playout] = []
        self._turn_audio: list[tuple[Any, bool]] = []  # (audio, interruptible) per playout of the turn
        self._barged_in = False  # caller speech cut a prompt; its words are still to come
        self._speech_span: tuple[float, float] | None = None  # the caller speech the next turn answers
        self._marks: dict[str, float] = {}  # loop times of the turn's stages (engine.turn_timing)
        self._observed: set[asyncio.Task[None]] = set()
        self.dtmf = DtmfCollector(engine.dtmf_timeout)
        self.unavailable = False  # the dialogue's data could not be read: overflow message instead

    async def run(self) -> CallResult:
        token = call_id_var.set(str(self.spec.call_id))
        try:
            return await self._run()
        finally:
            call_id_var.reset(token)

    async def _run(self) -> CallResult:
        engine, spec = self.engine, self.spec
        self.recognizer = engine.new_recognizer(str(spec.call_id))
        root = engine.settings.recordings_path
        min_free = engine.settings.recordings_min_free_mb * 1_000_000
        record = engine.record and spec.sandbox is None and may_record(root, min_free)
        path = recording_path(root, spec.call_id) if record else None
        media = self.media = MediaSession(
            engine.wrap_transport(self.transport, self.recognizer),
            recognizer=engine.gate_recognizer(self.recognizer),
            config=engine.media_config,
            recording_path=path,
            log_extra=self.extra,
        )
        answered_at = datetime.now(UTC)
        await media.start()
        turn: BotTurn | None = None
        try:
            self.dialogue = await open_dialogue(
                db=engine.db,
                settings=engine.settings,
                nlu=engine.nlu,
                library=engine.library,
                scenario=spec.scenario,
                phone=spec.phone,
                variables=spec.variables,
                direction=spec.direction,
                channel=spec.channel,
                call_id=spec.call_id,
                campaign_id=spec.campaign_id,
                contact_id=spec.contact_id,
                sandbox=spec.sandbox,
                store=engine.records.store() if spec.sandbox is None else None,
            )
            self.dialogue.offset_clock = media.offset_ms
            turn = await self._converse()
        except DataUnavailable as exc:
            log.warning(
                "data the dialogue needs is unavailable; overflow message",
                extra={**self.extra, "error": str(exc)},
            )
            ADMISSION_REFUSALS.labels("database").inc()
            self.unavailable = True
            await self._apologise(answered_at)
        except Exception:
            log.exception("voice call failed", extra=self.extra)
            await self._close_dialogue()
        finally:
            recording = await self._shutdown()
        meta = {"transfer": turn.transfer} if turn is not None and turn.transfer else {}
        if self.unavailable:
            outcome: str | None = OVERFLOW_OUTCOME
        else:
            if self.dialogue is not None and spec.sandbox is None:
                await self._save_media(recording, answered_at, meta)
            outcome = self.dialogue.ctx.outcome if self.dialogue else None
        await self.notify({"type": "end", "outcome": outcome, "call_id": str(spec.call_id)})
        return CallResult(spec.call_id, outcome, turn.transfer if turn else None, recording)

    async def _save_media(
        self, recording: tuple[Path, float] | None, answered_at: datetime, meta: dict
    ) -> None:
        values: dict[str, Any] = {"answered_at": answered_at, "meta": meta or None}
        if recording is not None:
            values.update(recording_path=str(recording[0]), recording_duration=round(recording[1], 2))
        try:
            await self.engine.records.ledger.media(self.spec.call_id, **values)
        except Exception:  # the call is over either way; losing the path must not hide the dialogue's outcome
            log.exception("could not store the call's recording", extra=self.extra)

    async def _apologise(self, answered_at: datetime) -> None:
        """The caller's data cannot be read now: the overflow message, and the call row and the promised
        callback written (journalled) while it plays."""
        assert self.media is not None
        message = asyncio.ensure_future(
            play_overflow_message(self.engine, self.media, self.spec, self.notify)
        )
        if self.spec.sandbox is None:
            await record_unserved(self.engine, self.spec, answered_at, "database")
        try:
            await message
        except Exception:
            log.exception("overflow message failed", extra=self.extra)
        await self.engine.leave(self.spec.call_id, "hangup")  # said in full: not a crash for the dialplan

    # --- the conversation -----------------------------------------------------------------------------

    async def _converse(self) -> BotTurn:
        assert self.dialogue is not None
        turn = await self.dialogue.start(self.spec.start_step)
        while True:
            await self._speak(turn)
            self._observe_reply()
            if turn.end:
                await self._end(turn)
                return turn
            self._speech_span = None
            caller = await self._listen()
            turn = await self.dialogue.respond(caller)
            self._mark("responded")
            log.debug(
                "dialogue turn",
                extra={**self.extra, "caller": caller.kind, "text": caller.text, "step": turn.step},
            )
            if caller.kind == "hangup":
                return turn

    async def _speak(self, turn: BotTurn) -> None:
        assert self.media is not None
        if turn.utterances:
            await self.notify({"type": "bot", "text": turn.display, "step": turn.step})
        # All syntheses start at once; each utterance plays as soon as it and those before it are ready.
        jobs = [asyncio.ensure_future(self.engine.voice.audio(u)) for u in turn.utterances]
        self.playouts, self._turn_audio, self._barged_in = [], [], False
        try:
            for utterance, job in zip(turn.utterances, jobs, strict=True):
                audio = await job
                if not self.playouts:
                    self._mark("audio")
                if self.transport.closed:
                    break
                self.playouts.append(self.media.play(audio.pcm, audio.sample_rate, utterance.barge_in))
                self._turn_audio.append((audio, utterance.barge_in))
        finally:
            for job in jobs:
                job.cancel()
        if turn.listen and self.engine.use_grammar and hasattr(self.recognizer, "set_grammar"):
            self.recognizer.set_grammar(grammar_for(turn.asr_hints))

    async def _end(self, turn: BotTurn) -> None:
        """Let the last words play out, then leave the call (to the dialplan, for a transfer)."""
        assert self.media is not None
        await self._wait_playback()
        if turn.transfer:
            log.info("handing the call over", extra={**self.extra, "transfer": turn.transfer})
            await self.engine.leave(self.spec.call_id, "transfer", turn.transfer)
        else:
            await self.engine.leave(self.spec.call_id, "hangup")
        await self.media.hangup()

    async def _listen(self) -> CallerInput:
        assert self.media is not None
        loop = asyncio.get_running_loop()
        while True:
            deadline = self.dtmf.deadline
            wait = None if deadline is None else max(0.0, deadline - loop.time())
            event = await self.media.next_event(wait)
            if event is None:
                digits = self.dtmf.expired(loop.time())
                if digits:
                    return await self._answer(CallerInput("dtmf", digits))
                continue
            if isinstance(event, Hangup):
                return CallerInput("hangup")
            if isinstance(event, BargeIn):
                self._barged_in = True
            elif isinstance(event, Dtmf):
                self._interrupt()
                digits = self.dtmf.press(event.digit, loop.time())
                if digits:
                    return await self._answer(CallerInput("dtmf", digits))
            elif isinstance(event, SpeechEnded):
                caller = self._speech_input(event)
                if caller is not None:
                    return await self._answer(caller)
            elif isinstance(event, Silence) and not self.dtmf.pending:
                return CallerInput("silence")

    def _speech_input(self, event: SpeechEnded) -> CallerInput | None:
        text = (event.text or "").strip()
        barged_in, self._barged_in = self._barged_in, False
        if not text:
            log.debug("utterance without words", extra=self.extra)
            if barged_in:
                self._replay_cut_prompt()
            return None  # noise, or nothing the recogniser could make out
        if self._playing_interruptible():
            log.debug("speech did not interrupt the prompt; ignored", extra={**self.extra, "text": text})
            return None
        end_ms = None if event.offset_ms is None else event.offset_ms + round(event.duration * 1000)
        self._speech_span = (event.timestamp - event.duration, event.timestamp)
        self._marks = {"endpoint": event.timestamp}
        self._mark("transcribed")
        return CallerInput("text", text, start_ms=event.offset_ms, end_ms=end_ms)

    async def _answer(self, caller: CallerInput) -> CallerInput:
        """Hold an answer given over a protected prompt until the prompt is over."""
        await self._wait_playback()
        await self.notify({"type": "caller", "text": caller.text, "kind": caller.kind})
        return caller

    # --- playback helpers -------------------------------------------------------------------------------

    def _playing_interruptible(self) -> bool:
        player = self.media.player if self.media else None
        current = player.current if player else None
        return current is not None and current.interruptible and player.busy

    def _observe_reply(self) -> None:
        """Tell the engine's observer when the reply to the caller's last utterance started playing."""
        observer, span = self.engine.reply_observer, self._speech_span
        if observer is None or span is None:
            return
        first = self.playouts[0] if self.playouts else None
        timing, marks = self.engine.turn_timing, self._marks

        async def report() -> None:
            if first is not None:
                with logged_failure(log, "waiting for the reply's playout"):
                    await first
            observer(self.spec.call_id, span[0], span[1], first.started_at if first else None)
            if timing is not None and first is not None and first.started_at is not None:
                timing(self.spec.call_id, {**marks, "first_frame": first.started_at})

        task = asyncio.ensure_future(report())
        self._observed.add(task)
        task.add_done_callback(self._observed.discard)

    def _mark(self, stage: str) -> None:
        if self.engine.turn_timing is not None:
            self._marks[stage] = asyncio.get_running_loop().time()

    def _replay_cut_prompt(self) -> None:
        """Queue again the turn's utterances that a wordless barge-in cut, the first one from its start."""
        assert self.media is not None
        cut = [i for i, p in enumerate(self.playouts) if p.state is PlayoutState.INTERRUPTED]
        if not cut or self.transport.closed:
            return
        log.info("a prompt was cut by speech without words; replaying it", extra=self.extra)
        first = cut[0]
        replayed = [
            self.media.play(a.pcm, a.sample_rate, barge_in) for a, barge_in in self._turn_audio[first:]
        ]
        self.playouts[first:] = replayed

    def _interrupt(self) -> None:
        """A key press stops an interruptible prompt, as speech would."""
        if self.media is not None and self.media.player is not None:
            self.media.player.interrupt()

    async def _wait_playback(self) -> None:
        pending = [p for p in self.playouts if not p.done]
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)

    # --- teardown ---------------------------------------------------------------------------------------

    async def _close_dialogue(self) -> None:
        """After a failure: end the dialogue so the call row is closed, as if the caller hung up."""
        if self.dialogue is not None and not self.dialogue.finished:
            with logged_failure(
                log, "closing the dialogue after a failure", level=logging.WARNING, **self.extra
            ):
                await self.dialogue.respond(CallerInput("hangup"))

    async def _shutdown(self) -> tuple[Path, float] | None:
        """Hang up, hand the recogniser back and free the dialogue slot, then finish the recording: its
        encoding (one at a time, low priority) can take a while when many calls end together, and must
        hold neither the pool's warm recogniser nor a slot meanwhile."""
        assert self.media is not None
        if not self.transport.closed:
            with logged_failure(log, "hanging up the media session", **self.extra):
                await self.media.hangup()
        with logged_failure(log, "stopping the media session", **self.extra):
            await self.media.stop()
        close = getattr(self.recognizer, "close", None)
        if close is not None:
            with logged_failure(log, "closing the recogniser", **self.extra):
                await close()
        if self.on_hangup is not None:
            self.on_hangup()
        recording = None
        try:
            recording = await self.media.close()
        except Exception:
            log.exception("closing the media session failed", extra=self.extra)
        return recording
