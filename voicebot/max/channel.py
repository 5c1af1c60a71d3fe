"""The MAX conversation channel: MAX updates in, the dialogue runtime in the middle, messages out.

Each resident talks in a dialog with the bot. Before anything else the bot asks for the phone with a
contact-request button; only a contact card that is the sender's own identifies them (152-ФЗ: no account
data before that, and never from typed text). Then every conversation is one dialogue of the same
runtime as the phone — a `calls` row with channel `max`, its turns, outcome and records.

Between messages a conversation lives in PostgreSQL (max/conversations.py): after every update the open
dialogue is kept there, and a process that does not hold it in memory (it restarted) continues it from
there at the same step.
"""

from __future__ import annotations

import asyncio
import logging
import re
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from voicebot import rules
from voicebot.clock import Clock, utc_now
from voicebot.db.session import Database
from voicebot.dialogue.actions.common import debt_contact_allowed
from voicebot.dialogue.actions.company import topic_of
from voicebot.dialogue.context import CallerInput
from voicebot.dialogue.library import FlowLibrary
from voicebot.dialogue.runtime import BotTurn, Dialogue
from voicebot.dialogue.session import open_dialogue
from voicebot.dialogue.snapshot import SnapshotError, restore, snapshot
from voicebot.dialogue.store import DialogueStore
from voicebot.logs import call_id_var
from voicebot.max.choices import keyboard_for
from voicebot.max.client import Button, Keyboard, MaxClient
from voicebot.max.conversations import RECENT, Conversations
from voicebot.max.updates import MaxEvent, parse_update, update_key
from voicebot.max.users import MaxUsers, masked
from voicebot.nlu import NLU
from voicebot.settings import Settings

log = logging.getLogger(__name__)

CHANNEL = "max"
ENTRY_SCENARIO = "messenger"
CARD_SCENARIO = "company_card"
DEBT_SCENARIOS = frozenset({"debt_reminder"})
CONTACT_BUTTON = [[Button("📱 Поделиться номером", contact=True)]]

TEXTS = {
    "ask_contact": (
        "Здравствуйте! Это чат-бот управляющей компании «{company}». Я принимаю показания счётчиков и заявки "
        "и сообщаю их статус. Чтобы найти ваш лицевой счёт, мне нужен ваш номер телефона: нажмите кнопку "
        "«Поделиться номером» ниже — MAX передаст его только с вашего согласия."
    ),
    "own_contact": "Чтобы найти ваш счёт, поделитесь, пожалуйста, своим номером — кнопкой ниже.",
    "phone_saved": "Спасибо! Номер {phone} сохранён.",
    "transferred": "Я передала ваш вопрос специалисту: он свяжется с вами по этому номеру.",
    "closed_idle": "Прошлый разговор закрыт, потому что долго не было ответа.",
    "opted_out": (
        "Хорошо, больше не буду писать вам первой — ни рассылок, ни напоминаний. Когда понадобится, просто "
        "напишите сюда: показания, заявки и их статус я принимаю как прежде. Чтобы снова получать "
        "сообщения, напишите «подписаться»."
    ),
    "opted_in": "Хорошо, снова буду присылать вам сообщения: напоминания о приёме, визитах мастера и другие.",
}
# A whole message that asks the bot to stop writing first, or to start again (fillers and «пожалуйста» aside).
_OPT_OUT = re.compile(
    r"^(стоп|stop|отписаться|отпишите( меня)?|отписка|хватит( мне)? писать|"
    r"(больше )?не (пишите|присылайте|отправляйте)( мне)?( больше)?( сюда)?"
    r"( ничего| сообщения| сообщений| уведомления| уведомлений| рассылку| рассылки)?|"
    r"отказываюсь от (рассылки|сообщений|уведомлений))$"
)
_OPT_IN = re.compile(r"^(подписаться|подпишите( меня)?|пишите снова|снова пишите|можно (снова )?писать)$")
_FILLERS = re.compile(r"\b(пожалуйста|плиз|уже|всё|все|ну|вообще)\b")


@dataclass
class _Session:
    user_id: int
    name: str = ""
    phone: str | None = None
    dialogue: Dialogue | None = None
    last_message: tuple[str, str] | None = None  # (mid, text) of the bot's last message with buttons
    seen: datetime = field(default_factory=lambda: datetime.now(UTC))
    recent: list[str] = field(default_factory=list)  # keys of the updates handled lately
    kept_at: datetime | None = None  # when this process last stored (or loaded) the conversation


