"""CallStateTracker: from AMI events to calls keyed by our call id, Uniqueid and Linkedid."""

import asyncio
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from voicebot.asterisk.ami import AMIClient, AMIMessage, Backoff, OriginateResult
from voicebot.asterisk.ami_calls import CallState, CallStateTracker

try:
    from tests.emulators.ami_server import AMIServerEmulator, OriginateScript
except ModuleNotFoundError:  # repository root not on sys.path (pytest without pythonpath=["."])
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    from tests.emulators.ami_server import AMIServerEmulator, OriginateScript


@pytest.fixture
async def setup() -> AsyncIterator[
    tuple[AMIServerEmulator, AMIClient, CallStateTracker, asyncio.Queue[CallState]]
]:
    server = AMIServerEmulator(secret="pw", auth_fail_delay=0.01)
    await server.start()
    client = AMIClient("127.0.0.1", server.port, "voicebot", "pw", backoff=Backoff(initial=0.02))
    tracker = CallStateTracker()
    ended: asyncio.Queue[CallState] = asyncio.Queue()
    tracker.on_end(ended.put_nowait)
    tracker.attach(client)
    await client.connect()
    yield server, client, tracker, ended
    await client.close()
    await server.close()


async def test_local_pair_is_one_call_with_our_id(setup) -> None:  # type: ignore[no-untyped-def]
    server, client, tracker, ended = setup
    call = await client.originate(channel="Local/s@voicebot-outbound", context="caller-sim", exten="tone")
    outcome = await call.wait()
    state = tracker.get(call.call_id)
    assert state is not None and state.answered
    assert len(state.channels) == 2 and state.originate_result is OriginateResult.ANSWERED
    leg1, leg2 = sorted(state.channels.values(), key=lambda ch: ch.name)
    assert leg1.name.endswith(";1") and leg2.name.endswith(";2")
    assert leg2.linkedid == leg1.uniqueid == outcome.uniqueid
    assert tracker.get(leg2.uniqueid) is state and tracker.get(leg1.linkedid) is state
    assert state.variables["VOICEBOT_UUID"] == call.call_id

    server.hangup_channel(leg2.name, 16)  # the bot ended the call on the ;2 side
    finished = await asyncio.wait_for(ended.get(), 1)
    assert finished is state and finished.ended
    assert finished.hangup_cause == 16 and finished.hangup_cause_txt == "Normal Clearing"
    assert not tracker.active_calls
    assert tracker.get(call.call_id) is state  # still answerable for a while after the end


async def test_channel_ids_become_uniqueids(setup) -> None:  # type: ignore[no-untyped-def]
    server, client, tracker, ended = setup
    call = await client.originate(
        channel="Local/s@voicebot-outbound",
        context="caller-sim",
        exten="tone",
        channel_id="11111111-2222-3333-4444-555555555555",
        other_channel_id="66666666-7777-8888-9999-000000000000",
    )
    await call.wait()
    state = tracker.get("66666666-7777-8888-9999-000000000000")
    assert state is not None and state.call_id == call.call_id
    assert state.linkedid == "11111111-2222-3333-4444-555555555555"


async def test_busy_originate_ends_with_outcome(setup) -> None:  # type: ignore[no-untyped-def]
    server, client, tracker, ended = setup
    server.default_originate = OriginateScript(reason=5, delay=0.01)
    call = await client.originate(channel="PJSIP/trunk/sip:100@pbx", context="voicebot-outbound", exten="s")
    outcome = await call.wait()
    assert outcome.result is OriginateResult.BUSY
    finished = await asyncio.wait_for(ended.get(), 1)
    # the leg hung up (cause 17) before the OriginateResponse: the record is completed afterwards
    assert finished.hangup_cause == 17
    await asyncio.sleep(0.01)
    assert finished.originate_result is OriginateResult.BUSY and finished.call_id == call.call_id


async def test_failed_originate_without_channel_still_reports(setup) -> None:  # type: ignore[no-untyped-def]
    server, client, tracker, ended = setup
    server.default_originate = OriginateScript(reason=0)
    call = await client.originate(channel="PJSIP/nowhere", context="voicebot-outbound", exten="s")
    assert (await call.wait()).result is OriginateResult.FAILED
    finished = await asyncio.wait_for(ended.get(), 1)
    assert finished.call_id == call.call_id and finished.originate_result is OriginateResult.FAILED
    assert finished.channels == {}


def event(name: str, **fields: str) -> AMIMessage:
    return AMIMessage([("Event", name), *((key.replace("_", "-"), value) for key, value in fields.items())])


def test_inbound_call_abandoned_in_queue() -> None:
    tracker = CallStateTracker()
    ended: list[CallState] = []
    tracker.on_end(ended.append)
    tracker.handle(event("Newchannel", Channel="PJSIP/trunk-00000001", Uniqueid="10.1", Linkedid="10.1"))
    tracker.handle(event("Newstate", Channel="PJSIP/trunk-00000001", Uniqueid="10.1", Linkedid="10.1",
                         ChannelStateDesc="Up"))  # fmt: skip
    tracker.handle(event("VarSet", Channel="PJSIP/trunk-00000001", Uniqueid="10.1", Variable="VOICEBOT_UUID",
                         Value="c0ffee00-0000-4000-8000-000000000001"))  # fmt: skip
    tracker.handle(event("VarSet", Uniqueid="10.1", Variable="VOICEBOT_ACTION", Value="overflow"))
    tracker.handle(event("VarSet", Uniqueid="10.1", Variable="OTHER", Value="ignored"))
    tracker.handle(event("QueueCallerAbandon", Queue="operators", Uniqueid="10.1"))
    tracker.handle(event("Hangup", Channel="PJSIP/trunk-00000001", Uniqueid="10.1", Linkedid="10.1",
                         Cause="16", Cause_txt="Normal Clearing"))  # fmt: skip
    [call] = ended
    assert call.call_id == "c0ffee00-0000-4000-8000-000000000001"
    assert call.abandoned and call.answered
    assert call.variables == {"VOICEBOT_UUID": call.call_id, "VOICEBOT_ACTION": "overflow"}
    assert call.hangup_cause_txt == "Normal Clearing"


def test_bridged_channels_merge_into_the_older_call() -> None:
    tracker = CallStateTracker()
    tracker.handle(event("Newchannel", Channel="PJSIP/a-1", Uniqueid="1.1", Linkedid="1.1"))
    tracker.handle(event("Newchannel", Channel="PJSIP/b-2", Uniqueid="2.2", Linkedid="2.2"))
    tracker.handle(
        event("Newstate", Channel="PJSIP/b-2", Uniqueid="2.2", Linkedid="1.1", ChannelStateDesc="Up")
    )
    state = tracker.get("1.1")
    assert state is not None and tracker.get("2.2") is state and len(state.channels) == 2
    assert len(tracker.active_calls) == 1


def test_malformed_and_unknown_events_are_ignored() -> None:
    tracker = CallStateTracker()
    tracker.handle(event("Newchannel", Channel="PJSIP/x-1"))  # no Uniqueid
    tracker.handle(event("Hangup", Uniqueid="nobody"))
    tracker.handle(AMIMessage([("Response", "Success")]))
    assert tracker.active_calls == []
