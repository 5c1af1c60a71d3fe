"""Every template, rendered with data, shows a person Russian only: no English words, no snake_case
codes, no Python dicts. Technical identifiers a person must type (CSV column names, time zones) are in
<code> and are skipped; a short list of names (NPS, CSV, Excel…) is allowed."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser

import pytest
from sqlalchemy import text

from tests.web.conftest import csrf_of, login
from tests.web.seed import seed
from tests.web.test_browser_campaign import dial_scripted
from voicebot.services.callcard import build_card
from voicebot.services.keys import create_key
from voicebot.web.callcards import render_card
from voicebot.web.templating import TEMPLATES, templates

ALLOWED = {
    "NPS", "CSV", "XLSX", "Excel", "UTF", "AMI", "API", "ASR", "SMS", "URL", "ID", "E.164", "OK",
    "GET", "POST", "vb_", "Europe/Moscow", "Asterisk", "Vosk", "MAX",
    "phone",  # the one CSV column every upload needs, named in upload errors
}  # fmt: skip
ENGLISH = re.compile(r"[A-Za-z][A-Za-z_]{2,}")
SNAKE = re.compile(r"\b[a-z]+_[a-z_]+\b")
USER_ATTRIBUTES = ("placeholder", "title", "aria-label", "alt")


class VisibleText(HTMLParser):
    """Text a person sees: element text and a few attributes; not scripts, styles, <code> or hidden data."""

    SKIP = {"script", "style", "code", "template"}

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self.skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.SKIP:
            self.skipping += 1
        for name, value in attrs:
            if name in USER_ATTRIBUTES and value:
                self.parts.append(value)
        if tag == "input" and dict(attrs).get("type") in ("submit", "button"):
            self.parts.append(dict(attrs).get("value") or "")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.SKIP and self.skipping:
            self.skipping -= 1

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.parts.append(data)


def problems(html: str) -> list[str]:
    parser = VisibleText()
    parser.feed(html)
    found = []
    for part in parser.parts:
        cleaned = part
        for word in ALLOWED:
            cleaned = cleaned.replace(word, "")
        cleaned = re.sub(r"https?://\S+|\+7\d+|vb_[\w-]+…?|\b[0-9a-f]{8}-[0-9a-f-]{27}\b", "", cleaned)
        for pattern, what in ((SNAKE, "code"), (ENGLISH, "English"), (re.compile(r"\{'|': "), "dict")):
            for match in pattern.finditer(cleaned):
                found.append(f"{what}: {match.group(0)!r} in {part.strip()[:80]!r}")
    return found


@pytest.fixture
def rendered(monkeypatch) -> set[str]:
    names: set[str] = set()
    original = templates.env._load_template

    def recording(name, globals):  # noqa: ANN001, ANN202
        names.add(name)
        return original(name, globals)

    monkeypatch.setattr(templates.env, "_load_template", recording)
    return names


async def _data(db, web_settings) -> dict[str, str]:
    seeded = await seed(db, web_settings.recordings_path)
    campaign_id = await dial_scripted(db)
    now = datetime.now(UTC)
    async with db.transaction() as s:
        await s.execute(
            text(
                "INSERT INTO audit_log (actor, action, object_type, object_id, details) VALUES "
                "('web:тест', 'ticket.status', 'ticket', '1', '{\"from\": \"new\", \"to\": \"done\"}')"
            )
        )
        await s.execute(
            text("INSERT INTO sms_outbox (phone, text, status) VALUES ('+79161234501', 'Текст', 'pending')")
        )
        await s.execute(
            text(
                "INSERT INTO calls (id, direction, channel, status, scenario, phone, started_at) VALUES "
                "(gen_random_uuid(), 'outbound', 'voice', 'active', 'debt_reminder', '+79161234511', :t)"
            ),
            {"t": now - timedelta(seconds=30)},
        )
        outage = await s.scalar(
            text(
                "INSERT INTO outages (title, message, ends_at) VALUES ('Нет горячей воды', "
                "'Ремонт трубы, вода будет к вечеру', :ends) RETURNING id"
            ),
            {"ends": now + timedelta(hours=5)},
        )
        await s.execute(
            text("INSERT INTO outage_buildings (outage_id, street, house) VALUES (:o, 'Гагарина', '15')"),
            {"o": outage},
        )
    return {"call": str(seeded.recorded_call), "campaign": str(campaign_id), "outage": str(outage)}


async def test_every_template_speaks_russian(client, db, web_settings, rendered):
    ids = await _data(db, web_settings)
    pages = {"/login": await client.get("/login")}
    admin = await create_key(db, "admin", "Иванова Мария")  # key names are people's, in Russian
    await create_key(db, "ops", "Диспетчерская")
    await login(client, admin.key)
    for path in (
        "/dashboard", "/dashboard?period=7d", "/live", "/calls", f"/calls/{ids['call']}", "/calls?q=труба",
        "/campaigns", "/campaigns/new", f"/campaigns/{ids['campaign']}", f"/campaigns/{ids['campaign']}?state=failed",
        "/queues", "/queues?tab=voice_messages", "/queues?tab=callbacks", "/queues?tab=tickets&state=closed",
        "/try", "/operator", "/admin/keys", "/admin/audit", "/admin/webhooks", "/admin/sms", "/no/such/page",
        "/calls?phone=abc", "/outages", "/house-chats", "/company", f"/outages/{ids['outage']}", "/office",
    ):  # fmt: skip
        pages[path] = await client.get(path)
    csrf = csrf_of(pages["/calls"].text)
    pages["upload report"] = await client.post(
        "/campaigns/new",
        data={"name": "Проверка", "scenario": "debt_reminder", "csrf": csrf, "token": "walk"},
        files={
            "file": (
                "c.csv",
                "phone,full_name,amount\n+79161234501,Иванов,10\n12,Петров,5\n".encode(),
                "text/csv",
            )
        },
    )
    pages["bad upload"] = await client.post(
        "/campaigns/new",
        data={"name": "Проверка", "scenario": "debt_reminder", "csrf": csrf, "token": "walk2"},
        files={"file": ("c.csv", b"name\nx\n", "text/csv")},
    )
    pages["new key"] = await client.post(
        "/admin/keys", data={"name": "проверка", "role": "ops", "csrf": csrf}
    )
    card = await build_card(db, uuid.UUID(ids["call"]), "dispatcher")
    html = {path: response.text for path, response in pages.items()}
    html["call card"] = render_card(card, web_settings.default_timezone)
    report = {}
    for path, response in pages.items():
        assert response.status_code < 500, path
    for path, page in html.items():
        found = problems(page)
        if found:
            report[path] = found
    assert not report, "\n".join(f"{path}: {p}" for path, found in report.items() for p in found[:8])
    every = {p.name for p in TEMPLATES.iterdir() if p.suffix == ".html"}
    assert every - rendered == set(), f"templates the walk never rendered: {sorted(every - rendered)}"


def test_the_checker_catches_codes_english_and_dicts():
    assert problems("<p>Статус: pending</p>") and problems("<td>{'a': 1}</td>")
    assert problems("<td>no_answer</td>") and problems('<input placeholder="Search">')
    assert not problems("<p>Выгрузить в Excel · NPS 40 · <code>full_name</code></p>")


def test_every_scenario_and_outcome_of_the_flows_has_a_russian_name():
    from voicebot.dialogue.library import cached_library
    from voicebot.settings import Settings
    from voicebot.web.labels import OUTCOMES, SCENARIOS

    library = cached_library(str(Settings().scenarios_dir))
    missing = [name for name in library.names() if name not in SCENARIOS]
    missing += [o for name in library.names() for o in library.get(name).outcomes if o not in OUTCOMES]
    assert not missing, f"give these a Russian name in voicebot/web/labels.py: {sorted(set(missing))}"


def test_every_audit_action_and_its_details_have_russian_names():
    """The audit log page names each action, object and detail key in Russian (recording.denied, outage.*,
    office.* … showed as codes)."""
    from pathlib import Path

    import voicebot
    from voicebot.web.labels import AUDIT_ACTIONS, COLUMNS, OBJECT_TYPES

    actions: set[str] = set()
    for source in Path(voicebot.__file__).parent.rglob("*.py"):
        code = source.read_text(encoding="utf-8")
        for call in re.finditer(r"\baudit\((.{0,400}?)\)\s*$", code, re.S | re.M):
            actions.update(re.findall(r'"([a-z_]+\.[a-z_]+)"', call.group(1)))
        for line in re.findall(
            r"\baction=.*", code
        ):  # action="recording.listen" if … else "recording.denied"
            actions.update(re.findall(r'"([a-z_]+\.[a-z_]+)"', line))
    assert {"recording.listen", "recording.denied", "ticket.status", "outage.declare"} <= actions  # found
    assert not actions - AUDIT_ACTIONS.keys(), sorted(actions - AUDIT_ACTIONS.keys())
    assert not {action.split(".")[0] for action in actions} - OBJECT_TYPES.keys() - {"recording", "key"}
    for key in ("via", "method", "error", "size", "bytes", "range", "status", "buildings", "chat_id"):
        assert key in COLUMNS, key
