"""The model downloader against a local HTTP server that supports Range and can be told to misbehave."""

from __future__ import annotations

import hashlib
import io
import json
import threading
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from typer.testing import CliRunner

from voicebot import models_download as md
from voicebot.cli.models import app


def make_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr("vosk-model-test/am/final.mdl", bytes(range(256)) * 400)
        zf.writestr("vosk-model-test/conf/model.conf", "--beam=10\n")
    return buffer.getvalue()


class Server:
    """Serves one payload; `cut_after` closes the first response early, `ignore_range` answers 200."""

    def __init__(self, payload: bytes) -> None:
        self.payload = payload
        self.cut_after: int | None = None
        self.ignore_range = False
        self.requests: list[str | None] = []  # the Range header of each request
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
                range_header = self.headers.get("Range")
                outer.requests.append(range_header)
                data, start = outer.payload, 0
                if range_header and not outer.ignore_range:
                    start = int(range_header.removeprefix("bytes=").split("-")[0])
                    if start >= len(data):
                        self.send_response(416)
                        self.send_header("Content-Range", f"bytes */{len(data)}")
                        self.end_headers()
                        return
                    self.send_response(206)
                    self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
                else:
                    self.send_response(200)
                body = data[start:]
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if outer.cut_after is not None:
                    self.wfile.write(body[: outer.cut_after])
                    outer.cut_after = None
                    self.close_connection = True
                    return
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/model.zip"


@pytest.fixture
def server():
    srv = Server(make_zip())
    srv.thread.start()
    yield srv
    srv.httpd.shutdown()
    srv.httpd.server_close()


def entry(url: str, sha256: str | None = None, unpack: str = "zip", target: str = "vosk-model-test"):
    return md.ModelEntry(
        name="test-model", kind="asr", lang="ru", url=url, target=target, unpack=unpack, sha256=sha256
    )


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_downloads_verifies_and_unpacks(server, tmp_path: Path):
    target = md.download(entry(server.url, sha(server.payload)), tmp_path, progress=None)
    assert target == tmp_path / "vosk-model-test"
    assert (target / "am" / "final.mdl").stat().st_size == 256 * 400
    assert not list(tmp_path.glob(".test-model.part"))
    assert md.is_installed(entry(server.url, sha(server.payload)), tmp_path)


def test_second_run_is_skipped(server, tmp_path: Path):
    e = entry(server.url, sha(server.payload))
    md.download(e, tmp_path, progress=None)
    md.download(e, tmp_path, progress=None)
    assert len(server.requests) == 1
    md.download(e, tmp_path, progress=None, force=True)
    assert len(server.requests) == 2


def test_interrupted_download_resumes_with_range(server, tmp_path: Path):
    server.cut_after = 5000
    e = entry(server.url, sha(server.payload))
    with pytest.raises(md.DownloadError, match="run the command again to resume"):
        md.download(e, tmp_path, retries=0, progress=None)
    assert (tmp_path / ".test-model.part").stat().st_size == 5000

    md.download(e, tmp_path, progress=None)
    assert server.requests == [None, "bytes=5000-"]
    assert (tmp_path / "vosk-model-test" / "conf" / "model.conf").read_text() == "--beam=10\n"


def test_retries_resume_within_one_call(server, tmp_path: Path):
    server.cut_after = 1234
    stderr = io.StringIO()
    md.download(entry(server.url, sha(server.payload)), tmp_path, progress=stderr)
    assert server.requests == [None, "bytes=1234-"]
    assert "100.0%" in stderr.getvalue()


def test_server_ignoring_range_restarts_cleanly(server, tmp_path: Path):
    (tmp_path / ".test-model.part").write_bytes(b"garbage from an older attempt")
    server.ignore_range = True
    md.download(entry(server.url, sha(server.payload)), tmp_path, progress=None)
    assert (tmp_path / "vosk-model-test" / "am" / "final.mdl").exists()


def test_complete_partial_file_is_not_fetched_again(server, tmp_path: Path):
    (tmp_path / ".test-model.part").write_bytes(server.payload)
    md.download(entry(server.url, sha(server.payload)), tmp_path, progress=None)
    assert server.requests == [f"bytes={len(server.payload)}-"]


