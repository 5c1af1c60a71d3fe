"""AMIClient against the AMI emulator: login, action matching, events, originate outcomes, reconnect."""

import asyncio
import logging
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from voicebot.asterisk.ami import (
    AMIActionError,
    AMIClient,
    AMIConnectionLost,
    AMIMessage,
    AuthenticationFailed,
    Backoff,
    OriginateResult,
)

try:
    from tests.emulators.ami_server import AMIServerEmulator, OriginateScript
except ModuleNotFoundError:  # repository root not on sys.path (pytest without pythonpath=["."])
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    from tests.emulators.ami_server import AMIServerEmulator, OriginateScript

SECRET = "s3cret-value"


def fast_client(port: int, secret: str = SECRET, **kwargs: object) -> AMIClient:
    backoff = Backoff(initial=0.02, maximum=0.1)
    options = {"connect_timeout": 2.0, "action_timeout": 2.0, "backoff": backoff} | kwargs
    return AMIClient("127.0.0.1", port, "voicebot", secret, **options)  # type: ignore[arg-type]


@pytest.fixture
async def server() -> AsyncIterator[AMIServerEmulator]:
    emulator = AMIServerEmulator(secret=SECRET, auth_fail_delay=0.05, channelvars=["VOICEBOT_UUID"])
    async with emulator:
        yield emulator


@pytest.fixture
async def client(server: AMIServerEmulator) -> AsyncIterator[AMIClient]:
    ami = fast_client(server.port)
    await ami.connect()
    yield ami
    await ami.close()


async def test_login_reads_banner_and_pings(client: AMIClient, server: AMIServerEmulator) -> None:
    assert client.banner == "Asterisk Call Manager/11.0.0"
    assert client.connected and server.logins == 1
    response = await client.ping()
    assert response.get("Ping") == "Pong"
    login = server.actions[0]
    assert ("Action", "Login") in login and ("Secret", SECRET) in login


