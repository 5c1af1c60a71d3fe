"""The CSV import contracts: bad rows named by line and reason, good rows kept, re-imports update."""

from decimal import Decimal

from sqlalchemy import func, select

from voicebot.db.models import Account, AccountPhone, Meter, Ticket, TicketEvent
from voicebot.importers import registry

ACCOUNTS = """account,address,owner,phones,timezone,debt,debt_period,extra_column
1001,"ул. Гагарина, д. 15, кв. 42",Орлова Н. П.,+79161234501,Europe/Moscow,0,,x
1002,"ул. Садовая, д. 12, кв. 7",Белов А. В.,+79161234502;8 (916) 123-45-99,,4870.50,сентябрь,
1003,"ул. Мира, д. 8, корп. 2, кв. 104",Петрова Г. И.,12345,,0,,
1004,"ул. Лесная, д. 3, кв. 19",Белова М. И.,+79161234503,Mars/Olympus,0,,
1005,"ул. Полевая, д. 9, кв. 31",Козлов С. Н.,+79161234504,Asia/Yekaterinburg,"1 250,75",ноябрь,
1006,"ул. Кирова, д. 5, кв. 12",Соколова Е. А.,+79161234505,,сорок,,
1001,"ул. Гагарина, д. 15, кв. 42",Повтор,+79161234501,,0,,
"""


async def test_accounts_bad_rows_reported_good_rows_kept(db):
    report = await registry.import_accounts(db, ACCOUNTS, default_tz="Europe/Moscow")
    assert (report.read, report.inserted, report.updated) == (7, 3, 0)
    rejected = {r.line: r.reason for r in report.rejected}
    assert set(rejected) == {4, 5, 7, 8}
    assert "телефон '12345'" in rejected[4]
    assert "Mars/Olympus" in rejected[5]
    assert "сорок" in rejected[7]
    assert "duplicate of line 2" in rejected[8]

    async with db.session() as s:
        accounts = {a.number: a for a in (await s.execute(select(Account))).scalars()}
        phones = (await s.execute(select(AccountPhone.phone).order_by(AccountPhone.phone))).scalars().all()
    assert set(accounts) == {"1001", "1002", "1005"}
    assert accounts["1002"].debt == Decimal("4870.50")
    assert accounts["1005"].debt == Decimal("1250.75")
    assert accounts["1005"].timezone == "Asia/Yekaterinburg"
    assert accounts["1002"].timezone == "Europe/Moscow"
    assert (accounts["1001"].street, accounts["1001"].house, accounts["1001"].flat) == (
        "Гагарина",
        "15",
        "42",
    )
    assert phones == ["+79161234501", "+79161234502", "+79161234504", "+79161234599"]


async def test_accounts_second_import_updates_not_duplicates(db):
    await registry.import_accounts(db, ACCOUNTS, default_tz="Europe/Moscow")
    changed = ACCOUNTS.replace("4870.50", "100.00").replace(";8 (916) 123-45-99", "")
    report = await registry.import_accounts(db, changed, default_tz="Europe/Moscow")
    assert (report.inserted, report.updated) == (0, 3)
    async with db.session() as s:
        assert await s.scalar(select(func.count()).select_from(Account)) == 3
        debt = await s.scalar(select(Account.debt).where(Account.number == "1002"))
        phones = (
            (await s.execute(select(AccountPhone.phone).join(Account).where(Account.number == "1002")))
            .scalars()
            .all()
        )
    assert debt == Decimal("100.00")
    assert phones == ["+79161234502"]


METERS = """account,meter_id,resource,location,serial,last_value,last_date,verification_due
1001,cw,cold_water,ванная,A1,205,2025-10-24,2029-05-01
1001,hw,hot_water,ванная,A2,118.5,2025-10-24,
1001,el,water,кухня,A3,1,2025-10-24,
1001,gas,gas,кухня,A4,двадцать,2025-10-24,
9999,cw,cold_water,ванная,B1,1,2025-10-24,
1002,t1,electricity_t1,,E1,5190,2025-10-22,2031-06-01
1002,t2,electricity_t2,,E1,2101,2025-13-22,
1002,t3,electricity_t3,,E1,100,,
"""


async def test_meters_contract(db):
    await registry.import_accounts(db, ACCOUNTS, default_tz="Europe/Moscow")
    report = await registry.import_meters(db, METERS)
    rejected = {r.line: r.reason for r in report.rejected}
    assert set(rejected) == {4, 5, 6, 8}
    assert "unknown resource 'water'" in rejected[4]
    assert "двадцать" in rejected[5]
    assert "unknown account '9999'" in rejected[6]
    assert "2025-13-22" in rejected[8]
    assert (report.inserted, report.updated) == (4, 0)

    again = await registry.import_meters(db, METERS)
    assert (again.inserted, again.updated, len(again.rejected)) == (0, 4, 4)
    async with db.session() as s:
        rows = (
            await s.execute(
                select(Account.number, Meter.meter_id, Meter.position, Meter.last_value)
                .join(Account)
                .order_by(Account.number, Meter.position)
            )
        ).all()
    assert [(r[0], r[1], r[2]) for r in rows] == [
        ("1001", "cw", 0),
        ("1001", "hw", 1),
        ("1002", "t1", 0),
        ("1002", "t3", 1),
    ]
    assert rows[1][3] == Decimal("118.5")


TICKETS = """number,account,address,category,description,status,created_at,due_at,responsible
24018,1001,,leak,Залив сверху,new,2025-11-21T22:40:00+03:00,2025-11-21T23:10:00+03:00,аварийная бригада
24020,,"ул. Советская, д. 40",lighting,Не горит свет,in_progress,2025-11-21T10:00:00+03:00,2025-11-22T18:00:00+03:00,мастер Иванов
24021,1001,,lighting,Плохо,closed,2025-11-21T10:00:00+03:00,,
24022,7777,,lighting,Нет счёта,new,2025-11-21T10:00:00+03:00,,
24023,1001,,intercom,Домофон,new,вчера,,
"""


async def test_tickets_contract_and_status_history(db):
    await registry.import_accounts(db, ACCOUNTS, default_tz="Europe/Moscow")
    report = await registry.import_tickets(db, TICKETS, default_tz="Europe/Moscow")
    rejected = {r.line: r.reason for r in report.rejected}
    assert set(rejected) == {4, 5, 6}
    assert "unknown status 'closed'" in rejected[4]
    assert "unknown account '7777'" in rejected[5]
    assert "вчера" in rejected[6]

    async with db.session() as s:
        leak = await s.scalar(select(Ticket).where(Ticket.number == "24018"))
    assert leak.priority == "emergency"
    assert leak.address == "ул. Гагарина, д. 15, кв. 42"
    assert leak.due_at.isoformat() == "2025-11-21T20:10:00+00:00"

    await registry.import_tickets(db, TICKETS.replace(",in_progress,", ",done,"), default_tz="Europe/Moscow")
    async with db.session() as s:
        assert await s.scalar(select(func.count()).select_from(Ticket)) == 2
        history = (
            (
                await s.execute(
                    select(TicketEvent.status)
                    .join(Ticket)
                    .where(Ticket.number == "24020")
                    .order_by(TicketEvent.id)
                )
            )
            .scalars()
            .all()
        )
    assert history == ["in_progress", "done"]
