"""How the bot leaves a call: its goodbye is told to the dialplan before the leg ends (a leg that ends
without it is a crash for telephony/extensions.conf), and overflow answers count as a goodbye too."""

from __future__ import annotations

import uuid

from tests.emulators.audiosocket_peer import AudioSocketPeer


async def test_the_goodbye_is_told_before_the_leg_ends(db, make_engine, audiosocket) -> None:  # noqa: ANN001
    told: list[tuple[uuid.UUID, str, str | None, bool]] = []
    peers: list[AudioSocketPeer] = []

    async def leave(call_id: uuid.UUID, action: str, target: str | None) -> bool:
        told.append((call_id, action, target, peers[0].ended))
        return True

    engine = make_engine(on_leave=leave)
    server = await audiosocket(engine)
    call_id = uuid.uuid4()
    engine.registry.announce(call_id, "voicebye", "+79160000001", direction="inbound")
    peers.append(await AudioSocketPeer("127.0.0.1", server.bound_port, call_uuid=call_id).connect())
    assert await peers[0].wait_ended(20) == "bot_hangup"
    assert told == [(call_id, "hangup", None, False)]  # told while the leg was still up


async def test_an_overflow_answer_is_a_goodbye_too(db, make_engine, audiosocket) -> None:  # noqa: ANN001
    told: list[str] = []

    async def leave(call_id: uuid.UUID, action: str, target: str | None) -> bool:
        told.append(action)
        return True

    engine = make_engine(max_dialogues=0, on_leave=leave)
    server = await audiosocket(engine)
    call_id = uuid.uuid4()
    engine.registry.announce(call_id, "voicebye", "+79160000002", direction="inbound")
    peer = await AudioSocketPeer("127.0.0.1", server.bound_port, call_uuid=call_id).connect()
    assert await peer.wait_ended(30) == "bot_hangup"
    assert told == ["hangup"]
