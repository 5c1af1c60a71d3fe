"""Fetch the speech models listed in models/manifest.yml: resumable, verified, unpacked, idempotent."""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import shutil
import sys
import tempfile
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO, Any, Literal

import httpx
import yaml

from voicebot.settings import PROJECT_ROOT

logger = logging.getLogger(__name__)

DEFAULT_MANIFEST = PROJECT_ROOT / "models" / "manifest.yml"
CHECKSUMS_FILE = ".checksums.json"  # digests computed on first download of models without a published one
MARKER_SUFFIX = ".installed.json"


class DownloadError(RuntimeError):
    """The download could not complete; a partial file is kept for resuming."""


class ChecksumMismatchError(DownloadError):
    """The file is not what the manifest promises; the partial file has been deleted."""


class ManifestError(ValueError):
    pass


@dataclass(frozen=True)
class ModelEntry:
    name: str
    kind: Literal["asr", "tts"]
    lang: str
    url: str
    target: str
    unpack: Literal["zip", "file"]
    sha256: str | None = None
    size: str = ""
    size_bytes: int | None = None
    licence: str = ""
    default: bool = False
    notes: str = ""

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> ModelEntry:
        missing = [k for k in ("name", "kind", "lang", "url", "target", "unpack") if not raw.get(k)]
        if missing:
            raise ManifestError(f"manifest entry {raw.get('name', '?')!r} lacks {', '.join(missing)}")
        if raw["kind"] not in ("asr", "tts") or raw["unpack"] not in ("zip", "file"):
            raise ManifestError(f"manifest entry {raw['name']!r}: kind must be asr|tts, unpack zip|file")
        if "/" in raw["target"] or raw["target"].startswith("."):
            raise ManifestError(f"manifest entry {raw['name']!r}: target must be a plain name")
        sha = raw.get("sha256")
        if sha is not None and (len(str(sha)) != 64 or any(c not in "0123456789abcdef" for c in str(sha))):
            raise ManifestError(f"manifest entry {raw['name']!r}: sha256 must be 64 lowercase hex digits")
        known = {f for f in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in raw.items() if k in known and v is not None})


