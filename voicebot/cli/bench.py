"""`voicebot bench`: benchmarks that print numbers (`calls`: the voice channel under load)."""

from __future__ import annotations

import asyncio
import json

import typer

from voicebot.cli.common import run_with_database, setup

app = typer.Typer(no_args_is_help=True)


@app.command("calls")
def calls(
    concurrency: int = typer.Option(30, "--concurrency", "-n", min=1, help="Simultaneous emulated calls"),
    duration: float = typer.Option(60.0, "--duration", "-d", min=10.0, help="Seconds to keep calling"),
    as_json: bool = typer.Option(False, "--json", help="Last line: one JSON object with the results"),
    no_vad: bool = typer.Option(False, "--no-vad", help="Feed the recogniser all audio (no VAD gating)"),
    host: str = typer.Option(
        None, "--host", help="Call a running AudioSocket server instead of starting one"
    ),
    port: int = typer.Option(9092, "--port", help="Port of the running server (with --host)"),
    trailing_silence_ms: int = typer.Option(
        None, "--trailing-silence-ms", help="End-of-turn silence (default VOICEBOT_VOICE_TRAILING_SILENCE_MS)"
    ),
    ramp: float = typer.Option(10.0, "--ramp", min=0.0, help="Seconds over which the calls start"),
    speech_share: float = typer.Option(
        0.3, "--speech-share", min=0.05, max=1.0, help="Largest share of a call the caller talks"
    ),
    find_max: bool = typer.Option(
        False, "--find-max", help="Sweep: the largest concurrency meeting the target (starts at -n 10)"
    ),
    p95: float = typer.Option(900.0, "--p95", min=1.0, help="Target p95 latency in ms for --find-max"),
) -> None:
    """Run N emulated Asterisk calls (espeak-ng caller speech in real time) against the voice channel.

    Each caller utterance is matched to the reply made of it; one without a reply within 3 s is unanswered.
    Prints utterances/unanswered, latency of answered ones, CPU (children included), event-loop lag,
    memory, ASR real-time factor and the machine's load. Works in a scratch database it creates and drops.
    """
    from voicebot.bench.calls import BenchOptions, bench_calls
    from voicebot.bench.calls import find_max as sweep

    settings = setup(log_format="text")
    options = BenchOptions(
        concurrency,
        duration,
        not no_vad,
        host,
        port if host else None,
        trailing_silence_ms,
        ramp,
        speech_share,
    )
    say = (lambda m: typer.echo(m, err=True)) if as_json else typer.echo
    if find_max:
        if host:
            raise typer.BadParameter("--find-max runs its own server; drop --host")
        start = concurrency if concurrency != 30 else 10
        say(f"sweep from {start} calls, {duration:.0f} s each, target p95 {p95:.0f} ms…")
        result = asyncio.run(sweep(settings, options, p95, say, start=start))
        if as_json:
            typer.echo(json.dumps(result, ensure_ascii=False))
        else:
            typer.echo(f"max concurrency meeting the target: {result['max_concurrency']}")
        return
    say(f"{concurrency} calls for {duration:.0f} s, VAD gating {'off' if no_vad else 'on'}…")
    result = asyncio.run(bench_calls(settings, options, say))
    if as_json:
        typer.echo(json.dumps(result, ensure_ascii=False))
        return
    _print_calls(result)


def _print_calls(result: dict) -> None:
    lat = result["latency_ms"]
    typer.echo(f"calls completed {result['calls_completed']}, failed {result['calls_failed']}")
    typer.echo(
        f"caller utterances {result['utterances']}, unanswered {result['unanswered']} ({result['matching']})"
    )
    typer.echo(f"answer latency ms: p50 {lat['p50']}  p95 {lat['p95']}  p99 {lat['p99']}  max {lat['max']}")
    typer.echo(f"ASR real-time factor {result['asr_rtf']}")
    typer.echo(f"CPU per call {result['cpu_per_call']} cores (total {result['cpu_cores_total']})")
    if "event_loop_lag_ms" in result:
        lag, rss = result["event_loop_lag_ms"], result["rss_mb"]
        typer.echo(f"event-loop lag ms: p99 {lag['p99']}  max {lag['max']}")
        typer.echo(f"RSS MB: base {rss['base']}  peak {rss['peak']}  after calls {rss['after_calls']}")
        typer.echo(
            f"load average before {result['load_average_before']} after {result['load_average_after']}"
        )
    for failure in result["failures"]:
        typer.echo(f"failure: {failure}")


