"""The sound files the Asterisk dialplan plays itself (`Playback(voicebot/<name>)`), rendered from texts.

The texts live in `scenarios/common/sounds.yml`; each becomes `<out>/voicebot/<name>.wav`, 8 kHz 16-bit
mono (what format_wav plays without transcoding on a G.711 call), spoken by the configured synthesiser.
Tones (the beep before a voice message) are generated, so Record() needs no core sound files.
"""

from __future__ import annotations

import math
import re
import struct
import wave
from dataclasses import dataclass
from pathlib import Path

import yaml

from voicebot.tts.base import Audio, TTSEngine

SOUNDS_FILE = Path("common") / "sounds.yml"
SOUND_RATE = 8000
SOUND_FOLDER = "voicebot"


class SoundsError(ValueError):
    """sounds.yml is missing or malformed."""


@dataclass(frozen=True)
class SoundCatalog:
    texts: dict[str, str]
    tones: dict[str, tuple[int, int]]  # name -> (Hz, ms)

    @property
    def names(self) -> set[str]:
        return set(self.texts) | set(self.tones)


def load_catalog(scenarios_dir: Path) -> SoundCatalog:
    path = scenarios_dir / SOUNDS_FILE
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except OSError as exc:
        raise SoundsError(f"{path}: {exc.strerror}") from exc
    texts = {str(k): " ".join(str(v).split()) for k, v in (data.get("sounds") or {}).items()}
    tones: dict[str, tuple[int, int]] = {}
    for name, spec in (data.get("tones") or {}).items():
        try:
            tones[str(name)] = (int(spec["frequency"]), int(spec["milliseconds"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise SoundsError(f"{path}: tone {name!r} needs frequency and milliseconds") from exc
    for name in texts | tones:
        if not re.fullmatch(r"[a-z0-9][a-z0-9_-]*", name):
            raise SoundsError(f"{path}: {name!r} is not a plain file name")
    return SoundCatalog(texts, tones)


def dialplan_sounds(extensions_conf: str) -> set[str]:
    """Names of the `voicebot/<name>` sounds a dialplan plays."""
    return set(re.findall(r"\b(?:Playback|Background)\(voicebot/([\w-]+)", extensions_conf))


def tone(frequency: int, milliseconds: int, sample_rate: int = SOUND_RATE) -> Audio:
    count = sample_rate * milliseconds // 1000
    fade = max(1, sample_rate // 200)  # 5 ms ramps: no clicks
    samples = []
    for i in range(count):
        envelope = min(1.0, i / fade, (count - 1 - i) / fade)
        samples.append(round(12000 * envelope * math.sin(2 * math.pi * frequency * i / sample_rate)))
    return Audio(struct.pack(f"<{count}h", *samples), sample_rate)


def write_wav(path: Path, audio: Audio) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".part")
    with wave.open(str(partial), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(audio.sample_rate)
        out.writeframes(audio.pcm)
    partial.replace(path)


async def render(catalog: SoundCatalog, engine: TTSEngine, out_dir: Path) -> list[Path]:
    """Write every sound of the catalogue under `out_dir/voicebot/`; returns the files written."""
    folder = out_dir / SOUND_FOLDER
    written = []
    for name, text in sorted(catalog.texts.items()):
        audio = (await engine.synthesize(text)).resampled(SOUND_RATE)
        write_wav(folder / f"{name}.wav", audio)
        written.append(folder / f"{name}.wav")
    for name, (frequency, milliseconds) in sorted(catalog.tones.items()):
        write_wav(folder / f"{name}.wav", tone(frequency, milliseconds))
        written.append(folder / f"{name}.wav")
    return written


def missing_sounds(names: set[str], sounds_dir: Path) -> list[str]:
    """Names with no `<sounds_dir>/voicebot/<name>.<ext>` file (any format Asterisk may play)."""
    folder = sounds_dir / SOUND_FOLDER
    present = {p.stem for p in folder.glob("*") if p.is_file()} if folder.is_dir() else set()
    return sorted(names - present)
