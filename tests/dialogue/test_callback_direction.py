"""A callback is an outbound call (the bot placed it) even when it runs the inbound-only router; the flow
knows it is a callback; the call's end time keeps its sub-second precision."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from voicebot.db.models import Call
from voicebot.dialogue.context import CallerInput
from voicebot.dialogue.library import cached_library
from voicebot.dialogue.session import open_dialogue
from voicebot.nlu import create_nlu
from voicebot.settings import Settings


async def test_a_callback_on_the_router_is_stored_outbound_and_flagged(db) -> None:  # noqa: ANN001
    settings = Settings()
    library = cached_library(str(settings.scenarios_dir))
    call_id = uuid.uuid4()
    dialogue = await open_dialogue(
        db=db, settings=settings, nlu=create_nlu(settings), library=library, scenario="inbound_router",
        phone="+79161234501", variables={"callback": "1", "callback_reason": "overflow"}, direction="outbound",
        channel="voice", call_id=call_id,
    )  # fmt: skip
    assert dialogue.ctx.call.callback and dialogue.ctx.call.direction == "outbound"
    turn = await dialogue.start()
    assert turn.utterances  # it started at the router's (inbound) greeting
    await dialogue.respond(CallerInput("hangup"))
    async with db.session() as session:
        row = (await session.execute(select(Call).where(Call.id == call_id))).scalar_one()
    assert row.direction == "outbound" and row.variables["callback"] == "1"
    assert row.ended_at >= row.answered_at
    assert row.ended_at.microsecond != 0  # not cut to whole seconds (one run in a million ends on .000000)
