"""The questions a front desk answers on every channel: the company card and office appointments."""

from __future__ import annotations

from voicebot.dialogue.actions.appointments import wants_appointment
from voicebot.dialogue.actions.company import card_topic
from voicebot.dialogue.context import DialogueContext


def to_front_desk(ctx: DialogueContext) -> bool:
    """Hand «какие у вас часы работы?», «телефон аварийки?» to the company card and «хочу записаться на
    приём» to the office schedule; False when the caller asked for neither."""
    if card_topic(ctx):
        ctx.switch("company_card", "answer", replay=False)
        return True
    if wants_appointment(ctx):
        ctx.switch("office_appointment", None, replay=False)
        return True
    return False
