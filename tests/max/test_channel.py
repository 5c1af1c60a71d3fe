"""Residents' conversations with the MAX bot through the Bot API emulator: identity, buttons, free text."""

from __future__ import annotations

from sqlalchemy import select

from tests.max.conftest import Resident
from voicebot.db.models import Call, CallTurn, MaxUser, Reading, Ticket


async def _calls(db) -> list[Call]:
    async with db.session() as s:
        return list(await s.scalars(select(Call).order_by(Call.started_at)))


async def test_identity_only_by_shared_phone_then_readings_with_buttons(db, bot, max_api) -> None:
    anna = Resident(max_api, 1001, "Наталья")
    (hello,) = await anna.start()
    assert [b["type"] for b in hello.buttons] == ["request_contact"]
    assert "Поделиться номером" in hello.text
    # Typed account data identifies nobody: the bot asks for the shared phone again and says no account.
    (again,) = await anna.write("мой лицевой счёт 07234501, Гагарина 15")
    assert again.buttons[0]["type"] == "request_contact"
    assert "Гагарина" not in again.text and "07234501" not in again.text
    saved, menu = await anna.share_phone("+7 916 123-45-01")
    assert "+7916•••45-01" in saved.text
    assert [b["text"] for b in menu.buttons][:3] == ["Передать показания", "Оставить заявку", "Статус заявки"]
    (confirm,) = await anna.press(menu, "Передать показания")
    assert "Гагарина" in confirm.text
    assert [b["text"] for b in confirm.buttons][:2] == ["Да", "Нет"]
    (cold,) = await anna.press(confirm, "Да")
    assert "холодн" in cold.text.lower() and not cold.buttons  # a number is free text
    (hot,) = await anna.write("215")
    assert "горяч" in hot.text.lower()
    (readback,) = await anna.write("сто двадцать")
    assert "215" in readback.text and "120" in readback.text
    (done,) = await anna.press(readback, "Да")
    assert "принят" in done.text.lower() and "Что-нибудь ещё?" in done.text
    (bye,) = await anna.write("нет, спасибо")
    assert not bye.buttons
    # The pressed messages lost their buttons; every press was answered.
    assert len(max_api.callback_answers) == 3
    (call,) = await _calls(db)
    assert (call.channel, call.direction, call.outcome, call.phone) == ("max", "inbound", "readings_accepted",
                                                                         "+79161234501")  # fmt: skip
    async with db.session() as s:
        readings = list(await s.scalars(select(Reading).order_by(Reading.id)))
        turns = list(await s.scalars(select(CallTurn).where(CallTurn.call_id == call.id)))
        user = await s.get(MaxUser, 1001)
    assert [float(r.value) for r in readings] == [215.0, 120.0]
    assert {t.speaker for t in turns} == {"bot", "caller"}
    assert user is not None and user.phone == "+79161234501" and user.consent_at is not None


async def test_a_forwarded_contact_of_someone_else_identifies_nobody(db, bot, max_api) -> None:
    eve = Resident(max_api, 1002)
    await eve.start()
    (refused,) = await eve.share_phone("+79161234501", replies=1, owner_id=4242)
    assert refused.buttons[0]["type"] == "request_contact"
    async with db.session() as s:
        assert await s.get(MaxUser, 1002) is None
    (still,) = await eve.write("передать показания")
    assert still.buttons[0]["type"] == "request_contact"
    assert await _calls(db) == []


async def test_a_user_who_never_shares_a_phone_gets_no_account_data(db, bot, max_api) -> None:
    shy = Resident(max_api, 1003)
    await shy.start()
    for line in ("передать показания", "статус заявки 3572", "07234501"):
        (reply,) = await shy.write(line)
        assert reply.buttons[0]["type"] == "request_contact"
        assert "Гагарина" not in reply.text and "3572" not in reply.text
    assert await _calls(db) == []


