"""telephony/ works as shipped on Asterisk 22: every module's dependencies loaded, every needed .conf,
absolute paths, voice messages where the bot looks, every sound the dialplan plays renderable."""

import re
from pathlib import Path

import pytest
import yaml

from voicebot.asterisk.modules import (
    CONFIG_FILES,
    CORE_BUILTINS,
    REQUIRES,
    dependency_problems,
    dialplan_modules,
    parse_modules_conf,
    read_modules_conf,
    unknown_applications,
)
from voicebot.asterisk.sounds import dialplan_sounds, load_catalog

ROOT = Path(__file__).resolve().parents[2]
TELEPHONY = ROOT / "telephony"
MODULES = read_modules_conf(TELEPHONY / "modules.conf")
EXTENSIONS = (TELEPHONY / "extensions.conf").read_text()
RECORD = re.compile(r"^\s*same => n,Record\(([^)]*)\)", re.M)


def without(module: str) -> dict[str, str]:
    text = (TELEPHONY / "modules.conf").read_text()
    return parse_modules_conf(re.sub(rf"^\w+ = {module}\.so.*$", "", text, flags=re.M))


def test_every_module_is_in_the_dependency_table() -> None:
    assert set(MODULES) <= set(REQUIRES), set(MODULES) - set(REQUIRES)


def test_every_dependency_of_every_loaded_module_is_loaded_too() -> None:
    assert dependency_problems(MODULES) == []


@pytest.mark.parametrize(
    ("removed", "dependent"),
    [("res_speech", "res_agi"), ("res_pjsip_pubsub", "chan_pjsip"), ("res_audiosocket", "chan_audiosocket"),
     ("res_sorcery_config", "res_pjproject")],
)  # fmt: skip
def test_a_missing_dependency_is_named(removed: str, dependent: str) -> None:
    problems = dependency_problems(without(removed))
    assert f"{dependent} requires {removed}, which modules.conf does not load" in problems


def test_a_required_module_depends_only_on_required_modules() -> None:
    weak = parse_modules_conf(
        (TELEPHONY / "modules.conf").read_text().replace("require = res_speech.so", "load = res_speech.so")
    )
    assert dependency_problems(weak) == ["res_agi is required but its dependency res_speech is only loaded"]


def test_the_table_names_only_real_modules_or_core_builtins() -> None:
    for name, dependencies in REQUIRES.items():
        for dependency in dependencies:
            assert dependency in REQUIRES or dependency in CORE_BUILTINS, (name, dependency)


def test_everything_the_dialplan_calls_is_required_at_start() -> None:
    assert unknown_applications(EXTENSIONS) == []
    needed = dialplan_modules(EXTENSIONS)
    assert {"res_agi", "app_amd", "app_record", "app_queue", "app_audiosocket"} <= needed
    for module in needed:
        assert MODULES.get(module) == "require", f"{module}: the dialplan needs it; make it `require`"
    for codec in ("codec_ulaw", "codec_alaw", "codec_resample", "format_wav"):
        assert MODULES.get(codec) == "require", codec


def test_modules_that_need_a_config_file_have_it() -> None:
    for module, filename in CONFIG_FILES.items():
        if module in MODULES:
            assert (TELEPHONY / filename).is_file(), f"{module} declines to load without {filename}"
    assert (TELEPHONY / "logger.conf").is_file()
    assert (TELEPHONY / "indications.conf").is_file()  # ringing for callers waiting in the queue


def amd_settings() -> dict[str, str]:
    pairs = re.findall(r"^(\w+)\s*=\s*(\S+)", (TELEPHONY / "amd.conf").read_text(), re.M)
    return dict(pairs)


def test_amd_conf_has_the_keys_app_amd_reads() -> None:
    assert "[general]" in (TELEPHONY / "amd.conf").read_text()
    keys = {"initial_silence", "greeting", "after_greeting_silence", "total_analysis_time", "min_word_length",
            "between_words_silence", "maximum_number_of_words", "maximum_word_length", "silence_threshold"}  # fmt: skip
    assert set(amd_settings()) == keys
    assert all(value.isdigit() for value in amd_settings().values())


def directories() -> dict[str, str]:
    text = (TELEPHONY / "asterisk.conf").read_text()
    section = text.split("[directories]", 1)[1].split("[", 1)[0]
    return dict(re.findall(r"^(\w+)\s*=>\s*(\S+)", section, re.M))


