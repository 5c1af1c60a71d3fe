"""Inline buttons for a bot turn: a closed question gets buttons, an open one gets none.

A button's payload is the text the resident would have typed, so a press and a typed answer go through
the same understanding and the same flow. Closed questions are those expecting yes/no, the menu of the
messenger, a choice among the resident's accounts, or a choice among offered slots.
"""

from __future__ import annotations

from datetime import date, time

from voicebot.dialogue.runtime import BotTurn, Dialogue
from voicebot.max.client import Button, Keyboard

MONTHS_GEN = ("января", "февраля", "марта", "апреля", "мая", "июня", "июля", "августа", "сентября",
              "октября", "ноября", "декабря")  # fmt: skip

MENUS: dict[tuple[str, str], tuple[tuple[str, str], ...]] = {
    ("messenger", "menu"): (
        ("Передать показания", "передать показания"),
        ("Оставить заявку", "оставить заявку"),
        ("Статус заявки", "статус заявки"),
        ("Записаться в офис", "хочу записаться на приём"),
        ("Часы работы и адрес", "часы работы офиса"),
        ("Телефон аварийной службы", "телефон аварийной службы"),
    ),
    ("office_appointment", "ask_existing"): (
        ("Перенести", "перенести запись"),
        ("Отменить запись", "отменить запись"),
        ("Оставить как есть", "оставить как есть"),
    ),
    ("office_appointment", "ask_remind"): (
        ("Да, приду", "да, приду"),
        ("Перенести", "перенести запись"),
        ("Отменить запись", "отменить запись"),
    ),
}

# Besides yes and no, the answers a closed question commonly has, when the step expects them.
EXTRA_ANSWERS: dict[str, tuple[str, str]] = {
    "reschedule": ("Перенести", "перенести на другой день"),
    "someone_else_home": ("Откроет другой человек", "откроет другой человек"),
    "already_paid": ("Уже оплатил(а)", "я уже оплатил"),
    "callback_later": ("Напишите позже", "позже"),
    "cancel_appointment": ("Отменить запись", "отменить запись"),
}


def keyboard_for(dialogue: Dialogue, turn: BotTurn) -> Keyboard:
    if turn.end or not turn.listen or turn.step is None:
        return []
    menu = MENUS.get((dialogue.flow.name, turn.step))
    if menu:
        return [[Button(label, payload)] for label, payload in menu]
    slots = dialogue.ctx.slots
    if turn.step == "choose_account" and slots.get("candidates"):
        return [[Button(a.address, a.number)] for a in slots["candidates"]]
    if turn.step in ("ask_slot", "day_full") and slots.get("offer"):
        return [[Button(_slot_label(o["day"], o["start"], o["end"]), _slot_words(o["day"], o["start"]))]
                for o in slots["offer"]]  # fmt: skip
    intents = set(turn.expect_intents)
    if {"affirm", "deny"} <= intents:
        row = [Button("Да", "да"), Button("Нет", "нет")]
        extra = [
            Button(label, words) for intent, (label, words) in EXTRA_ANSWERS.items() if intent in intents
        ]
        return [row, *([b] for b in extra)]
    return []


def _slot_label(day: date, start: time, end: time) -> str:
    return f"{day:%d.%m} {start:%H:%M}–{end:%H:%M}"


def _slot_words(day: date, start: time) -> str:
    return f"{day.day} {MONTHS_GEN[day.month - 1]} в {start:%H:%M}"
