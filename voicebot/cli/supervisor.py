"""`voicebot serve` by default: the voice side and the HTTP side as two OS processes, kept running.

The supervisor resolves the database once (starting the embedded PostgreSQL when DATABASE_URL is unset)
and migrates it, then runs two children of the same command:

    serve --no-http       the voice process: AudioSocket, dialogues, FastAGI, AMI, dialer, transfers
    serve --no-telephony  the HTTP process: API, web UI, browser voice channel, outbox, MAX, reminders,
                          recording purge; at lower CPU priority (VOICEBOT_HTTP_NICE), so audio wins

joined by the voice link (voicebot.services.voicelink) on a free loopback port with a random token. Each
child gets its own node name and its HTTP one its own journal file, so neither reaps nor replays what the
other owns. SIGINT/SIGTERM are passed on and the supervisor exits 0 once both have stopped; a child that
dies is started again with backoff (1 s doubling to 30 s, reset after a minute of running); a child that
refuses its configuration (exit 2) stops the service. Children die with the supervisor, even by kill -9
(Linux parent-death signal), so a restart never finds the ports taken by orphans.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import logging
import os
import secrets
import signal
import socket
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from voicebot.calls.records import default_journal_path
from voicebot.db import migrate
from voicebot.db.server import resolve_database_url
from voicebot.retry import Backoff
from voicebot.runtime import stop_event
from voicebot.settings import Settings

log = logging.getLogger(__name__)

STEADY_AFTER = 60.0  # a child that ran this long gets its restart delay reset
STOP_WITHIN = 30.0  # a child not stopped this long after SIGTERM is killed
FATAL_EXIT = 2  # the child refused its configuration: starting it again cannot help
PR_SET_PDEATHSIG = 1


def die_with_parent(parent: int) -> None:
    """In a child: be killed when the supervisor dies, however it dies (Linux; elsewhere a no-op)."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:  # the supervisor was gone before the signal was armed
        os._exit(1)


class _Role(logging.Filter):
    def __init__(self, role: str) -> None:
        super().__init__()
        self.role = role

    def filter(self, record: logging.LogRecord) -> bool:
        record.role = self.role
        return True


def tag_logs(role: str) -> None:
    """In a child: every log line says which process wrote it (`role=voice` or `role=http`)."""
    for handler in logging.getLogger().handlers:
        handler.addFilter(_Role(role))


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def http_journal(settings: Settings, url: str) -> Path:
    """The HTTP process's own journal, beside the voice process's (one writer and replayer per file)."""
    base = settings.journal_path or default_journal_path(settings.data_dir, url)
    return base.with_name(f"{base.stem}.http{base.suffix}")


def child_environments(settings: Settings, url: str) -> dict[str, dict[str, str]]:
    shared = {
        **os.environ,
        "DATABASE_URL": url,
        "VOICEBOT_AUTO_MIGRATE": "false",  # migrated once, here
        "VOICEBOT_HTTP_HOST": settings.http_host,
        "VOICEBOT_HTTP_PORT": str(settings.http_port),
        "VOICEBOT_VOICE_LINK_PORT": str(settings.voice_link_port or free_port()),
        "VOICEBOT_VOICE_LINK_TOKEN": settings.voice_link_token or secrets.token_urlsafe(32),
    }
    return {
        "voice": {**shared, "VOICEBOT_NODE_NAME": settings.node},
        "http": {**shared, "VOICEBOT_NODE_NAME": f"{settings.node}/http",
                 "VOICEBOT_JOURNAL_PATH": str(http_journal(settings, url))},
    }  # fmt: skip


@dataclass
class Child:
    role: str  # "voice" or "http"
    args: list[str]
    env: dict[str, str]
    proc: asyncio.subprocess.Process | None = None
    starts: int = 0

    async def keep_running(self, stop: asyncio.Event) -> int:
        """Run the child until `stop`, starting it again when it dies; the exit code for the service."""
        backoff = Backoff(initial=1.0, maximum=30.0)
        while not stop.is_set():
            began = time.monotonic()
            self.proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "voicebot", "serve", *self.args, "--supervised-by", str(os.getpid()),
                env=self.env,
            )  # fmt: skip
            self.starts += 1
            log.info("serve: %s process started", self.role, extra={"role": self.role, "pid": self.proc.pid})
            code = await self._exit_or(stop)
            if code == 0:  # stopped by a signal: the terminal's Ctrl-C reaches the whole process group
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), 1.0)
            if code is None or stop.is_set():
                break
            if code == FATAL_EXIT:
                log.error("serve: %s process refused to start (exit 2); stopping", self.role)
                return code
            if time.monotonic() - began >= STEADY_AFTER:
                backoff.reset()
            delay = backoff.next_delay()
            log.error(
                "serve: %s process exited unexpectedly; starting it again",
                self.role,
                extra={"role": self.role, "exit_code": code, "retry_in": round(delay, 1)},
            )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), delay)
        await self.terminate()
        return 0

    async def _exit_or(self, stop: asyncio.Event) -> int | None:
        """The child's exit code, or None when `stop` came first."""
        assert self.proc is not None
        exited = asyncio.ensure_future(self.proc.wait())
        stopping = asyncio.ensure_future(stop.wait())
        await asyncio.wait({exited, stopping}, return_when=asyncio.FIRST_COMPLETED)
        stopping.cancel()
        if exited.done():
            return exited.result()
        exited.cancel()
        return None

    async def terminate(self) -> None:
        proc = self.proc
        if proc is None or proc.returncode is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(proc.wait(), STOP_WITHIN)
        except TimeoutError:
            log.error("serve: %s process did not stop in time; killing it", self.role)
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            await proc.wait()


async def supervise(settings: Settings) -> int:
    """Run the two processes until SIGINT/SIGTERM (exit 0) or a child refusing to start (its code)."""
    stop = stop_event()
    url, embedded = await asyncio.to_thread(resolve_database_url, settings)
    try:
        if settings.auto_migrate:
            await asyncio.to_thread(migrate.upgrade, url)
        env = child_environments(settings, url)
        children = [
            Child("voice", ["--no-http"], env["voice"]),
            Child("http", ["--no-telephony"], env["http"]),
        ]
        tasks = [asyncio.create_task(child.keep_running(stop)) for child in children]
        worst = 0
        for finished in asyncio.as_completed(tasks):
            code = await finished
            if code:
                worst = max(worst, code)
                stop.set()  # one side cannot run: stop the other too
        return worst
    finally:
        if embedded is not None:
            await asyncio.to_thread(embedded.stop)