def load_manifest(path: Path = DEFAULT_MANIFEST) -> list[ModelEntry]:
    try:
        data = yaml.safe_load(Path(path).read_text("utf-8"))
    except OSError as exc:
        raise ManifestError(f"cannot read manifest {path}: {exc}") from exc
    except yaml.YAMLError as exc:
        raise ManifestError(f"manifest {path} is not valid YAML: {exc}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("models"), list):
        raise ManifestError(f"manifest {path} needs a top-level 'models' list")
    entries = [ModelEntry.from_dict(item) for item in data["models"]]
    names = [e.name for e in entries]
    if len(names) != len(set(names)):
        raise ManifestError(f"manifest {path} lists a model name twice")
    return entries


def select(
    entries: list[ModelEntry], name: str | None = None, lang: str | None = None, kind: str | None = None
) -> list[ModelEntry]:
    """By name; else everything matching lang/kind that is marked default (or all of a kind if asked)."""
    if name:
        chosen = [e for e in entries if e.name == name]
        if not chosen:
            raise ManifestError(f"no model named {name!r}; known: {', '.join(e.name for e in entries)}")
        return chosen
    chosen = [e for e in entries if (lang is None or e.lang == lang) and (kind is None or e.kind == kind)]
    return chosen if kind else [e for e in chosen if e.default]


def is_installed(entry: ModelEntry, models_dir: Path) -> bool:
    marker = _marker(entry, models_dir)
    if not (models_dir / entry.target).exists() or not marker.exists():
        return False
    try:
        recorded = json.loads(marker.read_text("utf-8"))
    except (OSError, ValueError):
        return False
    return entry.sha256 is None or recorded.get("sha256") == entry.sha256


def download(
    entry: ModelEntry,
    models_dir: Path,
    force: bool = False,
    retries: int = 3,
    progress: IO[str] | None = sys.stderr,
    client: httpx.Client | None = None,
) -> Path:
    """Make `entry` present in `models_dir` and return its path. Safe to run again: a verified
    install is skipped, an interrupted download resumes where it stopped."""
    models_dir = Path(models_dir)
    models_dir.mkdir(parents=True, exist_ok=True)
    target = models_dir / entry.target
    if not force and is_installed(entry, models_dir):
        logger.info("model already installed", extra={"model": entry.name})
        return target
    part = models_dir / f".{entry.name}.part"
    owns_client = client is None
    client = client or httpx.Client(follow_redirects=True, timeout=httpx.Timeout(30.0, read=60.0))
    try:
        _fetch_with_retries(client, entry, part, retries, progress)
    finally:
        if owns_client:
            client.close()
    digest, first_seen = _verify(entry, part, models_dir)
    _install(entry, part, target)
    if first_seen:  # only a file that also unpacked cleanly becomes the reference for later downloads
        _record_checksum(models_dir, entry.name, digest)
        logger.warning(
            "no published checksum; recorded this one for later downloads, pin it in the manifest once verified",
            extra={"model": entry.name, "sha256": digest},
        )
    _marker(entry, models_dir).write_text(
        json.dumps({"name": entry.name, "url": entry.url, "sha256": digest, "installed_at": time.time()}),
        "utf-8",
    )
    return target


# --- fetching ---------------------------------------------------------------------------------------


def _fetch_with_retries(
    client: httpx.Client, entry: ModelEntry, part: Path, retries: int, progress: IO[str] | None
) -> None:
    for attempt in range(retries + 1):
        try:
            _fetch(client, entry, part, progress)
            return
        except (httpx.TransportError, httpx.InvalidURL, DownloadError) as exc:
            if attempt >= retries or isinstance(exc, ChecksumMismatchError):
                have = part.stat().st_size if part.exists() else 0
                raise DownloadError(
                    f"downloading {entry.name} from {entry.url} failed: {exc}; {have} bytes kept in {part}, "
                    "run the command again to resume"
                ) from exc
            logger.warning(
                "download interrupted, resuming", extra={"model": entry.name, "attempt": attempt + 1}
            )
            time.sleep(min(2**attempt, 10) * 0.1)


def _fetch(client: httpx.Client, entry: ModelEntry, part: Path, progress: IO[str] | None) -> None:
    offset = part.stat().st_size if part.exists() else 0
    # identity: Range offsets count bytes on the wire, which must be the bytes we store
    headers = {"Accept-Encoding": "identity"}
    if offset:
        headers["Range"] = f"bytes={offset}-"
    with client.stream("GET", entry.url, headers=headers) as response:
        if response.status_code == 416 and offset:
            return  # the partial file is already complete
        if response.status_code not in (200, 206):
            raise DownloadError(f"HTTP {response.status_code} from {entry.url}")
        if response.status_code == 200 and offset:
            offset = 0  # server ignored Range: start over
        total = _total_size(response, offset)
        bar = _Progress(entry.name, total, offset, progress)
        with part.open("ab" if offset else "wb") as handle:
            # no chunk size: a fixed one buffers, and the buffer is lost when the connection drops
            for chunk in response.iter_raw():
                handle.write(chunk)
                bar.advance(len(chunk))
        bar.close()
        if total is not None and part.stat().st_size < total:
            raise DownloadError(f"connection closed after {part.stat().st_size} of {total} bytes")


def _total_size(response: httpx.Response, offset: int) -> int | None:
    content_range = response.headers.get("content-range", "")
    if response.status_code == 206 and "/" in content_range:
        total = content_range.rsplit("/", 1)[1]
        return int(total) if total.isdigit() else None
    length = response.headers.get("content-length")
    return int(length) if length and length.isdigit() else None


class _Progress:
    """A one-line progress bar on stderr, redrawn at most a few times a second."""

    def __init__(self, name: str, total: int | None, done: int, stream: IO[str] | None) -> None:
        self.name, self.total, self.done, self.stream = name, total, done, stream
        self.started, self.last_draw, self.start_done = time.monotonic(), 0.0, done

    def advance(self, n: int) -> None:
        self.done += n
        now = time.monotonic()
        if now - self.last_draw >= 0.25:
            self.last_draw = now
            self._draw(now)

    def close(self) -> None:
        self._draw(time.monotonic())
        if self.stream is not None:
            self.stream.write("\n")
            self.stream.flush()

    def _draw(self, now: float) -> None:
        if self.stream is None:
            return
        speed = (self.done - self.start_done) / max(now - self.started, 1e-6) / 1e6
        mb = self.done / 1e6
        if self.total:
            width = 30
            filled = int(width * self.done / self.total)
            bar = "#" * filled + "-" * (width - filled)
            line = f"\r{self.name} [{bar}] {100 * self.done / self.total:5.1f}% {mb:.1f} MB {speed:.1f} MB/s"
        else:
            line = f"\r{self.name} {mb:.1f} MB {speed:.1f} MB/s"
        self.stream.write(line)
        self.stream.flush()


# --- verifying and installing -------------------------------------------------------------------------


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def _verify(entry: ModelEntry, part: Path, models_dir: Path) -> tuple[str, bool]:
    """Check size and digest; returns the digest and whether nobody had pinned one yet."""
    digest = sha256_file(part)
    size = part.stat().st_size
    pinned = entry.sha256 or _recorded_checksums(models_dir).get(entry.name)
    problem = None
    if entry.size_bytes is not None and size != entry.size_bytes:
        problem = f"size {size} bytes, expected {entry.size_bytes}"
    elif pinned is not None and digest != pinned:
        source = "the manifest" if entry.sha256 else f"the first download ({CHECKSUMS_FILE})"
        problem = f"sha256 {digest}, expected {pinned} from {source}"
    if problem:
        part.unlink(missing_ok=True)
        raise ChecksumMismatchError(
            f"{entry.name}: downloaded file is corrupt or was changed upstream ({problem}); "
            "the partial file was deleted, run the command again to retry"
        )
    return digest, pinned is None


def _recorded_checksums(models_dir: Path) -> dict[str, str]:
    try:
        data = json.loads((models_dir / CHECKSUMS_FILE).read_text("utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _record_checksum(models_dir: Path, name: str, digest: str) -> None:
    data = _recorded_checksums(models_dir)
    data[name] = digest
    (models_dir / CHECKSUMS_FILE).write_text(json.dumps(data, indent=2, sort_keys=True), "utf-8")


def _install(entry: ModelEntry, part: Path, target: Path) -> None:
    if entry.unpack == "file":
        _remove(target)
        os.replace(part, target)
        return
    staging = Path(tempfile.mkdtemp(prefix=f".{entry.name}-", dir=target.parent))
    try:
        _safe_extract(part, staging)
        inner = [p for p in staging.iterdir() if not p.name.startswith("__MACOSX")]
        source = inner[0] if len(inner) == 1 and inner[0].is_dir() else staging
        _remove(target)
        os.replace(source, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    part.unlink(missing_ok=True)


def _safe_extract(archive: Path, into: Path) -> None:
    try:
        with zipfile.ZipFile(archive) as zf:
            for member in zf.infolist():
                path = PurePosixPath(member.filename)
                if path.is_absolute() or ".." in path.parts:
                    raise DownloadError(
                        f"{archive.name}: refusing to unpack {member.filename!r} outside the folder"
                    )
            zf.extractall(into)
    except zipfile.BadZipFile as exc:
        archive.unlink(missing_ok=True)
        raise DownloadError(f"{archive.name} is not a valid zip archive ({exc}); deleted, run again") from exc


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


def _marker(entry: ModelEntry, models_dir: Path) -> Path:
    return models_dir / f".{entry.name}{MARKER_SUFFIX}"
