"""`voicebot bench burst`: an outage burst — N callers from one building within S seconds.

The server side is what `serve` runs for telephony, in this process on a scratch database of its own: the
FastAGI inbound router, the AudioSocket server, the voice engine with its real Vosk pool, cached prompts
and the dialogue limit of the settings (VOICEBOT_MAX_DIALOGUES). The benchmark declares an outage for a
demo building and gives the N caller numbers accounts there. The callers (`voicebot.bench.burst_peer`,
a child process whose CPU is taken out) speak the real protocols: FastAGI first, then AudioSocket.

A caller counts as answered only if it reached the bot (the router did not overflow it) and received the
whole announcement, checked frame by frame against the audio the server rendered (CRC-32 of every non-silent
20 ms frame, in order). A caller who stays silent must then be hung up by the bot (`announcement_heard`);
the share who ask for more compete for dialogue slots, and the rows the server wrote in the scratch database
say how many got a dialogue and how many the overflow with a callback.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import tempfile
import zlib
from collections import Counter
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, select

from voicebot.bench.calls import (
    Say,
    ServerMeter,
    child_json,
    load_pool,
    percentile,
    voice_engine,
)
from voicebot.settings import Settings

FRAME = 640


def announcement_frames(pcm: bytes) -> list[int]:
    """CRC-32 of each non-silent 20 ms frame the player cuts from `pcm` (16 kHz), the last one zero-padded."""
    frames = (pcm[i : i + FRAME].ljust(FRAME, b"\0") for i in range(0, len(pcm), FRAME))
    return [zlib.crc32(frame) for frame in frames if any(frame)]


def heard_all(heard: list[int], expected: list[int]) -> bool:
    """`expected` occurs in `heard` as one contiguous run: the caller got every frame, in order."""
    if not expected:
        return False
    start = 0
    while True:
        try:
            at = heard.index(expected[0], start)
        except ValueError:
            return False
        if heard[at : at + len(expected)] == expected:
            return True
        start = at + 1


def outage_message(street: str, house: str) -> str:
    return (
        f"В доме {house} по улице {street} из-за аварии на водопроводе отключена холодная вода. Аварийная "
        "бригада уже работает, подачу воды восстановят до восемнадцати часов."
    )


async def _prepare_building(db: Any, callers: int) -> tuple[str, list[str]]:
    """Declare an outage for the first demo building; the callers' numbers get accounts there."""
    from voicebot.db.models import Account, AccountPhone
    from voicebot.services.outages import Building, OutageService

    async with db.session() as session:
        street, house = (
            await session.execute(
                select(Account.street, Account.house)
                .where(Account.street.is_not(None), Account.house.is_not(None))
                .group_by(Account.street, Account.house)
                .order_by(func.count().desc())
                .limit(1)
            )
        ).one()
        accounts = (
            (
                await session.execute(
                    select(Account.id).where(Account.street == street, Account.house == house)
                )
            )
            .scalars()
            .all()
        )
    phones = [f"+7999{i:07d}" for i in range(callers)]
    async with db.transaction() as session:
        rows = [{"account_id": accounts[i % len(accounts)], "phone": p} for i, p in enumerate(phones)]
        await session.execute(insert(AccountPhone), rows)
    message = outage_message(street, house)
    await OutageService(db, None).declare(
        title="Авария на водопроводе", message=message, buildings=[Building(street, house)]
    )
    return message, phones


async def _engine(settings: Settings, db: Any, say: Say) -> Any:
    """The voice engine as `serve` builds it: its own pool and local journal for the call rows."""
    from voicebot.calls.registry import CallRegistry
    from voicebot.calls.service import open_call_records, warm_up

    pool, grammar = await load_pool(settings, say, settings.asr_warm_recognizers)
    engine = voice_engine(
        settings, db, pool, grammar, settings.max_dialogues,
        registry=CallRegistry(settings.voice_announce_ttl), records=await open_call_records(settings, db),
    )  # fmt: skip
    await warm_up(engine)
    return engine