async def test_two_accounts_are_offered_as_buttons(db, bot, max_api) -> None:
    andrey = Resident(max_api, 1004, "Андрей")
    await andrey.start()
    _, menu = await andrey.share_phone("+79161234502")
    (choice,) = await andrey.write("хочу передать показания счётчиков")
    assert [b["text"] for b in choice.buttons] == ["ул. Садовая, д. 12, кв. 7", "ул. Лесная, д. 3, кв. 19"]
    replies = await andrey.press(choice, "ул. Лесная")
    assert "Лесная" in replies[0].text
    assert "холодн" in replies[0].text.lower()


async def test_phone_without_account_cannot_pass_readings_and_is_never_asked_to_type_one(
    db, bot, max_api
) -> None:
    stranger = Resident(max_api, 1005)
    await stranger.start()
    await stranger.share_phone("+79990001122")
    (reply,) = await stranger.write("передать показания")
    assert "не привязан" in reply.text
    (call,) = await _calls(db)
    assert call.outcome == "not_identified" and call.channel == "max"


async def test_saying_no_to_the_found_account_does_not_ask_for_typed_account_data(db, bot, max_api) -> None:
    natalia = Resident(max_api, 1006)
    await natalia.start()
    _, menu = await natalia.share_phone("+79161234501")
    (confirm,) = await natalia.press(menu, "Передать показания")
    (reply,) = await natalia.press(confirm, "Нет")
    assert "номер лицевого счёта" not in reply.text.lower()
    assert "только по лицевому счёту" in reply.text
    (call,) = await _calls(db)
    assert call.outcome == "not_identified"


async def test_request_intake_in_free_text_and_status_by_number(db, bot, max_api) -> None:
    olga = Resident(max_api, 1007, "Ольга")
    await olga.start()
    await olga.share_phone("+79161234506")
    replies = await olga.write("Течёт с потолка в ванной, ул. Ленина 26 кв 53")
    text = " ".join(r.text for r in replies)
    while "зарегистрирован" not in text.lower():
        last = olga.last()
        answer = "Да" if last.buttons else "нет, никого"
        replies = await (olga.press(last, answer) if last.buttons else olga.write(answer))
        text = " ".join(r.text for r in replies)
    async with db.session() as s:
        ticket = await s.scalar(select(Ticket).where(Ticket.call_id.is_not(None)))
    assert ticket is not None and ticket.number in text
    await olga.write("Ольга. Да, этот")
    menu, *status = await olga.write("статус заявки 23959", replies=2)
    assert menu.buttons  # a new conversation starts with the menu, then answers the question
    assert "23959" in status[0].text and "домофон" in status[0].text.lower()
    calls = await _calls(db)
    assert [c.channel for c in calls] == ["max", "max"]
    assert calls[0].outcome == "ticket_created"


async def test_company_card_is_answered_before_and_after_identity(db, bot, max_api) -> None:
    from voicebot.db.company import Card, save_card

    await save_card(db, Card(address="ул. Ленина, д. 1, офис 3", office_hours="пн–пт с 9 до 18",
                             emergency_phone="+7 495 100-20-39"))  # fmt: skip
    guest = Resident(max_api, 1010)
    await guest.start()
    (answer,) = await guest.write("какие у вас часы работы?")
    assert "пн–пт с 9 до 18" in answer.text and "Подсказать" in answer.text
    assert [b["text"] for b in answer.buttons][:2] == ["Да", "Нет"]
    (emergency,) = await guest.write("телефон аварийки?")
    assert "+7 495 100-20-39" in emergency.text
    (bye,) = await guest.press(guest.last(), "Нет")
    (still,) = await guest.write("передать показания")
    assert still.buttons[0]["type"] == "request_contact"  # account services still need the phone
    calls = await _calls(db)
    assert [(c.scenario, c.outcome, c.phone) for c in calls] == [("company_card", "info_given", None)]
    _, menu = await guest.share_phone("+79161234501")
    assert "Телефон аварийной службы" in [b["text"] for b in menu.buttons]
    (answer,) = await guest.press(menu, "Телефон аварийной службы")
    assert "+7 495 100-20-39" in answer.text
