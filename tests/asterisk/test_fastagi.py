"""FastAGIServer against the Asterisk AGI emulator."""

import asyncio
import logging
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from voicebot.asterisk.fastagi import (
    AGIChannel,
    AGIConnectionClosed,
    AGIDeadChannel,
    AGIInvalidCommand,
    AGIProtocolError,
    AGIRequest,
    AGIResponse,
    AGIUsageError,
    FastAGIServer,
)

try:
    from tests.emulators.agi_client import AGIClientEmulator, HangupScript
except ModuleNotFoundError:  # repository root not on sys.path (pytest without pythonpath=["."])
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    from tests.emulators.agi_client import AGIClientEmulator, HangupScript


class Recorder:
    """Collects what handlers saw; handlers put their final state here."""

    def __init__(self) -> None:
        self.requests: list[AGIRequest] = []
        self.results: asyncio.Queue[object] = asyncio.Queue()


async def inbound_example(request: AGIRequest, channel: AGIChannel) -> None:
    """An example of what the inbound routing handler looks like: read the caller, decide, set variables."""
    call_id = "0b5e2f7c-6c55-4cf4-9d2e-5b8a0c1d2e3f"
    action = "dialogue" if request.callerid else "overflow"
    await channel.set_variable("VOICEBOT_UUID", call_id)
    await channel.set_variable("VOICEBOT_ACTION", action)


@pytest.fixture
async def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
async def server(recorder: Recorder) -> AsyncIterator[FastAGIServer]:
    async def dialogue(request: AGIRequest, channel: AGIChannel) -> None:
        recorder.requests.append(request)
        results = [
            await channel.answer(),
            await channel.get_variable("CHANNEL"),
            await channel.get_variable("NOPE"),
        ]
        await recorder.results.put(results)

    agi = FastAGIServer({"inbound": inbound_example, "/dialogue/": dialogue}, host="127.0.0.1", port=0)
    async with agi:
        yield agi


async def test_header_is_parsed_into_a_request(server: FastAGIServer, recorder: Recorder) -> None:
    peer = AGIClientEmulator("127.0.0.1", server.port, script="dialogue", args=["first arg", "2"])
    await peer.run()
    [request] = recorder.requests
    assert request.network_script == "dialogue"
    assert request.args == ("first arg", "2")
    assert request.callerid == "79161234567" and request.calleridname is None
    assert request.dnid == "74951234567" and request.rdnis is None
    assert request.channel == "PJSIP/trunk-00000007" and request.uniqueid == "1795316510.28"
    assert request.extension == "74951234567" and request.context == "voicebot-inbound"
    assert request.get("accountcode") == "" and request.get("version") == "22.10.1"
    assert request.variables["agi_request"] == f"agi://127.0.0.1:{server.port}/dialogue"
    answer, channel_name, unset = await recorder.results.get()
    assert answer == AGIResponse(200, "0", text="200 result=0")
    assert channel_name == "PJSIP/trunk-00000007" and unset is None
    assert peer.closed_by_server


async def test_example_inbound_handler_sets_variables(server: FastAGIServer) -> None:
    peer = AGIClientEmulator("127.0.0.1", server.port, script="inbound")
    await peer.run()
    assert peer.commands == [
        'SET VARIABLE VOICEBOT_UUID "0b5e2f7c-6c55-4cf4-9d2e-5b8a0c1d2e3f"',
        'SET VARIABLE VOICEBOT_ACTION "dialogue"',
    ]
    assert peer.variables["VOICEBOT_ACTION"] == "dialogue"


def test_reply_lines_parse() -> None:
    reply = AGIResponse.parse("200 result=1 (Local/agi@voicebot-0000000c;2)")
    assert (reply.code, reply.result, reply.data) == (200, "1", "Local/agi@voicebot-0000000c;2")
    reply = AGIResponse.parse("200 result=0 endpos=16000")
    assert (reply.result, reply.endpos, reply.data) == ("0", 16000, None)
    assert AGIResponse.parse("200 result=0012").result == "0012"
    assert AGIResponse.parse("200 result=1 (a (b) c) endpos=5").data == "a (b) c"
    assert AGIResponse.parse("510 Invalid or unknown command").code == 510
    with pytest.raises(AGIProtocolError):
        AGIResponse.parse("garbage")