def test_checksum_mismatch_deletes_the_partial_file(server, tmp_path: Path):
    with pytest.raises(md.ChecksumMismatchError, match="sha256"):
        md.download(entry(server.url, "0" * 64), tmp_path, progress=None)
    assert not (tmp_path / ".test-model.part").exists()
    assert not (tmp_path / "vosk-model-test").exists()


def test_without_published_checksum_the_first_one_is_pinned(server, tmp_path: Path):
    e = entry(server.url, None)
    md.download(e, tmp_path, progress=None)
    pinned = json.loads((tmp_path / md.CHECKSUMS_FILE).read_text())
    assert pinned == {"test-model": sha(server.payload)}

    server.payload = make_zip()[:-10] + b"0123456789"  # upstream file changed
    with pytest.raises(md.ChecksumMismatchError, match="first download"):
        md.download(e, tmp_path, progress=None, force=True)


def test_single_file_models_are_moved_into_place(server, tmp_path: Path):
    server.payload = b"not really torch" * 100
    target = md.download(
        entry(server.url, sha(server.payload), "file", "v5_cis_base.pt"), tmp_path, progress=None
    )
    assert target.read_bytes() == server.payload


def test_zip_slip_is_refused(server, tmp_path: Path):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr("../evil.txt", "x")
    server.payload = buffer.getvalue()
    with pytest.raises(md.DownloadError, match="outside the folder"):
        md.download(entry(server.url, sha(server.payload)), tmp_path / "models", progress=None)
    assert not (tmp_path / "evil.txt").exists()


def test_unreachable_and_bad_urls_are_reported(tmp_path: Path):
    with pytest.raises(md.DownloadError, match="failed"):
        md.download(entry("http://127.0.0.1:1/x"), tmp_path, retries=0, progress=None)
    with pytest.raises(md.DownloadError, match="failed"):
        md.download(entry("http://127.0.0.1:notaport/x"), tmp_path, retries=0, progress=None)


def test_shipped_manifest_is_valid():
    entries = md.load_manifest()
    names = {e.name for e in entries}
    assert {"vosk-model-small-ru-0.22", "vosk-model-ru-0.42", "silero-v5-cis-base", "silero-v4-ru"} <= names
    assert [e.name for e in md.select(entries, lang="ru")] == ["vosk-model-small-ru-0.22"]
    assert {e.name for e in md.select(entries, lang="ru", kind="tts")} == {
        "silero-v5-cis-base",
        "silero-v4-ru",
    }
    licences = {e.name: e.licence for e in entries}
    assert licences["silero-v5-cis-base"] == "MIT" and "NC" in licences["silero-v4-ru"]


def test_bad_manifest_is_a_clear_error(tmp_path: Path):
    path = tmp_path / "m.yml"
    path.write_text("models:\n  - name: x\n    kind: video\n")
    with pytest.raises(md.ManifestError, match="lacks"):
        md.load_manifest(path)
    path.write_text("models: [")
    with pytest.raises(md.ManifestError, match="not valid YAML"):
        md.load_manifest(path)


def test_cli_download_and_list(server, tmp_path: Path):
    manifest = tmp_path / "manifest.yml"
    manifest.write_text(
        "models:\n"
        f"  - {{name: tiny, kind: asr, lang: ru, url: '{server.url}', target: vosk-model-test,\n"
        f"      unpack: zip, sha256: {sha(server.payload)}, default: true, licence: Apache-2.0}}\n"
    )
    runner = CliRunner()
    args = ["--manifest", str(manifest), "--models-dir", str(tmp_path / "m")]
    result = runner.invoke(app, ["download", "--lang", "ru", *args])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "m" / "vosk-model-test" / "am" / "final.mdl").exists()
    listing = runner.invoke(app, ["list", *args])
    assert "tiny" in listing.output and "yes" in listing.output
    missing = runner.invoke(app, ["download", "--name", "nope", *args])
    assert missing.exit_code == 1 and "no model named" in missing.output
