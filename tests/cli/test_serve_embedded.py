"""`voicebot serve` with no DATABASE_URL starts its own PostgreSQL, answers /healthz, stops it on exit."""

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


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _postgres_serving(pgdata: str) -> list[psutil.Process]:
    found = []
    for proc in psutil.process_iter(["name", "cmdline"]):
        if proc.info["name"] == "postgres" and pgdata in " ".join(proc.info["cmdline"] or []):
            found.append(proc)
    return found


def test_serve_on_embedded_database(tmp_path):
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "VOICEBOT_DATABASE_URL")}
    env.update(
        VOICEBOT_DATA_DIR=str(tmp_path / "var"),
        VOICEBOT_HTTP_HOST="127.0.0.1",
        VOICEBOT_AUDIOSOCKET_HOST="127.0.0.1",
        VOICEBOT_AUDIOSOCKET_PORT=str(_free_port()),
        VOICEBOT_FASTAGI_HOST="127.0.0.1",
        VOICEBOT_FASTAGI_PORT=str(_free_port()),
        VOICEBOT_AMI_PORT=str(_free_port()),  # never the machine's real Asterisk on 5038
        VOICEBOT_DEV_MODE="1",
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "voicebot", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 90
        body = None
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
                body = response.json()
                assert response.status_code == 200
                break
            except httpx.TransportError:
                time.sleep(0.3)
        if body is None:
            proc.kill()
            pytest.fail(
                f"serve never answered /healthz (exit {proc.poll()}):\n{proc.communicate(timeout=30)[0][-4000:]}"
            )
        assert body["status"] == "ok" and body["database"]["ok"] is True
        pgdata = str((tmp_path / "var" / "pgdata").resolve())
        assert _postgres_serving(pgdata), "the embedded PostgreSQL is not running from the data folder"
    finally:
        proc.send_signal(signal.SIGTERM)
        output, _ = proc.communicate(timeout=60)
    assert proc.returncode == 0, output
    deadline = time.monotonic() + 15
    while _postgres_serving(pgdata) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not _postgres_serving(pgdata), "the embedded PostgreSQL was left running"