async def run_with(handler, **peer_options) -> tuple[AGIClientEmulator, list[object]]:  # type: ignore[no-untyped-def]
    seen: list[object] = []

    async def wrapped(request: AGIRequest, channel: AGIChannel) -> None:
        await handler(channel, seen)

    async with FastAGIServer({"t": wrapped}, host="127.0.0.1", port=0) as agi:
        peer = AGIClientEmulator("127.0.0.1", agi.port, script="t", **peer_options)
        await asyncio.wait_for(peer.run(), 5)
    return peer, seen


async def test_error_replies_raise_typed_errors() -> None:
    async def handler(channel: AGIChannel, seen: list[object]) -> None:
        for command in ("FROB THE KNOB", "GET VARIABLE", "GET VARIABLE A B"):
            try:
                await channel.command(command)
            except (AGIInvalidCommand, AGIUsageError) as exc:
                seen.append((type(exc).__name__, exc.response.code, exc.response.text))
        seen.append(await channel.command("FROB", check=False))

    peer, seen = await run_with(handler)
    assert seen[0] == ("AGIInvalidCommand", 510, "510 Invalid or unknown command")
    assert seen[1][:2] == ("AGIUsageError", 520)  # type: ignore[index]
    assert seen[3] == AGIResponse(510, text="510 Invalid or unknown command")


async def test_multiline_usage_reply_is_one_response() -> None:
    async def handler(channel: AGIChannel, seen: list[object]) -> None:
        with pytest.raises(AGIUsageError) as info:
            await channel.command("GET VARIABLE")
        seen.append(info.value.response)
        seen.append(await channel.noop())  # the stream is still in step afterwards

    peer, seen = await run_with(handler, usage_multiline=True)
    usage, noop = seen
    assert usage.code == 520 and usage.text.endswith("520 End of proper usage.")  # type: ignore[attr-defined]
    assert len(usage.text.splitlines()) == 4  # type: ignore[attr-defined]
    assert noop == AGIResponse(200, "0", text="200 result=0")


async def test_inline_hangup_after_the_pending_reply() -> None:
    async def handler(channel: AGIChannel, seen: list[object]) -> None:
        await channel.answer()
        seen.append(await channel.exec("Wait", "5"))
        await asyncio.wait_for(channel.wait_hangup(), 1)
        seen.append(channel.hung_up)
        # dead AGI: permitted commands keep working and stay in step; others answer 511
        seen.append(await channel.get_variable("CHANNEL"))
        with pytest.raises(AGIDeadChannel):
            await channel.stream_file("hello-world")
        seen.append(await channel.verbose("after hangup"))

    peer, seen = await run_with(handler, hangup=HangupScript(on="EXEC WAIT"))
    assert seen[0] == AGIResponse(200, "-1", text="200 result=-1")
    assert seen[1] is True
    assert seen[2] == "PJSIP/trunk-00000007"
    assert seen[3] == AGIResponse(200, "1", text="200 result=1")
    assert peer.commands[1] == 'EXEC Wait "5"'
    assert peer.closed_by_server and peer.server_closed_after is not None and peer.server_closed_after < 1


async def test_handler_hangup_command() -> None:
    async def handler(channel: AGIChannel, seen: list[object]) -> None:
        await channel.hangup()
        await asyncio.wait_for(channel.wait_hangup(), 1)
        seen.append(channel.hung_up)

    peer, seen = await run_with(handler)
    assert seen == [True] and peer.sent == ["200 result=1", "HANGUP"]


async def test_quoting_survives_spaces_and_quotes() -> None:
    async def handler(channel: AGIChannel, seen: list[object]) -> None:
        await channel.set_variable("GREETING", 'say "привет" \\ bye')
        seen.append(await channel.get_variable("GREETING"))

    peer, seen = await run_with(handler)
    assert seen == ['say "привет" \\ bye']


