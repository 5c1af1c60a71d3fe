"""`voicebot serve` runs the voice side and the HTTP side as two OS processes: the HTTP one at lower CPU
priority, /metrics showing the voice process's state, a crashed child started again, and no child
outliving its supervisor, even a supervisor killed with -9."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time

import httpx
import psutil
import pytest
from prometheus_client.parser import text_string_to_metric_families

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait(predicate, within: float, every: float = 0.3) -> bool:  # noqa: ANN001
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(every)
    return predicate()


def _healthy(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=3).status_code == 200
    except httpx.TransportError:
        return False


def _children(proc: subprocess.Popen) -> dict[str, psutil.Process]:
    found = {}
    for child in psutil.Process(proc.pid).children():
        try:
            cmdline = " ".join(child.cmdline())
        except (psutil.ZombieProcess, psutil.NoSuchProcess):  # a killed child the supervisor has yet to reap
            continue
        if "--no-http" in cmdline:
            found["voice"] = child
        elif "--no-telephony" in cmdline:
            found["http"] = child
    return found


def test_serve_runs_voice_and_http_apart_and_keeps_them_running(database_url, tmp_path):
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": database_url, "VOICEBOT_DATA_DIR": str(tmp_path / "var"),
           "VOICEBOT_HTTP_HOST": "127.0.0.1", "VOICEBOT_AUDIOSOCKET_HOST": "127.0.0.1",
           "VOICEBOT_AUDIOSOCKET_PORT": str(_free_port()), "VOICEBOT_FASTAGI_HOST": "127.0.0.1",
           "VOICEBOT_FASTAGI_PORT": str(_free_port()), "VOICEBOT_AMI_PORT": str(_free_port()),
           "VOICEBOT_DEV_MODE": "1", "VOICEBOT_LOG_FORMAT": "text"}  # fmt: skip
    log = (tmp_path / "serve.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "voicebot", "serve", "--port", str(port)], env=env, stdout=log, stderr=log
    )
    children: dict[str, psutil.Process] = {}
    try:
        assert _wait(lambda: _healthy(port), 120), "serve never answered /healthz"
        children = _children(proc)
        assert set(children) == {"voice", "http"}
        assert children["http"].nice() == 10 and children["voice"].nice() == 0
        body = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5).json()
        assert body["voice"]["ok"] is True and "journal" in body["voice"]

        text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
        samples = {
            (s.name, s.labels.get("dependency"), s.labels.get("process")): s.value
            for family in text_string_to_metric_families(text)
            for s in family.samples
        }
        assert samples[("voicebot_dependency_up", "fastagi", "voice")] == 1  # the voice process's listener
        assert samples[("voicebot_dependency_up", "ami", "voice")] == 0  # no Asterisk here
        assert ("voicebot_journal_backlog", None, "voice") in samples

        crashed = children["voice"]
        crashed.send_signal(signal.SIGKILL)
        assert _wait(lambda: not _healthy(port), 20), "/healthz never noticed the voice process was gone"

        def restarted() -> bool:
            voice = _children(proc).get("voice")
            return voice is not None and voice.pid != crashed.pid and _healthy(port)

        assert _wait(restarted, 90), "the voice process was not started again"
        children = _children(proc)
        assert proc.poll() is None

        proc.send_signal(signal.SIGKILL)  # the supervisor dies: its children must not linger
        proc.wait(10)
        gone = psutil.wait_procs(list(children.values()), timeout=15)[1] == []
        assert gone, "a child outlived its supervisor"
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            proc.wait(60)
        for child in children.values():
            if child.is_running():
                child.kill()
        log.close()
