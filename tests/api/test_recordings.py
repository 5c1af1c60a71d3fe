"""Recording download: HTTP Range, the audit entry, paths that try to leave the folder; transcripts."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from sqlalchemy import text

from tests.api.conftest import auth
from voicebot.api.errors import ApiError
from voicebot.services.recordings import parse_range

AUDIO = bytes(range(256)) * 40  # 10 240 bytes


async def _call_with_recording(db, api_settings, path: str = "2025/11/call.ogg") -> uuid.UUID:
    target = api_settings.recordings_path / path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(AUDIO)
    call_id = uuid.uuid4()
    async with db.transaction() as s:
        await s.execute(
            text(
                "INSERT INTO calls (id, direction, channel, status, scenario, phone, recording_path, outcome) "
                "VALUES (:id, 'inbound', 'voice', 'ended', 'request_intake', '+79161110001', :path, 'ticket_created')"
            ),
            {"id": call_id, "path": path},
        )
        await s.execute(
            text(
                "INSERT INTO call_turns (call_id, seq, speaker, text) VALUES "
                "(:id, 1, 'bot', 'Здравствуйте!'), (:id, 2, 'caller', 'у нас течёт')"
            ),
            {"id": call_id},
        )
    return call_id


async def test_download_writes_an_audit_entry(client, keys, db, api_settings):
    call_id = await _call_with_recording(db, api_settings)
    response = await client.get(f"/api/v1/calls/{call_id}/recording", headers=auth(keys["supervisor"]))
    assert response.status_code == 200
    assert response.content == AUDIO
    assert response.headers["content-type"] == "audio/ogg"
    assert response.headers["accept-ranges"] == "bytes"
    async with db.session() as s:
        entry = (
            await s.execute(text("SELECT actor, action, object_type, object_id, remote_addr FROM audit_log"))
        ).one()
    assert (
        entry.action == "recording.listen" and entry.object_type == "call" and entry.object_id == str(call_id)
    )
    assert "test supervisor" in entry.actor and entry.remote_addr
    staff = await client.get(f"/api/v1/calls/{call_id}/recording", headers=auth(keys["staff"]))
    assert staff.status_code == 403


async def test_range_requests(client, keys, db, api_settings):
    call_id = await _call_with_recording(db, api_settings)
    url = f"/api/v1/calls/{call_id}/recording"
    headers = auth(keys["supervisor"])
    part = await client.get(url, headers={**headers, "Range": "bytes=100-199"})
    assert part.status_code == 206 and part.content == AUDIO[100:200]
    assert part.headers["content-range"] == f"bytes 100-199/{len(AUDIO)}"
    tail = await client.get(url, headers={**headers, "Range": "bytes=-50"})
    assert tail.status_code == 206 and tail.content == AUDIO[-50:]
    open_end = await client.get(url, headers={**headers, "Range": "bytes=10000-"})
    assert open_end.content == AUDIO[10000:]
    beyond = await client.get(url, headers={**headers, "Range": "bytes=999999-"})
    assert beyond.status_code == 416 and beyond.headers["content-range"] == f"bytes */{len(AUDIO)}"
    assert [(d["location"], d["field"]) for d in beyond.json()["error"]["details"]] == [("header", "Range")]
    async with db.session() as s:  # every range is audited, the unsatisfiable one included
        assert await s.scalar(text("SELECT count(*) FROM audit_log")) == 4


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, None),
        ("bytes=0-0", (0, 0)),
        ("bytes=5-", (5, 9)),
        ("bytes=-3", (7, 9)),
        ("bytes=2-100", (2, 9)),
        ("bytes=1-2,4-5", (1, 2)),
    ],
)
def test_parse_range(header, expected):
    assert parse_range(header, 10) == expected


@pytest.mark.parametrize(
    "header", ["bytes=5-2", "bytes=10-", "items=1-2", "bytes=-", "bytes=-0", "bytes=a-b"]
)
def test_parse_range_rejects(header):
    with pytest.raises(ApiError) as caught:
        parse_range(header, 10)
    assert caught.value.status == 416


async def test_paths_outside_the_folder_and_missing_files_are_404(client, keys, db, api_settings):
    (api_settings.data_dir / "secret.ogg").write_bytes(b"x")
    call_id = await _call_with_recording(db, api_settings)
    async with db.transaction() as s:
        await s.execute(
            text("UPDATE calls SET recording_path = '../secret.ogg' WHERE id = :id"), {"id": call_id}
        )
    escaped = await client.get(f"/api/v1/calls/{call_id}/recording", headers=auth(keys["supervisor"]))
    assert escaped.status_code == 404
    unknown = await client.get(f"/api/v1/calls/{uuid.uuid4()}/recording", headers=auth(keys["supervisor"]))
    assert unknown.status_code == 404


async def test_transcript_and_call_detail(client, keys, db, api_settings):
    call_id = await _call_with_recording(db, api_settings)
    async with db.transaction() as s:
        await s.execute(
            text(
                "INSERT INTO tickets (number, category, priority, address, description, status, call_id) "
                "VALUES ('24005', 'leak', 'routine', '', '', 'new', :id)"
            ),
            {"id": call_id},
        )
    transcript = (
        await client.get(f"/api/v1/calls/{call_id}/transcript", headers=auth(keys["supervisor"]))
    ).json()
    assert transcript["text"] == "БОТ: Здравствуйте!\nАБОНЕНТ: у нас течёт"
    detail = (await client.get(f"/api/v1/calls/{call_id}", headers=auth(keys["supervisor"]))).json()
    assert [t["seq"] for t in detail["turns"]] == [1, 2]
    assert detail["records"]["tickets"][0]["number"] == "24005"
    listed = (
        await client.get(
            "/api/v1/calls?outcome=ticket_created&direction=inbound&phone=%2B79161110001",
            headers=auth(keys["supervisor"]),
        )
    ).json()
    assert listed["total"] == 1 and listed["items"][0]["id"] == str(call_id)
    none = (await client.get("/api/v1/calls?scenario=debt_reminder", headers=auth(keys["supervisor"]))).json()
    assert none["total"] == 0


def test_stored_path_forms(tmp_path, monkeypatch):
    from voicebot.services.recordings import recording_file

    monkeypatch.chdir(tmp_path)
    root = tmp_path / "var" / "recordings"
    (root / "2025").mkdir(parents=True)
    (root / "2025" / "a.ogg").write_bytes(b"x")
    expected = (root / "2025" / "a.ogg").resolve()
    assert recording_file(root, str(expected)) == expected  # absolute
    assert recording_file(Path("var/recordings"), "var/recordings/2025/a.ogg") == expected  # cwd-relative
    assert recording_file(root, "2025/a.ogg") == expected  # folder-relative
    with pytest.raises(ApiError):
        recording_file(root, str(tmp_path / "elsewhere.ogg"))


async def _audit_rows(db) -> list:
    async with db.session() as s:
        return list(
            (
                await s.execute(text("SELECT actor, action, details, remote_addr FROM audit_log ORDER BY id"))
            ).all()
        )


async def test_every_byte_is_audited_whatever_the_range_or_method(client, keys, db, api_settings):
    call_id = await _call_with_recording(db, api_settings)
    url, key = f"/api/v1/calls/{call_id}/recording", auth(keys["supervisor"])
    rebuilt = b""
    for spec in ("bytes=1-", "bytes=0-0", "bytes=-5", "bytes=100-199"):
        response = await client.get(url, headers={**key, "Range": spec})
        assert response.status_code == 206
        rebuilt += response.content
    head = await client.head(url, headers=key)
    assert (
        head.status_code == 200 and head.content == b"" and head.headers["content-length"] == str(len(AUDIO))
    )
    rows = await _audit_rows(db)
    assert [r.details["bytes"] for r in rows] == [[1, len(AUDIO) - 1], [0, 0], [len(AUDIO) - 5, len(AUDIO) - 1],
                                                  [100, 199], []]  # fmt: skip
    assert [r.details["method"] for r in rows] == ["GET"] * 4 + ["HEAD"]
    assert all(r.action == "recording.listen" and "test supervisor" in r.actor for r in rows)
    assert len(rebuilt) == (len(AUDIO) - 1) + 1 + 5 + 100  # what was served is exactly what was audited


async def test_failed_listens_are_audited_too(client, keys, db, api_settings):
    call_id = await _call_with_recording(db, api_settings)
    url = f"/api/v1/calls/{call_id}/recording"
    assert (await client.get(url, headers=auth(keys["staff"]))).status_code == 403
    assert (await client.get(url, headers=auth(keys["supervisor"][:-3] + "xyz"))).status_code == 401
    assert (
        await client.get(url, headers={**auth(keys["supervisor"]), "Range": "bytes=99999-"})
    ).status_code == 416
    missing = f"/api/v1/calls/{uuid.uuid4()}/recording"
    assert (await client.get(missing, headers=auth(keys["supervisor"]))).status_code == 404
    rows = await _audit_rows(db)
    assert [(r.action, r.details["status"]) for r in rows] == [
        ("recording.denied", 403), ("recording.denied", 401), ("recording.denied", 416), ("recording.denied", 404)
    ]  # fmt: skip
    assert "test staff" in rows[0].actor and rows[1].actor == "unauthenticated"


async def test_the_audit_address_ignores_x_forwarded_for_from_untrusted_peers(client, keys, db, api_settings):
    call_id = await _call_with_recording(db, api_settings)
    headers = {**auth(keys["supervisor"]), "X-Forwarded-For": "198.51.100.66"}
    await client.get(f"/api/v1/calls/{call_id}/recording", headers=headers)
    assert [r.remote_addr for r in await _audit_rows(db)] == ["127.0.0.1"]