async def test_peer_closing_mid_dialogue_fails_the_command(caplog: pytest.LogCaptureFixture) -> None:
    outcome: asyncio.Queue[object] = asyncio.Queue()

    async def handler(request: AGIRequest, channel: AGIChannel) -> None:
        try:
            await channel.answer()
        except AGIConnectionClosed as exc:
            await outcome.put(exc)

    async with FastAGIServer({"t": handler}, host="127.0.0.1", port=0) as agi:
        peer = AGIClientEmulator("127.0.0.1", agi.port, script="t")
        await peer.run(close_after_header=True)
        assert isinstance(await asyncio.wait_for(outcome.get(), 2), AGIConnectionClosed)


async def test_early_close_and_garbage_do_not_spin_or_crash(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    handled: list[AGIRequest] = []

    async def handler(request: AGIRequest, channel: AGIChannel) -> None:
        handled.append(request)

    async with FastAGIServer({"inbound": handler}, host="127.0.0.1", port=0, header_timeout=0.5) as agi:
        peer = AGIClientEmulator("127.0.0.1", agi.port)
        cpu_before, wall_before = time.process_time(), time.monotonic()
        await peer.close_early(header_lines=3)
        await peer.run(header=b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        await peer.run(header=b"\x16\x03\x01\x02\x00" + b"\xff" * 20000)  # a TLS hello / binary junk
        await peer.run(header=["agi_network: yes", "this is not agi"])
        reader, writer = await asyncio.open_connection("127.0.0.1", agi.port)  # silent peer
        await asyncio.sleep(0.7)
        cpu = time.process_time() - cpu_before
        wall = time.monotonic() - wall_before
        assert await asyncio.wait_for(reader.read(), 1) == b""  # closed by the header timeout
        writer.close()
        assert handled == []
        # a busy loop would burn the whole wall time; waiting on sockets costs next to nothing
        assert cpu < 0.35 * wall, (cpu, wall)
        # and the server still serves real calls afterwards
        await AGIClientEmulator("127.0.0.1", agi.port).run()
        assert len(handled) == 1
    assert "FastAGI session refused" in caplog.text


async def test_unknown_script_is_closed_without_commands(server: FastAGIServer) -> None:
    peer = AGIClientEmulator("127.0.0.1", server.port, script="nowhere")
    await peer.run()
    assert peer.commands == [] and peer.closed_by_server


def test_plain_function_handler_is_rejected() -> None:
    def not_async(request: AGIRequest, channel: AGIChannel) -> None:
        return None

    with pytest.raises(TypeError, match="async def"):
        FastAGIServer({"inbound": not_async})  # type: ignore[dict-item]
    agi = FastAGIServer()
    with pytest.raises(TypeError, match="async def"):
        agi.route("x", lambda request, channel: None)  # type: ignore[arg-type,return-value]

    class AsyncCallable:
        async def __call__(self, request: AGIRequest, channel: AGIChannel) -> None:
            return None

    agi.route("ok", AsyncCallable())


async def test_handler_exception_is_contained(
    server: FastAGIServer, caplog: pytest.LogCaptureFixture
) -> None:
    async def broken(request: AGIRequest, channel: AGIChannel) -> None:
        raise RuntimeError("boom")

    server.route("broken", broken)
    peer = AGIClientEmulator("127.0.0.1", server.port, script="broken")
    await peer.run()
    assert peer.closed_by_server and "FastAGI handler failed" in caplog.text
    await AGIClientEmulator("127.0.0.1", server.port, script="inbound").run()


async def test_command_injection_is_refused() -> None:
    async def handler(channel: AGIChannel, seen: list[object]) -> None:
        with pytest.raises(ValueError):
            await channel.command("NOOP\nHANGUP")
        with pytest.raises(ValueError):
            await channel.set_variable("A B", "x")
        seen.append("ok")

    peer, seen = await run_with(handler)
    assert seen == ["ok"] and peer.commands == []


async def test_abandoned_command_does_not_shift_later_replies() -> None:
    async def handler(channel: AGIChannel, seen: list[object]) -> None:
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(0.05):
                await channel.exec("Wait", "5")
        seen.append(await channel.get_variable("CHANNEL"))
        seen.append(channel.hung_up)

    peer, seen = await run_with(handler, hangup=HangupScript(on="EXEC WAIT", delay=0.2))
    assert seen == ["PJSIP/trunk-00000007", True]
