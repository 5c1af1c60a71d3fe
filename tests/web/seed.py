"""Data the UI tests look at: calls with turns, NLU and records, a real recording file, queues, NPS."""

from __future__ import annotations

import shutil
import subprocess
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import text

from voicebot.db.session import Database

RECORDING = "2026/11/seeded.ogg"
RECORDING_SECONDS = 12


def make_recording(recordings_dir: Path) -> str:
    """A 12 s tone as OGG/Opus (ffmpeg) or WAV (sox); the path is relative to the recordings folder."""
    target = recordings_dir / RECORDING
    target.parent.mkdir(parents=True, exist_ok=True)
    if shutil.which("ffmpeg"):
        subprocess.run(
            [
                "ffmpeg",
                "-loglevel",
                "error",
                "-y",
                "-f",
                "lavfi",
                "-i",
                f"sine=frequency=440:duration={RECORDING_SECONDS}",
                "-ac",
                "1",
                "-c:a",
                "libopus",
                "-b:a",
                "24k",
                str(target),
            ],
            check=True,
            timeout=30,
        )
        return RECORDING
    wav = target.with_suffix(".wav")
    subprocess.run(
        ["sox", "-n", "-r", "16000", "-c", "1", str(wav), "synth", str(RECORDING_SECONDS), "sine", "440"],
        check=True,
        timeout=30,
    )
    return str(wav.relative_to(recordings_dir))


@dataclass(frozen=True)
class Seeded:
    recorded_call: uuid.UUID
    calls: int


_TURNS = [
    # speaker, text, start_ms, end_ms, intent, entities
    ("bot", "Здравствуйте! Управляющая компания «Уютный дом». Чем помочь?", 0, 3000, None, []),
    (
        "caller",
        "у нас в подъезде течёт труба",
        3500,
        6000,
        "report_problem",
        [{"entity": "problem", "value": "leak"}],
    ),
    ("bot", "Назовите, пожалуйста, адрес.", 6200, 7800, None, []),
    (
        "caller",
        "Гагарина пятнадцать квартира сорок два",
        8200,
        11000,
        "inform",
        [{"entity": "address", "value": "ул. Гагарина, д. 15, кв. 42"}],
    ),
]


async def seed(db: Database, recordings_dir: Path, now: datetime | None = None) -> Seeded:
    """About 30 calls of today over several scenarios, one with a recording and a ticket, plus queues."""
    now = now or datetime.now(UTC)
    recording = make_recording(recordings_dir)
    recorded = uuid.uuid4()
    plan = [
        ("inbound", "request_intake", "ticket_created", "+79161234501"),
        ("inbound", "meter_readings", "readings_accepted", "+79161234502"),
        ("outbound", "debt_reminder", "promise_to_pay", "+79161234503"),
        ("outbound", "nps_survey", "nps_collected", "+79161234504"),
        ("inbound", "meter_readings", "not_identified", "+79161234505"),
        ("outbound", "debt_reminder", "refused", "+79161234506"),
    ]
    async with db.transaction() as s:
        for i in range(30):
            direction, scenario, outcome, phone = plan[i % len(plan)]
            started = now - timedelta(minutes=7 * i + 1)
            call_id = recorded if i == 0 else uuid.uuid4()
            offered = started - timedelta(seconds=5 + 40 * (i % 4)) if direction == "inbound" else None
            await s.execute(
                text(
                    "INSERT INTO calls (id, direction, channel, status, scenario, phone, outcome, started_at, "
                    "ended_at, offered_at, answered_at, recording_path) VALUES (:id, :dir, 'voice', 'ended', "
                    ":scenario, :phone, :outcome, :started, :ended, :offered, :answered, :rec)"
                ),
                {
                    "id": call_id,
                    "dir": direction,
                    "scenario": scenario,
                    "phone": phone,
                    "outcome": outcome,
                    "started": started,
                    "ended": started + timedelta(seconds=40),
                    "offered": offered,
                    "answered": started if offered else None,
                    "rec": recording if i == 0 else None,
                },
            )
        for seq, (speaker, words, start, end, intent, entities) in enumerate(_TURNS, start=1):
            await s.execute(
                text(
                    "INSERT INTO call_turns (call_id, seq, speaker, text, start_ms, end_ms, intent, confidence, "
                    "entities) VALUES (:id, :seq, :speaker, :text, :start, :end, :intent, :conf, "
                    "CAST(:entities AS jsonb))"
                ),
                {
                    "id": recorded,
                    "seq": seq,
                    "speaker": speaker,
                    "text": words,
                    "start": start,
                    "end": end,
                    "intent": intent,
                    "conf": 0.91 if intent else None,
                    "entities": __import__("json").dumps(entities, ensure_ascii=False),
                },
            )
        await s.execute(
            text(
                "INSERT INTO tickets (number, call_id, category, priority, address, description, status, due_at, "
                "contact_phone) VALUES "
                "('Т-0001', :id, 'протечка', 'emergency', 'ул. Гагарина, д. 15, кв. 42', 'течёт труба', 'new', "
                ":overdue, '+79161234501'), "
                "('Т-0002', NULL, 'освещение', 'routine', 'ул. Мира, д. 8', 'не горит лампа', 'in_progress', "
                ":later, NULL)"
            ),
            {"id": recorded, "overdue": now - timedelta(hours=2), "later": now + timedelta(days=2)},
        )
        await s.execute(
            text(
                "INSERT INTO voice_messages (phone, created_at, review_due_at) VALUES "
                "('+79161234507', :old, :old_due), ('+79161234508', :now, :due)"
            ),
            {
                "old": now - timedelta(minutes=30),
                "old_due": now - timedelta(minutes=20),
                "now": now,
                "due": now + timedelta(minutes=10),
            },
        )
        await s.execute(
            text(
                "INSERT INTO callbacks (phone, reason, status, attempts, missed_at, due_at) VALUES "
                "('+79161234509', 'missed', 'pending', 0, :missed, :due)"
            ),
            {"missed": now - timedelta(minutes=3), "due": now - timedelta(minutes=2)},
        )
        for score in (10, 9, 9, 7, 3):
            await s.execute(
                text("INSERT INTO nps_answers (score, created_at) VALUES (:score, :at)"),
                {"score": score, "at": now - timedelta(minutes=5)},
            )
    return Seeded(recorded, 30)
