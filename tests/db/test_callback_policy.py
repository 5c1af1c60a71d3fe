"""«Перезвоните мне на другой номер»: a callback goes to the number of a real call, a number on the
resident's registry account, or a caller id Asterisk itself reported — never to a number that never
called (toll fraud: premium or made-up numbers)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, insert, select

from voicebot.db.callbacks import CallbackRefused, schedule_callback
from voicebot.db.models import Account, AccountPhone, Call, Callback
from voicebot.dialogue.library import cached_library
from voicebot.dialogue.session import open_dialogue
from voicebot.nlu import create_nlu
from voicebot.settings import Settings

NOW = datetime(2026, 3, 11, 9, 0, tzinfo=UTC)
CALLER = "+79161234567"
REGISTERED = "+79035550101"  # the resident's other phone in the registry
PREMIUM = "+79990000000"  # the attacker's number


@pytest.fixture
async def call_and_account(db) -> tuple[uuid.UUID, int]:
    call_id = uuid.uuid4()
    async with db.transaction() as s:
        await s.execute(insert(Call).values(id=call_id, direction="inbound", channel="voice", phone=CALLER))
        account = await s.scalar(
            insert(Account).values(number="000777", address="ул. Мира, 8, кв. 1").returning(Account.id)
        )
        await s.execute(insert(AccountPhone).values(account_id=account, phone=REGISTERED))
    return call_id, account


async def _callbacks(db) -> list[str]:
    async with db.session() as s:
        return list(await s.scalars(select(Callback.phone).order_by(Callback.id)))


async def _schedule(db, phone: str, **kwargs) -> int | None:
    async with db.transaction() as s:
        return await schedule_callback(
            s, phone, "requested", missed_at=None, due_at=NOW + timedelta(hours=1), **kwargs
        )


async def test_no_call_behind_it_no_callback(db, call_and_account):
    for kwargs in ({}, {"source_call_id": uuid.uuid4()}, {"account_id": call_and_account[1]}):
        with pytest.raises(CallbackRefused):
            await _schedule(db, CALLER, **kwargs)
    assert await _callbacks(db) == []


async def test_another_number_only_when_it_is_on_the_residents_account(db, call_and_account):
    call_id, account = call_and_account
    with pytest.raises(CallbackRefused):  # "на другой номер" naming any number
        await _schedule(db, PREMIUM, source_call_id=call_id, account_id=account)
    with pytest.raises(CallbackRefused):  # the registered number, but no account identified in the call
        await _schedule(db, REGISTERED, source_call_id=call_id)
    async with db.transaction() as s:  # an account the attacker names that has the premium number? no:
        other = await s.scalar(insert(Account).values(number="000778", address="x").returning(Account.id))
    with pytest.raises(CallbackRefused):
        await _schedule(db, PREMIUM, source_call_id=call_id, account_id=other)
    assert await _schedule(db, REGISTERED.replace("+7", "8"), source_call_id=call_id, account_id=account)
    assert await _callbacks(db) == ["89035550101"]


async def test_asterisks_own_report_of_a_missed_caller_is_enough(db):
    async with db.transaction() as s:
        assert await schedule_callback(s, CALLER, "missed", missed_at=NOW, asterisk_event=True)


async def test_the_dialogue_cannot_be_talked_into_dialling_another_number(db, call_and_account):
    settings = Settings()
    call_id = uuid.uuid4()
    dialogue = await open_dialogue(
        db=db, settings=settings, nlu=create_nlu(settings), library=cached_library(str(settings.scenarios_dir)),
        scenario="inbound_router", phone=CALLER, variables={}, direction="inbound", channel="voice",
        call_id=call_id,
    )  # fmt: skip
    await dialogue.start()
    ctx = dialogue.ctx
    due = datetime.now(UTC) + timedelta(hours=2)
    await ctx.store.create_callback(ctx, due, phone=PREMIUM)  # refused quietly: the caller is not told how
    assert await _callbacks(db) == []
    ctx.slots["account_id"] = call_and_account[1]  # identified as the resident
    await ctx.store.create_callback(ctx, due, phone=PREMIUM)
    assert await _callbacks(db) == []
    await ctx.store.create_callback(ctx, due, phone=REGISTERED)
    await ctx.store.create_callback(ctx, due)  # to the caller: one open callback per phone, two phones
    assert sorted(await _callbacks(db)) == sorted([REGISTERED, CALLER])
    async with db.session() as s:
        assert (
            await s.scalar(
                select(func.count()).select_from(Callback).where(Callback.source_call_id == call_id)
            )
            == 2
        )


@pytest.mark.parametrize(
    "number", ["+78091234567", "88031234567", "+442079460000", "+1900555012", "+7916123"]
)
async def test_premium_and_foreign_numbers_are_never_called_back_even_if_they_called(db, number):
    call_id = uuid.uuid4()
    async with db.transaction() as s:
        await s.execute(insert(Call).values(id=call_id, direction="inbound", channel="voice", phone=number))
    with pytest.raises(CallbackRefused, match="premium"):
        await _schedule(db, number, source_call_id=call_id)
    with pytest.raises(CallbackRefused):
        async with db.transaction() as s:
            await schedule_callback(s, number, "missed", missed_at=NOW, asterisk_event=True)
    assert await _callbacks(db) == []
