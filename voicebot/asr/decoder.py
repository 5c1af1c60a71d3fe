"""Decoder search settings for small servers, applied through an overlay of the model folder.

Vosk reads Kaldi's search limits (max-active, beam, lattice-beam) only from `conf/model.conf` inside the
model folder; its API cannot change them. Rather than edit an installed model, we build a sibling folder
under the cache: symlinks to everything in the model except `conf/`, which is a real folder holding
symlinks to the other conf files and a patched `model.conf`. The folder name hashes the model path and the
values, so each combination is built once and a changed setting never reuses a stale overlay.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

CONF = "model.conf"


@dataclass(frozen=True)
class DecoderTuning:
    """None keeps the model's own value."""

    max_active: int | None = None
    beam: float | None = None
    lattice_beam: float | None = None

    def __post_init__(self) -> None:
        if self.max_active is not None and self.max_active < 1:
            raise ValueError(f"max_active must be at least 1, got {self.max_active}")
        for name in ("beam", "lattice_beam"):
            value = getattr(self, name)
            if value is not None and value <= 0:
                raise ValueError(f"{name} must be positive, got {value}")

    @property
    def active(self) -> bool:
        return self.options() != {}

    def options(self) -> dict[str, str]:
        """Kaldi option name -> value, for the values that are set."""
        values = {"max-active": self.max_active, "beam": self.beam, "lattice-beam": self.lattice_beam}
        return {name: str(value) for name, value in values.items() if value is not None}

    def describe(self) -> str:
        return " ".join(f"--{k}={v}" for k, v in self.options().items()) or "model defaults"


def patch_conf(text: str, options: dict[str, str]) -> str:
    """Replace (or append) `--name=value` lines of a Kaldi config."""
    lines, seen = [], set()
    for line in text.splitlines():
        name = line.strip().removeprefix("--").split("=", 1)[0]
        if line.strip().startswith("--") and name in options:
            lines.append(f"--{name}={options[name]}")
            seen.add(name)
        else:
            lines.append(line)
    lines += [f"--{name}={value}" for name, value in options.items() if name not in seen]
    return "\n".join(lines) + "\n"


def tuned_model_dir(model_path: Path, tuning: DecoderTuning, cache_dir: Path) -> Path:
    """The overlay folder for `model_path` with `tuning` applied, built on first use."""
    model_path = Path(model_path).resolve()
    conf = model_path / "conf" / CONF
    if not conf.is_file():
        raise ValueError(f"{model_path} has no conf/{CONF}; decoder tuning needs one")
    key = hashlib.sha256(f"{model_path}\n{tuning.describe()}".encode()).hexdigest()[:16]
    target = Path(cache_dir) / "vosk-tuned" / f"{model_path.name}-{key}"
    if (target / "conf" / CONF).is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    # Build beside the target and rename: two processes starting together never see half a folder.
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    staging.chmod(0o755)  # mkdtemp makes it private; the service user may differ from the builder
    try:
        for entry in model_path.iterdir():
            if entry.name != "conf":
                os.symlink(entry, staging / entry.name)
        (staging / "conf").mkdir()
        for entry in (model_path / "conf").iterdir():
            if entry.name != CONF:
                os.symlink(entry, staging / "conf" / entry.name)
        (staging / "conf" / CONF).write_text(patch_conf(conf.read_text(), tuning.options()))
        try:
            staging.rename(target)
        except OSError:  # another process won the race; its overlay is identical
            if not (target / "conf" / CONF).is_file():
                raise
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    log.info("built tuned Vosk model overlay", extra={"path": str(target), "decoder": tuning.describe()})
    return target