class MaxUnavailable(Exception):
    """An outbound conversation cannot start: `reason` is `no_user` (nobody shared that phone), `busy`
    (the resident is in another conversation) or `limit` (230-ФЗ quiet hours or message limits)."""

    def __init__(self, message: str, reason: str = "no_user") -> None:
        super().__init__(message)
        self.reason = reason


class MaxChannel:
    def __init__(
        self,
        *,
        client: MaxClient,
        db: Database,
        settings: Settings,
        nlu: NLU,
        library: FlowLibrary,
        clock: Clock = utc_now,
    ) -> None:
        self.client = client
        self.clock = clock  # legal checks of outbound messages (230-ФЗ hours and counters)
        self.db = db
        self.settings = settings
        self.nlu = nlu
        self.library = library
        self.users = MaxUsers(db)
        self.conversations = Conversations(db)
        self._sessions: dict[int, _Session] = {}
        self._locks: dict[int, asyncio.Lock] = {}

    # --- updates in ---------------------------------------------------------------------------------------

    async def handle_update(self, update: dict[str, Any]) -> None:
        event = parse_update(update)
        if event.kind == "ignored" or event.user_id is None:
            return
        lock = self._locks.setdefault(event.user_id, asyncio.Lock())
        async with lock:
            session = await self._session(event.user_id, event.name)
            if session.kept_at != await self.conversations.written_at(event.user_id):
                # another process (or a restart in between) answered this resident since: its state wins
                self._sessions.pop(event.user_id, None)
                session = await self._session(event.user_id, event.name)
            key = update_key(update)
            if key in session.recent:
                log.info("max update delivered again; skipped", extra={"update_type": event.update_type})
                return
            session.recent = [*session.recent[-RECENT + 1 :], key]
            session.seen = datetime.now(UTC)
            try:
                await self._handle(session, event)
            finally:
                await self._keep(session)

    async def _handle(self, session: _Session, event: MaxEvent) -> None:
        if event.kind == "button":
            await self._acknowledge(session, event)
        if event.kind == "contact":
            await self._on_contact(session, event)
            return
        said = event.payload if event.kind == "button" else event.text
        if event.kind == "text" and await self._opt_command(session, event.text):
            return
        if session.phone is None:
            # Before identity only public answers (the company card); anything else needs the shared phone.
            if session.dialogue is not None:
                await self._reply(session, said)
                return
            if said and await self._asks_card(said):
                await self._open(session, CARD_SCENARIO, "inbound", {"question": said})
                return
            await self._send(session, TEXTS["ask_contact"].format(company=self.settings.company_name),
                             CONTACT_BUTTON)  # fmt: skip
            return
        if session.dialogue is None:
            await self._open(session, ENTRY_SCENARIO, "inbound")
            if event.kind == "start" or not said:
                return
        if said:
            await self._reply(session, said)

    async def _on_contact(self, session: _Session, event: MaxEvent) -> None:
        if event.foreign_contact or event.phone is None:
            log.info(
                "max contact refused", extra={"reason": "foreign" if event.foreign_contact else "no phone"}
            )
            await self._send(session, TEXTS["own_contact"], CONTACT_BUTTON)
            return
        await self.users.remember_phone(session.user_id, event.name, event.phone)
        session.phone = event.phone
        log.info("max phone shared", extra={"phone": masked(event.phone)})
        await self._send(session, TEXTS["phone_saved"].format(phone=masked(event.phone)))
        dialogue = session.dialogue
        if dialogue is not None and dialogue.ctx.call.phone is None:  # a card question asked before identity
            await dialogue.respond(CallerInput("hangup"))
            session.dialogue = None
        if session.dialogue is None:
            await self._open(session, ENTRY_SCENARIO, "inbound")

    async def _opt_command(self, session: _Session, text: str) -> bool:
        """«Не пишите мне» / «подписаться»: whether the bot may write first. An open conversation ends
        (as a hang-up: what was already given is kept). True when the message was such a command."""
        words = re.sub(r"[^\w\s/]", " ", text.lower().replace("ё", "е"))
        words = " ".join(_FILLERS.sub(" ", words).split())
        out = bool(_OPT_OUT.match(words))
        if not out and not _OPT_IN.match(words):
            return False
        if out and session.dialogue is not None:
            await session.dialogue.respond(CallerInput("hangup"))
            session.dialogue = None
        await self.users.opt_out(session.user_id, session.name, out)
        log.info("max opt-out" if out else "max opt-in")
        await self._send(session, TEXTS["opted_out" if out else "opted_in"])
        return True

    async def _acknowledge(self, session: _Session, event: MaxEvent) -> None:
        """Answer the press; the pressed message keeps its text and loses its buttons (no double press)."""
        if not event.callback_id:
            return
        shown = None
        if session.last_message and session.last_message[0] == event.message_id:
            shown = session.last_message[1]
            session.last_message = None
        try:
            await self.client.answer_button(event.callback_id, shown_text=shown)
        except Exception as exc:  # an unanswered press only leaves a spinner; the answer still counts
            log.warning("max callback answer failed", extra={"error": repr(exc)})

    async def _asks_card(self, text: str) -> bool:
        parse = await self.nlu.parse(text, now=datetime.now(UTC))
        return topic_of(text, parse.intent) is not None

    # --- conversations ------------------------------------------------------------------------------------

    async def _open(
        self,
        session: _Session,
        scenario: str,
        direction: Literal["inbound", "outbound"],
        variables: dict[str, Any] | None = None,
        **call: Any,
    ) -> Dialogue:
        """`call`: the identity a placed call already has (call_id, campaign_id, contact_id)."""
        dialogue = await open_dialogue(
            db=self.db,
            settings=self.settings,
            nlu=self.nlu,
            library=self.library,
            scenario=scenario,
            phone=session.phone,
            variables=variables,
            direction=direction,
            channel=CHANNEL,
            **call,
        )
        session.dialogue = dialogue
        await self._send_turn(session, dialogue, await dialogue.start())
        return dialogue

    async def _reply(self, session: _Session, text: str) -> None:
        dialogue = session.dialogue
        assert dialogue is not None
        turn = await dialogue.respond(CallerInput("text", text))
        await self._send_turn(session, dialogue, turn)

    async def _send_turn(self, session: _Session, dialogue: Dialogue, turn: BotTurn) -> None:
        token = call_id_var.set(str(dialogue.ctx.call.call_id))
        try:
            text = turn.display.strip()
            if turn.end:
                session.dialogue = None
                if turn.transfer:
                    await self._hand_to_human(dialogue)
                    text = f"{text}\n\n{TEXTS['transferred']}".strip()
            if text:
                await self._send(session, text, keyboard_for(dialogue, turn))
        finally:
            call_id_var.reset(token)

    async def _hand_to_human(self, dialogue: Dialogue) -> None:
        ctx = dialogue.ctx
        await ctx.store.create_task(
            ctx, "max_reply", {"phone": ctx.call.phone, "channel": CHANNEL, "scenario": ctx.flow.name}
        )

    async def close_idle(self, idle_seconds: float) -> int:
        """End conversations nobody answered for `idle_seconds` (as a hang-up), whichever process last
        held them (they are found in the database); returns how many."""
        idle = timedelta(seconds=idle_seconds)
        closed = 0
        for user_id in await self.conversations.idle(idle):
            async with self._locks.setdefault(user_id, asyncio.Lock()):
                session = await self._session(user_id, "")
                kept = await self.conversations.load(user_id)  # the last keep wrote when it was last seen
                dialogue = session.dialogue
                if dialogue is None or kept is None or datetime.now(UTC) - kept.seen_at < idle:
                    continue
                await dialogue.respond(CallerInput("hangup"))
                session.dialogue = None
                session.last_message = None
                await self._keep(session)
                closed += 1
        return closed

    # --- outbound -----------------------------------------------------------------------------------------

    async def start_outbound(
        self,
        phone: str,
        scenario: str,
        variables: dict[str, Any],
        *,
        call_id: uuid.UUID | None = None,
        campaign_id: int | None = None,
        contact_id: int | None = None,
    ) -> str:
        """Start an outbound conversation (visit warning, debt reminder…) with the MAX user of `phone`.

        The dialer passes the identity of the call it placed (a campaign contact's attempt), so the
        conversation's `calls` row is that attempt and its outcome settles the contact."""
        users = await self.users.users_with_phone(phone)
        if not users:
            raise MaxUnavailable("no MAX user shared this phone (or they asked the bot not to write first)")
        if scenario in DEBT_SCENARIOS:
            await self._check_debt_limits(phone, variables)
        call = {"call_id": call_id, "campaign_id": campaign_id, "contact_id": contact_id}
        session = await self._session(users[0], "")
        async with self._locks.setdefault(session.user_id, asyncio.Lock()):
            idle_menu = session.dialogue is not None and session.dialogue.flow.name == ENTRY_SCENARIO
            if (
                idle_menu
                and session.dialogue.awaiting is not None
                and session.dialogue.awaiting.name == "menu"
            ):
                await session.dialogue.respond(CallerInput("hangup"))  # only the menu was open: nothing lost
                session.dialogue = None
            if session.dialogue is not None:
                raise MaxUnavailable("the resident is in another conversation with the bot", "busy")
            try:
                dialogue = await self._open(session, scenario, "outbound", variables, **call)
            finally:
                await self._keep(session)
            return str(dialogue.ctx.call.call_id)

    async def remind(self, appointment: Any) -> bool:
        """The day-before reminder of an office appointment as a conversation; False: not a MAX user."""
        try:
            await self.start_outbound(
                appointment.phone, "office_appointment", {"appointment_id": str(appointment.id)}
            )
        except MaxUnavailable:
            return False
        return True

    async def _check_debt_limits(self, phone: str, variables: dict[str, Any]) -> None:
        """230-ФЗ: no debt message at night (the debtor's 22:00–8:00 on working days, 20:00–9:00 on days
        off), and at most 2 a day, 4 a week, 16 a month per debtor, counted apart from calls."""
        store = DialogueStore(self.db)
        account = str(variables.get("account") or "") or None
        accounts = await store.accounts_by_phone(phone)
        zone = next((a.timezone for a in accounts if a.number == account), self.settings.default_timezone)
        now = self.clock().astimezone(ZoneInfo(str(variables.get("timezone") or zone)))
        if not rules.within_calling_hours(now):
            raise MaxUnavailable(
                "230-ФЗ quiet hours: no debt messages at night in the debtor's time", "limit"
            )
        if not await debt_contact_allowed(store, account, phone, now, channel=CHANNEL):
            raise MaxUnavailable(
                "230-ФЗ message limit for this debtor is reached (2 a day, 4 a week, 16 a month)", "limit"
            )

    # --- plumbing -----------------------------------------------------------------------------------------

    async def _session(self, user_id: int, name: str) -> _Session:
        session = self._sessions.get(user_id)
        if session is None:
            session = _Session(user_id, name, await self.users.phone(user_id))
            await self._resume(session)
            self._sessions[user_id] = session
        return session

    async def _resume(self, session: _Session) -> None:
        """What this resident had open before the process (re)started: the dialogue at its step and the
        message whose buttons are still live."""
        kept = await self.conversations.load(session.user_id)
        if kept is None:
            return
        session.last_message = kept.last_message
        session.recent = kept.recent
        session.kept_at = kept.seen_at
        if kept.state is None:
            return
        session.seen = kept.seen_at
        store = DialogueStore(self.db)
        try:
            session.dialogue = restore(
                kept.state, library=self.library, store=store, nlu=self.nlu, settings=self.settings
            )
        except SnapshotError as exc:  # the flow changed under it: close the call, start afresh
            log.warning("max conversation cannot continue", extra={"error": str(exc)})
            session.last_message = None
            if kept.call_id is not None:
                await store.ledger.ended(kept.call_id, outcome="interrupted")
            return
        log.info("max conversation resumed", extra={"call_id": str(kept.call_id)})

    async def _keep(self, session: _Session) -> None:
        """Store the resident's open dialogue (state None once it ended) — a restart continues it."""
        dialogue = session.dialogue
        state = None
        if dialogue is not None and not dialogue.finished:
            try:
                state = snapshot(dialogue)
            except TypeError as exc:  # a value no snapshot can hold: the conversation lives in memory only
                log.error("max conversation cannot be kept", extra={"error": str(exc)})
        try:
            session.kept_at = await self.conversations.keep(
                session.user_id,
                call_id=dialogue.ctx.call.call_id if dialogue is not None else None,
                state=state,
                last_message=session.last_message,
                recent=session.recent,
            )
        except Exception:  # the answer was sent; only a restart before the next message would lose it
            log.exception("max conversation not stored")

    async def _send(self, session: _Session, text: str, keyboard: Keyboard = ()) -> None:
        mid = await self.client.send(text, user_id=session.user_id, keyboard=keyboard)
        has_callbacks = any(not b.contact for row in keyboard for b in row)
        session.last_message = (mid, text) if has_callbacks else None
