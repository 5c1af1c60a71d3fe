"""The company card in a conversation: office hours, address and contacts, dispatcher and emergency numbers."""

from __future__ import annotations

from voicebot.dialogue.actions.registry import action
from voicebot.dialogue.context import DialogueContext

CARD_INTENTS = ("ask_office_hours", "ask_contacts", "ask_emergency_phone")

_BY_INTENT = {"ask_office_hours": "hours", "ask_contacts": "contacts", "ask_emergency_phone": "emergency"}
_CUES = (
    ("emergency", ("аварий", "аварийк", "диспетчер")),
    ("hours", ("часы работы", "часы приема", "режим работы", "до скольки", "во сколько открыва")),
    ("contacts", ("адрес офиса", "где офис", "где находит", "телефон офиса", "почт", "контакт")),
)


def card_topic(ctx: DialogueContext) -> str | None:
    return topic_of(ctx.text, ctx.intent)


def topic_of(text: str, intent: str | None) -> str | None:
    """Which part of the card the resident asks about, by plain words or by intent."""
    lowered = text.lower().replace("ё", "е")
    for topic, cues in _CUES:
        if any(cue in lowered for cue in cues):
            return topic
    return _BY_INTENT.get(intent or "")


@action("company_card_answer", results=("hours", "contacts", "emergency", "unknown"), provides=("card",))
async def company_card_answer(ctx: DialogueContext) -> str | None:
    ctx.slots["card"] = await ctx.store.company_card()
    # Opened for a question already asked (a messenger before identity): the question is a call variable.
    question = str(ctx.call.variables.get("question") or "")
    return card_topic(ctx) or topic_of(question, None) or "unknown"


@action("company_card_more", results=("hours", "contacts", "emergency", "done", "ask"))
async def company_card_more(ctx: DialogueContext) -> str | None:
    topic = card_topic(ctx)
    if topic:
        return topic
    if ctx.intent in ("deny", "goodbye", "thanks"):
        return "done"
    if ctx.intent == "affirm":
        return "ask"
    return None
