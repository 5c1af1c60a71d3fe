"""`voicebot simulate --json` is a conversation another program can hold: one JSON object per bot turn,
flushed before the next line is read, then the final outcome with the records."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys

from voicebot.demo import load_demo_data


def _env(database_url: str, tmp_path) -> dict[str, str]:
    return {**os.environ, "DATABASE_URL": database_url, "VOICEBOT_DATA_DIR": str(tmp_path)}


async def _simulate(args: list[str], env: dict[str, str]) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "voicebot", "simulate", *args,
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
    )  # fmt: skip


async def test_program_converses_with_simulate(db, database_url, tmp_path):
    await load_demo_data(db)
    proc = await _simulate(
        ["request_intake", "--phone", "+79990000901", "--now", "2025-11-20T12:00:00+03:00", "--json"],
        _env(database_url, tmp_path),
    )
    assert proc.stdin and proc.stdout and proc.stderr
    answers = iter(["Не горит свет в подъезде.", "Советская, сорок.", "Нет, всё."])
    events = []
    while True:
        line = await asyncio.wait_for(proc.stdout.readline(), 60)  # the bot flushed its turn
        assert line, (await proc.stderr.read()).decode()
        event = json.loads(line)
        events.append(event)
        if "records" in event:
            break
        if event.get("listen"):
            proc.stdin.write((next(answers) + "\n").encode())
            await proc.stdin.drain()
    proc.stdin.close()
    assert await asyncio.wait_for(proc.wait(), 30) == 0
    bot_turns = [e for e in events if "bot" in e]
    assert bot_turns[0]["step"] == "describe" and "Что случилось" in bot_turns[0]["bot"]
    final = events[-1]
    assert final["outcome"] == "ticket_created"
    ticket = final["records"]["tickets"][0]
    assert ticket["category"] == "lighting" and ticket["due_at"].endswith("+03:00")
    assert set(final["records"]) >= {"readings", "promises", "tickets", "nps", "visits", "callbacks", "tasks"}


async def test_end_of_input_is_a_hangup(db, database_url, tmp_path):
    await load_demo_data(db)
    proc = await _simulate(
        ["announcement", "--var", "message=Собрание в субботу.", "--json"], _env(database_url, tmp_path)
    )
    out, _ = await asyncio.wait_for(proc.communicate(b""), 60)
    lines = [json.loads(line) for line in out.decode().splitlines()]
    assert lines[-1]["outcome"] == "announcement_partial"


async def test_bad_arguments_are_rejected_clearly(database_url, tmp_path):
    proc = await _simulate(["no_such_scenario"], _env(database_url, tmp_path))
    _, err = await asyncio.wait_for(proc.communicate(b""), 60)
    assert proc.returncode == 2
    assert "unknown scenario 'no_such_scenario'" in err.decode()


async def test_the_text_mode_prints_no_empty_bot_line_at_the_hangup(db, database_url, tmp_path):
    await load_demo_data(db)
    proc = await _simulate(["meter_readings", "--phone", "+79161234501"], _env(database_url, tmp_path))
    out, _ = await asyncio.wait_for(proc.communicate("да\n".encode()), 60)
    lines = out.decode().splitlines()
    assert "[конец: hangup]" in lines
    assert all(line.strip() != "БОТ:" for line in lines), lines
