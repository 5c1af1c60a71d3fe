"""`voicebot telephony sounds`: every prompt the dialplan plays, rendered by espeak-ng as 8 kHz WAV."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import wave
from pathlib import Path

import pytest

from voicebot.asterisk.sounds import SoundsError, dialplan_sounds, load_catalog, missing_sounds, tone
from voicebot.tts.audio import rms

ROOT = Path(__file__).resolve().parents[2]
needs_espeak = pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng is not installed")


@needs_espeak
def test_the_command_renders_every_sound_the_dialplan_plays(tmp_path: Path) -> None:
    env = {**os.environ, "VOICEBOT_TTS": "espeak", "VOICEBOT_DATA_DIR": str(tmp_path / "var")}
    run = subprocess.run(
        [sys.executable, "-m", "voicebot", "telephony", "sounds", "--out", str(tmp_path / "ru")],
        env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert re.search(r"^\d+ sound files written with espeak-ng$", run.stdout, re.M)
    played = dialplan_sounds((ROOT / "telephony" / "extensions.conf").read_text())
    assert missing_sounds(played, tmp_path / "ru") == []
    for name in played:
        with wave.open(str(tmp_path / "ru" / "voicebot" / f"{name}.wav")) as sound:
            assert (sound.getframerate(), sound.getnchannels(), sound.getsampwidth()) == (8000, 1, 2)
            audio = sound.readframes(sound.getnframes())
        assert len(audio) > 8000 * 2 * 0.2 and rms(audio) > 300, name  # audible, not an empty file


def test_missing_sounds_are_named(tmp_path: Path) -> None:
    (tmp_path / "voicebot").mkdir()
    (tmp_path / "voicebot" / "overflow.wav").write_bytes(b"RIFF")
    assert missing_sounds({"overflow", "beep"}, tmp_path) == ["beep"]
    assert missing_sounds({"overflow"}, tmp_path / "absent") == ["overflow"]


def test_a_bad_catalogue_is_refused_with_its_path(tmp_path: Path) -> None:
    (tmp_path / "common").mkdir()
    (tmp_path / "common" / "sounds.yml").write_text("sounds:\n  ../evil: текст\n")
    with pytest.raises(SoundsError, match="not a plain file name"):
        load_catalog(tmp_path)
    with pytest.raises(SoundsError, match="sounds.yml"):
        load_catalog(tmp_path / "nowhere")


def test_the_beep_is_a_tone_of_the_asked_length() -> None:
    beep = tone(1000, 250)
    assert beep.sample_rate == 8000 and beep.duration == pytest.approx(0.25)
    assert rms(beep.pcm) > 5000