@app.command("burst")
def burst(
    callers: int = typer.Option(300, "--callers", "-n", min=1, help="Callers from the outage building"),
    within: float = typer.Option(60.0, "--within", min=1.0, help="Seconds over which they call"),
    ask_share: float = typer.Option(
        0.1, "--ask-share", min=0.0, max=1.0, help="Share of callers who ask for more (press a key)"
    ),
    as_json: bool = typer.Option(False, "--json", help="Last line: one JSON object with the results"),
) -> None:
    """An outage burst: N callers from one building within S seconds, through FastAGI and AudioSocket.

    Every caller must reach the bot and receive the whole cached announcement (checked frame by frame);
    the ones who ask for more compete for VOICEBOT_MAX_DIALOGUES slots. Prints answered/failed, what the
    server recorded, CPU, memory and the machine's load; exits 1 unless every caller was answered. Works
    in a scratch database it creates and drops.
    """
    from voicebot.bench.burst import bench_burst, meets

    settings = setup(log_format="text")
    say = (lambda m: typer.echo(m, err=True)) if as_json else typer.echo
    result = asyncio.run(bench_burst(settings, callers, within, ask_share, say))
    if as_json:
        typer.echo(json.dumps(result, ensure_ascii=False))
    else:
        rows, rss = result["rows"], result["rss_mb"]
        typer.echo(f"callers {result['callers']}: answered {result['answered']}, failed {result['failed']} "
                   f"{result['failures'] or ''}")  # fmt: skip
        typer.echo(f"asked for more {result['asked_for_more']}: dialogues {rows['dialogues']}, "
                   f"overflow {rows['overflow']}, callbacks queued {rows['callbacks_queued']}")  # fmt: skip
        typer.echo(
            f"first announcement audio ms: {result['first_audio_ms']}; peak calls {result['peak_concurrent_calls']}"
        )
        typer.echo(f"CPU {result['cpu_cores_total']} cores; RSS MB base {rss['base']} peak {rss['peak']} "
                   f"after {rss['after_calls']}; load {result['load_average_before']} -> {result['load_average_after']}")  # fmt: skip
    if not meets(result):
        raise typer.Exit(1)


@app.command("vosk")
def vosk(
    seconds: float = typer.Option(30.0, "--duration", "-d", min=5.0, help="Seconds to decode"),
    threads: int = typer.Option(None, "--threads", help="Decoding threads (default VOICEBOT_ASR_THREADS)"),
    share: float = typer.Option(
        0.3, "--speech-share", min=0.05, max=1.0, help="Share of a call callers talk"
    ),
    as_json: bool = typer.Option(False, "--json", help="Last line: one JSON object with the results"),
) -> None:
    """Raw Vosk throughput (warm recognisers, the bench caller phrase): the limit `bench calls` is judged by."""
    from voicebot.bench.vosk import bench_vosk

    settings = setup(log_format="text")
    say = (lambda m: typer.echo(m, err=True)) if as_json else typer.echo
    result = asyncio.run(bench_vosk(settings, seconds, threads or settings.asr_threads, share, say))
    if as_json:
        typer.echo(json.dumps(result))
        return
    typer.echo(
        f"{result['audio_seconds_per_second']} s of audio per s on {result['threads']} threads "
        f"({result['cpu_cores']} cores busy, RTF per core {result['rtf_per_core']}); "
        f"at speech share {share}: at most {result['calls_limit_at_share']} calls"
    )
    typer.echo(f"load average before {result['load_average_before']} after {result['load_average_after']}")