async def bench_burst(
    settings: Settings, callers: int, within: float, ask_share: float, say: Say
) -> dict[str, Any]:
    from voicebot.asterisk.audiosocket import AudioSocketServer
    from voicebot.asterisk.fastagi import FastAGIServer
    from voicebot.bench.scratch import scratch_database
    from voicebot.calls.outage import announcement_text
    from voicebot.runtime import build_router

    scratch = Path(tempfile.mkdtemp(prefix="voicebot-burst-"))
    settings = settings.model_copy(
        update={"recordings_dir": scratch / "recordings", "journal_path": scratch / "journal"}
    )
    async with scratch_database(settings) as db:
        message, phones = await _prepare_building(db, callers)
        phones_file = scratch / "phones.txt"
        phones_file.write_text("\n".join(phones))
        engine = await _engine(settings, db, say)
        # Rendered through the cache the calls use, so the callers can tell when it is over (an asking
        # caller presses its key then); the first caller of a real outage renders it (~0.2 s).
        text = announcement_text(settings.company_name, message)
        expected = announcement_frames(await engine.announcements.audio(text, 16000))
        expected_file = scratch / "announcement.json"
        expected_file.write_text(json.dumps(expected))
        router = build_router(settings, db, engine, records=engine.records)
        audiosocket = AudioSocketServer(
            engine.handle_audiosocket, "127.0.0.1", 0, announced=engine.registry.is_announced
        )
        await audiosocket.start()
        agi = FastAGIServer({"inbound": router}, host="127.0.0.1", port=0)
        await agi.start()
        meter = ServerMeter()
        meter.start()
        concurrent = 0

        async def count_calls() -> None:
            nonlocal concurrent
            while True:
                concurrent = max(concurrent, len(audiosocket.calls))
                await asyncio.sleep(0.2)

        counter = asyncio.create_task(count_calls())
        say(f"{callers} callers within {within:.0f} s, {settings.max_dialogues} dialogue slots…")
        try:
            raw = await child_json(
                "voicebot.bench.burst_peer", "--agi-port", str(agi.port),
                "--audiosocket-port", str(audiosocket.bound_port), "--callers", str(callers),
                "--within", str(within), "--phones", str(phones_file), "--ask-share", str(ask_share),
                "--expected", str(expected_file),
            )  # fmt: skip
            for _ in range(150):  # the calls the legs just left write their rows
                if not audiosocket.calls:
                    break
                await asyncio.sleep(0.2)
            await router.flush()
        finally:
            counter.cancel()
            meter.stop_watches()
            await agi.close()
            await audiosocket.stop()
            await router.close()
            await engine.records.close()
        await meter.finish(raw.get("client_cpu_seconds", 0.0))
        expected_pcm = await engine.announcements.audio(text, 16000)
        rows = await _outcomes(db)
    shutil.rmtree(scratch, ignore_errors=True)
    result = summarize(raw["callers"], expected, rows)
    result.update(
        within_s=within,
        max_dialogues=settings.max_dialogues,
        announcement_s=round(len(expected_pcm) / 32000, 1),
        announcement_renders=engine.announcements.renders,
        peak_concurrent_calls=concurrent,
        cpu_cores_total=round(meter.cpu / meter.wall, 2),
        cpu_seconds_per_caller=round(meter.cpu / callers, 3),
        rss_mb=meter.rss_mb(),
        **meter.machine_report(),
    )
    return result


async def _outcomes(db: Any) -> dict[str, Any]:
    from voicebot.db.models import Call, Callback

    async with db.session() as session:
        calls = (await session.execute(select(Call.scenario, Call.outcome))).all()
        callbacks = await session.scalar(select(func.count()).select_from(Callback))
    return {"calls": Counter(f"{s}/{o}" for s, o in calls), "callbacks": callbacks or 0}


def summarize(callers: list[dict[str, Any]], expected: list[int], rows: dict[str, Any]) -> dict[str, Any]:
    answered, failures = 0, Counter()
    for caller in callers:
        if caller["error"]:
            failures["error"] += 1
        elif caller["action"] != "dialogue":
            failures["overflowed_by_router"] += 1
        elif not heard_all(caller["heard"], expected):
            failures["announcement_not_received"] += 1
        elif not caller["asks"] and not caller["bot_hangup"]:
            failures["not_hung_up_by_the_bot"] += 1
        else:
            answered += 1
    calls: Counter = rows["calls"]
    first_audio = [c["first_audio_ms"] for c in callers if c["first_audio_ms"] is not None]
    agi = [c["agi_ms"] for c in callers if c["agi_ms"] is not None]
    examples = [c["error"] for c in callers if c["error"]][:5]
    return {
        "callers": len(callers),
        "answered": answered,
        "failed": len(callers) - answered,
        "failures": dict(failures),
        "failure_examples": examples,
        "asked_for_more": sum(1 for c in callers if c["asks"]),
        "rows": {
            "announcement_heard": calls.get("announcement/announcement_heard", 0),
            "announcement_partial": calls.get("announcement/announcement_partial", 0),
            "dialogues": sum(
                n
                for k, n in calls.items()
                if k.startswith("inbound_router/") and k != "inbound_router/overflow"
            ),
            "overflow": sum(n for k, n in calls.items() if k.endswith("/overflow")),
            "callbacks_queued": rows["callbacks"],
            "by_scenario_outcome": dict(calls),
        },
        "first_audio_ms": {q: percentile(first_audio, float(q[1:])) for q in ("p50", "p95")}
        | {"max": round(max(first_audio), 1) if first_audio else None},
        "agi_ms": {q: percentile(agi, float(q[1:])) for q in ("p50", "p95")}
        | {"max": round(max(agi), 1) if agi else None},
    }


def meets(result: dict[str, Any]) -> bool:
    return result["failed"] == 0 and result["answered"] == result["callers"]