async def test_wrong_secret_raises_typed_error_without_leaking_it(
    server: AMIServerEmulator, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    ami = fast_client(server.port, secret="wrong-pass-123")
    with pytest.raises(AuthenticationFailed) as info:
        await ami.connect()
    assert "wrong-pass-123" not in str(info.value)
    assert "wrong-pass-123" not in caplog.text
    assert not ami.connected and server.failed_logins == 1
    await ami.close()


def test_message_repr_hides_secret() -> None:
    message = AMIMessage([("Action", "Login"), ("Secret", "hunter2")])
    assert "hunter2" not in repr(message)


async def test_concurrent_actions_are_matched_by_action_id(
    client: AMIClient, server: AMIServerEmulator
) -> None:
    server.global_vars.update({f"V{i}": f"value-{i}" for i in range(20)})
    values = await asyncio.gather(*(client.getvar(f"V{i}") for i in range(20)))
    assert values == [f"value-{i}" for i in range(20)]
    action_ids = {dict(action).get("ActionID") for action in server.actions}
    assert len(action_ids) == len(server.actions)


async def test_error_response_raises_action_error(client: AMIClient) -> None:
    with pytest.raises(AMIActionError, match="Invalid/unknown command: NoSuchThing"):
        await client.action("NoSuchThing")
    with pytest.raises(AMIActionError, match="No such channel"):
        await client.hangup("PJSIP/nobody-00000001")


async def test_line_break_in_a_value_is_refused(client: AMIClient) -> None:
    with pytest.raises(ValueError, match="line break"):
        await client.setvar("X", "a\r\nAction: Hangup")


async def test_command_and_list_action(client: AMIClient, server: AMIServerEmulator) -> None:
    assert await client.command("core show version") == ["Asterisk 22.10.1 built by emulator"]
    call = await client.originate(channel="Local/s@voicebot", context="caller-sim", exten="tone")
    await call.wait()
    listing = await client.list_action("CoreShowChannels")
    assert sorted(event["Channel"] for event in listing) == sorted(server.channels)
    assert len(listing) == 2


async def test_stalled_action_times_out_and_is_forgotten(
    client: AMIClient, server: AMIServerEmulator
) -> None:
    server.stall_actions.add("ping")
    with pytest.raises(asyncio.TimeoutError):
        await client.action("Ping", response_timeout=0.1)
    assert client._pending == {}  # noqa: SLF001 - no leaked ActionID


@pytest.mark.parametrize(
    ("reason", "expected"),
    [
        (4, OriginateResult.ANSWERED),
        (5, OriginateResult.BUSY),
        (3, OriginateResult.NO_ANSWER),
        (1, OriginateResult.NO_ANSWER),
        (8, OriginateResult.CONGESTION),
        (0, OriginateResult.FAILED),
    ],
)
async def test_originate_outcomes(
    client: AMIClient, server: AMIServerEmulator, reason: int, expected: OriginateResult
) -> None:
    server.default_originate = OriginateScript(reason=reason, delay=0.02)
    seen: list[AMIMessage] = []
    client.on("OriginateResponse", seen.append)
    call = await client.originate(
        channel="PJSIP/trunk/sip:79990001122@provider",
        context="voicebot-outbound",
        exten="s",
        variables={"VOICEBOT_CAMPAIGN": "debt-7"},
        caller_id='"УК Уютный дом" <4951234567>',
        timeout=25,
    )
    assert not call.done  # returned on "queued", before the outcome
    outcome = await call.wait()
    assert outcome.result is expected and outcome.reason == reason
    assert outcome.call_id == call.call_id
    assert [event["ActionID"] for event in seen] == [call.action_id]

    sent = dict(server.actions[-1])
    variables = [value for key, value in server.actions[-1] if key == "Variable"]
    assert variables == [f"VOICEBOT_UUID={call.call_id}", "VOICEBOT_CAMPAIGN=debt-7"]
    assert sent["Async"] == "true" and sent["Timeout"] == "25000"


async def test_async_event_handlers_and_catch_all(client: AMIClient, server: AMIServerEmulator) -> None:
    got: asyncio.Queue[str] = asyncio.Queue()

    async def on_abandon(event: AMIMessage) -> None:
        await got.put(f"abandon:{event['Uniqueid']}")

    names: list[str] = []
    client.on("queuecallerabandon", on_abandon)
    unsubscribe = client.on_any(lambda event: names.append(event.event or ""))
    server.inject_event("QueueCallerAbandon", [("Queue", "operators"), ("Uniqueid", "171.5")], "agent,all")
    assert await asyncio.wait_for(got.get(), 1) == "abandon:171.5"
    assert names == ["QueueCallerAbandon"]
    unsubscribe()
    server.inject_event("QueueCallerAbandon", [("Uniqueid", "171.6")], "agent,all")
    assert await asyncio.wait_for(got.get(), 1) == "abandon:171.6"
    assert names == ["QueueCallerAbandon"]


async def test_failing_handler_does_not_break_the_client(
    client: AMIClient, server: AMIServerEmulator
) -> None:
    def broken(event: AMIMessage) -> None:
        raise RuntimeError("handler bug")

    client.on_any(broken)
    server.inject_event("Newexten", [("Uniqueid", "1.1")])
    assert (await client.ping()).success


async def test_redirect_and_hangup(client: AMIClient, server: AMIServerEmulator) -> None:
    call = await client.originate(channel="Local/s@voicebot", context="caller-sim", exten="tone")
    outcome = await call.wait()
    leg2 = outcome.channel.replace(";1", ";2")  # type: ignore[union-attr]
    response = await client.redirect(leg2, "voicebot-transfer", "operators", 1)
    assert response.get("Message") == "Redirect successful"
    assert server.channels[leg2].context == "voicebot-transfer"
    assert await client.getvar("VOICEBOT_UUID", leg2) == call.call_id
    await client.setvar("VOICEBOT_ACTION", "transfer", leg2)
    assert server.channels[leg2].variables["VOICEBOT_ACTION"] == "transfer"
    assert (await client.hangup(outcome.channel or "", 16)).get("Message") == "Channel Hungup"
    assert server.channels == {}


async def test_reconnects_after_the_connection_drops(client: AMIClient, server: AMIServerEmulator) -> None:
    stalled = asyncio.create_task(client.action("Ping", response_timeout=5))
    server.stall_actions.add("ping")
    await asyncio.sleep(0.05)
    server.drop_connections()
    with pytest.raises(AMIConnectionLost):
        await stalled
    server.stall_actions.clear()
    await asyncio.wait_for(client.wait_connected(), 2)
    assert server.logins == 2 and client.connections == 2
    assert (await client.ping()).success


async def test_reconnect_waits_out_an_asterisk_restart(server: AMIServerEmulator) -> None:
    ami = fast_client(server.port)
    await ami.connect()
    port = server.port
    await server.stop_listening()
    server.drop_connections()
    await asyncio.sleep(0.3)  # several refused attempts with backoff
    assert not ami.connected
    await server.start(port=port)
    await asyncio.wait_for(ami.wait_connected(), 2)
    assert (await ami.ping()).success
    await ami.close()


async def test_ping_timeout_forces_a_reconnect(server: AMIServerEmulator) -> None:
    ami = fast_client(server.port, ping_interval=0.05, action_timeout=0.1)
    await ami.connect()
    server.stall_actions.add("ping")
    await asyncio.sleep(0.3)
    server.stall_actions.clear()
    await asyncio.wait_for(ami.wait_connected(), 2)
    assert server.logins >= 2
    await ami.close()


def test_backoff_grows_exponentially_with_jitter_and_a_cap() -> None:
    low = Backoff(initial=1, maximum=8, rng=lambda: 0.0)
    assert [low.next_delay() for _ in range(6)] == [0.5, 1, 2, 4, 4, 4]
    high = Backoff(initial=1, maximum=8, rng=lambda: 1.0)
    assert [high.next_delay() for _ in range(5)] == [1, 2, 4, 8, 8]
    high.reset()
    assert high.next_delay() == 1


async def test_not_connected_action_raises(server: AMIServerEmulator) -> None:
    ami = fast_client(server.port)
    with pytest.raises(AMIConnectionLost):
        await ami.ping()


async def test_originate_without_response_becomes_unknown(server: AMIServerEmulator) -> None:
    ami = fast_client(server.port, originate_grace=0.1)
    await ami.connect()
    server.default_originate = OriginateScript(reason=4, delay=5)
    call = await ami.originate(channel="PJSIP/slow", context="voicebot-outbound", exten="s", timeout=0.1)
    outcome = await asyncio.wait_for(call.wait(), 2)
    assert outcome.result is OriginateResult.UNKNOWN and outcome.call_id == call.call_id
    await ami.close()


async def test_queue_error_raises_and_forgets_the_originate(
    client: AMIClient, server: AMIServerEmulator
) -> None:
    server.default_originate = OriginateScript(queue_error="Extension does not exist.")
    with pytest.raises(AMIActionError, match="Extension does not exist"):
        await client.originate(channel="PJSIP/x", context="nowhere", exten="s")
    assert client._originates == {}  # noqa: SLF001


def test_originate_request_validation() -> None:
    from voicebot.asterisk.ami import OriginateRequest

    with pytest.raises(ValueError, match="context and exten"):
        OriginateRequest(channel="PJSIP/x")
    with pytest.raises(ValueError, match="not both"):
        OriginateRequest(channel="PJSIP/x", application="Playback", context="c", exten="s")
    with pytest.raises(ValueError, match="VOICEBOT_UUID"):
        OriginateRequest(
            channel="PJSIP/x", context="c", exten="s", call_id="a", variables={"VOICEBOT_UUID": "b"}
        )
    with pytest.raises(ValueError, match="variable name"):
        OriginateRequest(channel="PJSIP/x", context="c", exten="s", variables={"BAD=NAME": "1"})
    request = OriginateRequest(channel="PJSIP/x", application="Playback", data="hello", call_id="abc")
    assert ("Application", "Playback") in request.fields("id-1")
    assert ("Variable", "VOICEBOT_UUID=abc") in request.fields("id-1")


async def test_a_peer_that_is_not_asterisk_is_refused() -> None:
    from voicebot.asterisk.ami import AMIProtocolError

    async def http(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"HTTP/1.1 400 Bad Request\r\n\r\n")
        await writer.drain()
        await reader.read()
        writer.close()

    server = await asyncio.start_server(http, "127.0.0.1", 0)
    ami = fast_client(server.sockets[0].getsockname()[1])
    with pytest.raises(AMIProtocolError, match="not an Asterisk manager banner"):
        await ami.connect()
    server.close()
    await server.wait_closed()