@app.command("dialogue")
def dialogue(
    rounds: int = typer.Option(5, help="How many times to replay every conversation test"),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object as the last line"),
) -> None:
    """Turn time of the dialogue engine (text in → reply out, database writes included)."""
    from voicebot.bench.dialogue import bench_dialogue

    setup(log_format="text")
    result = run_with_database(lambda db, settings: bench_dialogue(db, settings, rounds))
    ms = result["turn_ms"]
    typer.echo(f"conversations: {result['conversations']}, caller turns: {result['turns']}")
    typer.echo(f"turn time ms: p50 {ms['p50']}  p95 {ms['p95']}  p99 {ms['p99']}  max {ms['max']}")
    typer.echo(f"throughput: {result['turns_per_second']} turns/s (one process, sequential)")
    if as_json:
        typer.echo(json.dumps(result))


@app.command("dialer")
def dialer(
    contacts: int = typer.Option(100_000, "--contacts", "-n", min=1, help="Contacts in the campaign"),
    max_calls: int = typer.Option(200, "--max-calls", min=1, help="Calls in flight at once"),
    keep: bool = typer.Option(False, "--keep", help="Keep the campaign and its rows afterwards"),
    as_json: bool = typer.Option(False, "--json", help="Last line: one JSON object with the results"),
) -> None:
    """Create a campaign of N contacts and dial it with an instant fake telephone: time to schedule and
    claim, database statements per placed call, memory."""
    from voicebot.bench.dialer import main

    setup(log_format="text")
    say = (lambda m: typer.echo(m, err=True)) if as_json else typer.echo
    result = main(contacts, max_calls=max_calls, keep=keep, say=say)
    if as_json:
        typer.echo(json.dumps(result))
        return
    for key, value in result.items():
        typer.echo(f"{key}: {value}")


@app.command("isolation")
def isolation(
    calls: int = typer.Option(20, "--calls", "-n", min=1, help="Simultaneous emulated calls"),
    duration: float = typer.Option(40.0, "--duration", "-d", min=10.0, help="Seconds of calling"),
    burst: int = typer.Option(200, "--burst", help="API requests fired at once"),
    exports: int = typer.Option(10, "--exports", help="Of which CSV exports of the big campaign"),
    contacts: int = typer.Option(80_000, "--contacts", help="Contacts in the exported campaign"),
    burst_at: float = typer.Option(12.0, "--burst-at", help="Seconds into the calls the burst starts"),
    single_process: bool = typer.Option(
        False, "--single-process", help="Run `serve --single-process` (the old layout) to compare"
    ),
    as_json: bool = typer.Option(False, "--json", help="Last line: one JSON object with the results"),
    database_url: str = typer.Option(
        None, "--database-url", help="Server for the scratch database; default: DATABASE_URL, else embedded"
    ),
) -> None:
    """20 emulated calls and a 200-request API burst against a real `voicebot serve`: frame lateness
    p99/max and calls with gaps, as the callers receive them (bars: p99 ≤ 40 ms, no gap > 200 ms, every
    call served). Exits 1 when the bars are not met."""
    from voicebot.bench.isolation import bars_met, isolation_main, report

    settings = setup(log_format="text")
    say = (lambda m: typer.echo(m, err=True)) if as_json else typer.echo
    options = {"calls": calls, "duration": duration, "burst": burst, "exports": exports, "contacts": contacts,
               "burst_at": burst_at, "single_process": single_process}  # fmt: skip
    result = isolation_main(settings, database_url or settings.database_url, options, say)
    for line in report(result):
        say(line)
    if as_json:
        typer.echo(json.dumps(result))
    if not bars_met(result):
        raise typer.Exit(1)


def _mount_benchmarks() -> None:
    from voicebot.bench.api import api_command

    app.command("api")(api_command)


_mount_benchmarks()