def globals_() -> dict[str, str]:
    section = EXTENSIONS.split("[globals]", 1)[1].split("\n[", 1)[0]
    return {k: v.strip() for k, v in re.findall(r"^(VOICEBOT_\w+)\s*=\s*([^;\n]*)", section, re.M)}


def test_every_asterisk_path_is_absolute() -> None:
    dirs = directories()
    assert {"astetcdir", "astspooldir", "astdatadir", "astlogdir", "astrundir"} <= set(dirs)
    for key, value in dirs.items():
        assert value.startswith("/"), f"asterisk.conf {key} => {value} is relative"


def test_voice_messages_land_where_the_bot_and_docker_look() -> None:
    vm_dir = globals_()["VOICEBOT_VM_DIR"]
    assert vm_dir.startswith("/"), "Record() resolves a relative name against <astdatadir>/sounds/"
    assert vm_dir.startswith(directories()["astspooldir"] + "/")
    recording = re.search(r"Set\(VOICEBOT_RECORDING=([^)]*)\)", EXTENSIONS)
    assert recording is not None and recording[1].startswith("${VOICEBOT_VM_DIR}/")
    assert RECORD.search(EXTENSIONS)[1].startswith("${VOICEBOT_RECORDING}.wav,")  # type: ignore[index]
    compose = yaml.safe_load((ROOT / "docker" / "compose.yml").read_text())
    for service in ("asterisk", "voicebot"):
        mounts = [volume.split(":")[1] for volume in compose["services"][service]["volumes"]]
        assert vm_dir in mounts, f"{service} does not see {vm_dir}"


def test_record_needs_no_core_sound() -> None:
    record = RECORD.search(EXTENSIONS)
    assert record is not None
    options = record[1].split(",")[3]
    assert "q" in options, "without q Record() plays the core sound beep, absent on a bare Asterisk"
    before = EXTENSIONS[: record.start()].rsplit("\n", 3)
    assert any("Playback(voicebot/beep)" in line for line in before)


def test_every_sound_the_dialplan_plays_has_a_text_or_tone() -> None:
    played = dialplan_sounds(EXTENSIONS)
    assert {"overflow", "leave-message", "message-saved", "beep"} <= played
    catalog = load_catalog(ROOT / "scenarios")
    assert played <= catalog.names, played - catalog.names
    assert all(re.search("[а-я]", text) for text in catalog.texts.values())


def steps_of(context: str) -> list[str]:
    section = re.split(rf"^\[{context}\]$", EXTENSIONS, maxsplit=1, flags=re.M)[1].split("\n[", 1)[0]
    return [re.sub(r";.*", "", line).strip() for line in section.splitlines() if "=>" in line.split(";")[0]]


def test_a_bot_that_dies_mid_call_leads_to_overflow_voice_message_and_callback() -> None:
    # VOICEBOT_ACTION is cleared before the bot is connected; only the bot's goodbye sets it again.
    assert steps_of("voicebot-route")[0] == "exten => dialogue,1,Set(VOICEBOT_ACTION=)"
    after = steps_of("voicebot-after")
    handled = [re.search(r'"\$\{VOICEBOT_ACTION\}" = "(\w+)"', step) for step in after]
    assert {m[1] for m in handled if m} == {"transfer", "voicemail", "hangup"}
    fallthrough = after[[i for i, m in enumerate(handled) if m][-1] + 1 :]
    assert fallthrough[0].endswith("Set(VOICEBOT_BOT_STATUS=CRASHED)")
    assert fallthrough[1].endswith("Goto(voicebot-route,overflow,1)")
    overflow = steps_of("voicebot-route")
    assert any("Goto(voicebot-voicemail,s,1)" in step for step in overflow)


def test_a_transfer_nobody_answers_ends_in_a_voice_message_with_a_callback() -> None:
    transfer = steps_of("voicebot-transfer")
    assert any("Queue(${VOICEBOT_OPERATOR_QUEUE},r,,,${VOICEBOT_QUEUE_TIMEOUT})" in s for s in transfer)
    fallback = [s for s in transfer if "fallback" in s or s.startswith("same")]
    assert any("UserEvent(VoicebotTransfer," in s and "Status: fallback" in s for s in fallback)
    assert any("Set(VOICEBOT_CALLBACK=1)" in s for s in transfer)
    assert "Callback: ${VOICEBOT_CALLBACK}" in EXTENSIONS  # the voice message event asks for the callback
