"""`voicebot doctor` against the AMI emulator: one clear line per problem, exit 0 only when all is well."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.emulators.ami_server import AMIServerEmulator
from voicebot.asterisk.sounds import SOUND_FOLDER, tone, write_wav
from voicebot.services.doctor import Dialplan, diagnose
from voicebot.settings import Settings

SECRET = "doctor-secret"


class Telephony:
    """An emulated Asterisk plus the bot's FastAGI and AudioSocket ports, a model folder and sounds."""

    def __init__(self, ami: AMIServerEmulator, tmp: Path, ports: list[int]) -> None:
        self.ami, self.tmp, self.ports = ami, tmp, ports
        self.sounds = tmp / "sounds" / "ru"
        for name in Dialplan.read().sounds:
            write_wav(self.sounds / SOUND_FOLDER / f"{name}.wav", tone(440, 50))
        self.model = tmp / "models" / "vosk-model-small-ru-0.22"
        (self.model / "am").mkdir(parents=True)
        (self.model / "am" / "final.mdl").write_bytes(b"\0")

    def settings(self, **overrides: object) -> Settings:
        values: dict[str, object] = {
            "ami_host": "127.0.0.1", "ami_port": self.ami.port, "ami_secret": SECRET,
            "asterisk_sounds_dir": self.sounds, "models_dir": self.tmp / "models", "asr": "vosk",
            "data_dir": self.tmp / "var",
        }  # fmt: skip
        return Settings(**(values | overrides))

    def env(self) -> dict[str, str]:
        inherited = {k: v for k, v in os.environ.items() if k != "VOICEBOT_VOSK_MODEL_PATH"}
        return {**inherited, "VOICEBOT_AMI_PORT": str(self.ami.port), "VOICEBOT_AMI_SECRET": SECRET,
                "VOICEBOT_ASTERISK_SOUNDS_DIR": str(self.sounds), "VOICEBOT_MODELS_DIR": str(self.tmp / "models"),
                "VOICEBOT_ASR": "vosk", "VOICEBOT_DATA_DIR": str(self.tmp / "var")}  # fmt: skip


@pytest.fixture
async def telephony(tmp_path: Path) -> AsyncIterator[Telephony]:
    async def accept(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.close()

    servers = [await asyncio.start_server(accept, "127.0.0.1", 0) for _ in range(2)]
    ports = [server.sockets[0].getsockname()[1] for server in servers]
    async with AMIServerEmulator(secret=SECRET, auth_fail_delay=0.05) as ami:
        ami.global_vars.update({
            "VOICEBOT_AGI": f"agi://127.0.0.1:{ports[0]}", "VOICEBOT_AUDIOSOCKET": f"127.0.0.1:{ports[1]}",
            "VOICEBOT_VM_DIR": "/var/spool/asterisk/voicebot",
        })  # fmt: skip
        yield Telephony(ami, tmp_path, ports)
    for server in servers:
        server.close()


async def test_all_well_is_no_problem(telephony: Telephony) -> None:
    report = await diagnose(telephony.settings())
    assert report.problems == []
    assert report.checks > 40  # every module, every context, paths, ports, model, sounds
    commands = [dict(a).get("Command") for a in telephony.ami.actions if dict(a).get("Action") == "Command"]
    assert "module show like res_agi" in commands and "module show like res_pjsip_pubsub" in commands
    assert "dialplan show voicebot-transfer" in commands


async def test_missing_modules_are_named_with_their_missing_dependency(telephony: Telephony) -> None:
    telephony.ami.loaded_modules -= {"res_speech", "res_agi", "res_pjsip_pubsub", "chan_pjsip", "app_amd"}
    report = await diagnose(telephony.settings())
    assert report.problems == [
        "Asterisk: module app_amd is not loaded",
        "Asterisk: module chan_pjsip is not loaded (it requires res_pjsip_pubsub, not loaded either)",
        "Asterisk: module res_agi is not loaded (it requires res_speech, not loaded either)",
        "Asterisk: module res_pjsip_pubsub is not loaded",
        "Asterisk: module res_speech is not loaded",
    ]


async def test_missing_context_relative_paths_and_closed_ports(telephony: Telephony) -> None:
    telephony.ami.contexts.discard("voicebot-transfer")
    telephony.ami.directories["Spool directory"] = "var/asterisk/spool"
    telephony.ami.global_vars["VOICEBOT_AUDIOSOCKET"] = "127.0.0.1:1"
    telephony.ami.global_vars["VOICEBOT_VM_DIR"] = "var/voicebot"
    report = await diagnose(telephony.settings())
    assert report.problems[0].startswith("Asterisk: dialplan context [voicebot-transfer] is missing")
    assert (
        "Asterisk: Spool directory is relative (var/asterisk/spool): make it absolute in asterisk.conf"
        in (report.problems)
    )
    assert any(
        p.startswith("dialplan: VOICEBOT_VM_DIR 'var/voicebot' is not an absolute") for p in report.problems
    )
    assert any(
        p.startswith("AudioSocket: the dialplan's 127.0.0.1:1 is not reachable") for p in report.problems
    )
    assert len(report.problems) == 4


async def test_ami_down_wrong_secret_and_no_command_permission(telephony: Telephony) -> None:
    report = await diagnose(telephony.settings(ami_secret="wrong"))
    assert report.problems[0].startswith("AMI: login refused for user 'voicebot'")
    telephony.ami.command_permitted = False
    report = await diagnose(telephony.settings())
    assert report.problems == [
        "AMI: the user may not run CLI commands: add `command` to its write= in manager.conf "
        "(modules, dialplan and paths not checked)"
    ]
    report = await diagnose(telephony.settings(ami_port=1))
    assert report.problems[0].startswith("AMI: cannot reach Asterisk at 127.0.0.1:1")


async def test_wrong_language_model_and_missing_sounds(telephony: Telephony, tmp_path: Path) -> None:
    korean = tmp_path / "vosk-model-small-ko-0.22"
    (korean / "am").mkdir(parents=True)
    (korean / "am" / "final.mdl").write_bytes(b"\0")
    (telephony.sounds / SOUND_FOLDER / "beep.wav").unlink()
    report = await diagnose(telephony.settings(vosk_model_path=korean))
    assert report.problems == [
        "speech model: vosk-model-small-ko-0.22 is for language 'ko', not 'ru': run `voicebot models download`",
        f"sounds: beep missing in {telephony.sounds}/voicebot: run `voicebot telephony sounds --out {telephony.sounds}`",
    ]


async def test_the_command_exits_non_zero_per_problem_and_zero_when_well(telephony: Telephony) -> None:
    def run() -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "voicebot", "doctor"], env=telephony.env(),
                              capture_output=True, text=True, timeout=60)  # fmt: skip

    well = await asyncio.to_thread(run)
    assert well.returncode == 0, well.stderr
    assert well.stdout.startswith("ok: ") and well.stderr == ""
    telephony.ami.loaded_modules.discard("res_speech")
    sick = await asyncio.to_thread(run)
    assert sick.returncode == 1
    assert sick.stderr.splitlines() == [
        "Asterisk: module res_speech is not loaded",
        f"1 problem(s) in {well.stdout.split()[1]} checks",
    ]
