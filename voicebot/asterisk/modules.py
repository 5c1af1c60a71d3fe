"""The Asterisk 22 modules the shipped `telephony/` loads, what each one requires, and what the dialplan uses.

With `autoload = no` Asterisk loads only what modules.conf names, and a module whose `.requires`
dependency is not loaded fails ("missing dependency"; for a `require`d one Asterisk exits). `REQUIRES`
is copied by hand from each module's `AST_MODULE_INFO(... .requires = "...")` in the Asterisk source
(branch 22, checked against 22.10); a test checks modules.conf against it and `voicebot doctor` asks a
running Asterisk whether each module is loaded.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

ASTERISK_SOURCE = "asterisk/asterisk, branch 22 (22.10), AST_MODULE_INFO .requires"

# Built into the asterisk binary (main/*.c), always present: never named in modules.conf.
CORE_BUILTINS = frozenset(
    {"ccss", "cdr", "cel", "config", "dnsmgr", "dsp", "enum", "features", "http", "indications",
     "logger", "manager", "named_acl", "plc", "sounds", "udptl"}
)  # fmt: skip

# module -> the modules it declares in `.requires` (Asterisk 22).
REQUIRES: dict[str, tuple[str, ...]] = {
    "app_amd": (),
    "app_audiosocket": ("res_audiosocket",),
    "app_dial": (),
    "app_playback": (),
    "app_queue": (),
    "app_record": (),
    "app_stack": (),
    "app_userevent": (),
    "app_verbose": (),
    "app_waitforsilence": (),
    "bridge_builtin_features": (),
    "bridge_holding": (),
    "bridge_native_rtp": (),
    "bridge_simple": (),
    "chan_audiosocket": ("res_audiosocket",),
    "chan_pjsip": ("res_pjsip", "res_pjsip_session", "res_pjsip_pubsub"),
    "codec_alaw": (),
    "codec_g722": (),
    "codec_gsm": (),
    "codec_resample": (),
    "codec_ulaw": (),
    "format_gsm": (),
    "format_pcm": (),
    "format_sln": (),
    "format_wav": (),
    "func_callerid": (),
    "func_channel": (),
    "func_logic": (),
    "func_strings": (),
    "func_uuid": (),
    "pbx_config": (),
    "res_agi": ("res_speech",),
    "res_audiosocket": (),
    "res_pjproject": ("res_sorcery_config",),
    "res_pjsip": ("dnsmgr", "res_pjproject", "res_sorcery_config", "res_sorcery_memory", "res_sorcery_astdb"),
    "res_pjsip_authenticator_digest": ("res_pjsip",),
    "res_pjsip_caller_id": ("res_pjsip", "res_pjsip_session"),
    "res_pjsip_dtmf_info": ("res_pjsip", "res_pjsip_session"),
    "res_pjsip_endpoint_identifier_ip": ("res_pjsip",),
    "res_pjsip_endpoint_identifier_user": ("res_pjsip",),
    "res_pjsip_logger": ("res_pjsip",),
    "res_pjsip_nat": ("res_pjsip", "res_pjsip_session"),
    "res_pjsip_outbound_authenticator_digest": ("res_pjsip",),
    "res_pjsip_outbound_registration": ("res_pjsip",),
    "res_pjsip_pubsub": ("res_pjsip",),
    "res_pjsip_registrar": ("res_pjproject", "res_pjsip"),
    "res_pjsip_rfc3326": ("res_pjsip", "res_pjsip_session"),
    "res_pjsip_sdp_rtp": ("res_pjsip", "res_pjsip_session"),
    "res_pjsip_session": ("res_pjsip",),
    "res_rtp_asterisk": ("res_pjproject",),
    "res_sorcery_astdb": (),
    "res_sorcery_config": (),
    "res_sorcery_memory": (),
    "res_speech": (),
    "res_timing_timerfd": (),
}

# Modules that decline to load without their configuration file (e.g. app_amd: "amd.conf missing").
CONFIG_FILES: dict[str, str] = {
    "app_amd": "amd.conf",
    "app_queue": "queues.conf",
    "pbx_config": "extensions.conf",
    "res_pjsip": "pjsip.conf",
}

# Dialplan applications and functions -> the module providing them (None: the core / pbx builtins).
APPLICATION_MODULES: dict[str, str | None] = {
    "Answer": None, "NoOp": None, "Set": None, "Goto": None, "GotoIf": None, "Hangup": None,
    "Wait": None, "Ringing": None, "Progress": None,
    "Dial": "app_dial", "Queue": "app_queue", "Playback": "app_playback", "Record": "app_record",
    "AMD": "app_amd", "Gosub": "app_stack", "Return": "app_stack", "UserEvent": "app_userevent",
    "WaitForSilence": "app_waitforsilence", "AGI": "res_agi", "AudioSocket": "app_audiosocket",
    "Verbose": "app_verbose",
}  # fmt: skip
FUNCTION_MODULES: dict[str, str] = {
    "IF": "func_logic", "STRFTIME": "func_strings", "LEN": "func_strings", "CHANNEL": "func_channel",
    "CALLERID": "func_callerid", "UUID": "func_uuid",
}  # fmt: skip


def parse_modules_conf(text: str) -> dict[str, str]:
    """module name (no `.so`) -> `load` / `require` / `noload`, from a modules.conf's [modules] section."""
    modules: dict[str, str] = {}
    for raw in text.splitlines():
        line = re.sub(r";.*", "", raw).strip()
        match = re.match(r"^(load|require|noload|preload|preload-require)\s*=>?\s*(\S+)$", line)
        if match:
            modules[match[2].removesuffix(".so")] = match[1]
    return modules


def read_modules_conf(path: Path) -> dict[str, str]:
    return parse_modules_conf(path.read_text(encoding="utf-8"))


def loaded(modules: dict[str, str]) -> set[str]:
    return {name for name, how in modules.items() if how != "noload"}


def dependency_problems(modules: dict[str, str]) -> list[str]:
    """One line per module whose declared dependency modules.conf does not load (or loads more weakly)."""
    names = loaded(modules)
    problems: list[str] = []
    for name in sorted(names):
        if name not in REQUIRES:
            problems.append(f"{name}: not in the dependency table (voicebot/asterisk/modules.py)")
            continue
        for dependency in REQUIRES[name]:
            if dependency in CORE_BUILTINS:
                continue
            if dependency not in names:
                problems.append(f"{name} requires {dependency}, which modules.conf does not load")
            elif "require" in modules[name] and "require" not in modules[dependency]:
                problems.append(f"{name} is required but its dependency {dependency} is only loaded")
    return problems


_STEP = re.compile(r"(?:=>|,)\s*(?:n(?:\([\w-]+\))?|\d+)\s*,\s*([A-Za-z]+)\(")


def _code(extensions_conf: str) -> str:
    return "\n".join(re.sub(r"(?<!\\);.*", "", line) for line in extensions_conf.splitlines())


def dialplan_applications(extensions_conf: str) -> set[str]:
    return set(_STEP.findall(_code(extensions_conf)))


def dialplan_modules(extensions_conf: str) -> set[str]:
    """The modules the applications and functions of a dialplan need."""
    needed = {APPLICATION_MODULES.get(app) for app in dialplan_applications(extensions_conf)}
    needed |= {FUNCTION_MODULES.get(f) for f in re.findall(r"\$\{([A-Z]+)\(", _code(extensions_conf))}
    return {module for module in needed if module}


def unknown_applications(extensions_conf: str) -> list[str]:
    return sorted(app for app in dialplan_applications(extensions_conf) if app not in APPLICATION_MODULES)


def closure(names: Iterable[str]) -> set[str]:
    """The modules plus everything they require, transitively (core builtins left out)."""
    todo, seen = list(names), set()
    while todo:
        name = todo.pop()
        if name in seen or name in CORE_BUILTINS:
            continue
        seen.add(name)
        todo.extend(REQUIRES.get(name, ()))
    return seen
