"""Consistency of telephony/ (no Asterisk here): targets exist, modules load, AMI permissions suffice."""

import re
from pathlib import Path

import pytest

from voicebot.asterisk.modules import APPLICATION_MODULES, FUNCTION_MODULES

ROOT = Path(__file__).resolve().parents[2]
TELEPHONY = ROOT / "telephony"

BUILTIN_VARIABLES = {"EXTEN", "UNIQUEID", "EPOCH", "ASTSPOOLDIR", "DIALSTATUS", "QUEUESTATUS", "AMDSTATUS",
                     "AMDCAUSE", "RECORD_STATUS"}  # fmt: skip
# What AMIClient sends -> the manager.conf write class that allows it.
ACTION_CLASSES = {"Originate": "originate", "Redirect": "call", "Hangup": "call", "Getvar": "call",
                  "Setvar": "call", "CoreShowChannels": "reporting"}  # fmt: skip


def strip_comment(line: str) -> str:
    return re.sub(r"(?<!\\);.*", "", line).rstrip()


Section = tuple[str, list[str], list[tuple[str, str]]]


def sections(path: Path, *, with_templates: bool = True) -> list[Section]:
    """(name, templates, key/value pairs) for each [section](templates) of an Asterisk config file."""
    result: list[Section] = []
    hidden: set[int] = set()
    for raw in path.read_text().splitlines():
        line = strip_comment(raw).strip()
        if not line or line.startswith("#"):
            continue
        header = re.match(r"^\[([^\]]+)\](?:\(([^)]*)\))?$", line)
        if header:
            options = [t.strip() for t in (header[2] or "").split(",") if t.strip()]
            if "!" in options:
                hidden.add(len(result))
            result.append((header[1], [t for t in options if t != "!"], []))
            continue
        key, _, value = re.split(r"\s*(=>|=)\s*", line, maxsplit=1)
        result[-1][2].append((key.strip(), value.strip()))
    return [item for i, item in enumerate(result) if with_templates or i not in hidden]


def dialplan() -> dict[str, list[tuple[str, str]]]:
    """context -> [(extension, application call)]."""
    contexts: dict[str, list[tuple[str, str]]] = {}
    for name, _, pairs in sections(TELEPHONY / "extensions.conf"):
        if name in ("general", "globals"):
            continue
        exten = ""
        steps = contexts.setdefault(name, [])
        for key, value in pairs:
            if key == "exten":  # exten => name,priority,App(args)
                exten, _, call = value.split(",", 2)
            else:  # same => n(label),App(args)
                call = value.split(",", 1)[1]
            steps.append((exten, call))
    return contexts


def extension_exists(contexts: dict[str, list[tuple[str, str]]], context: str, exten: str) -> bool:
    for name, _ in contexts[context]:
        if name == exten or (name.startswith("_") and re.fullmatch(pattern_regex(name[1:]), exten)):
            return True
    return False


def pattern_regex(pattern: str) -> str:
    table = {"X": "[0-9]", "Z": "[1-9]", "N": "[2-9]", ".": ".+", "!": ".*"}
    out, i = "", 0
    while i < len(pattern):
        if pattern[i] == "[":
            end = pattern.index("]", i)
            out += pattern[i : end + 1]
            i = end + 1
            continue
        out += table.get(pattern[i], re.escape(pattern[i]))
        i += 1
    return out


def loaded_modules() -> set[str]:
    [(_, _, pairs)] = sections(TELEPHONY / "modules.conf")
    return {value.removesuffix(".so") for key, value in pairs if key in ("load", "require")}


def test_every_dialplan_jump_has_a_target() -> None:
    contexts = dialplan()
    jumps = 0
    for context, steps in contexts.items():
        for _, call in steps:
            for target in re.findall(r"(?:Goto|Gosub)\(([^)]*)\)", call) + re.findall(
                r"[?:]([\w-]+,[\w-]+,1)", call
            ):
                parts = target.split("?")[-1].split(":")[0].split(",")
                if len(parts) != 3 or "$" in parts[0]:
                    continue
                jumps += 1
                assert parts[0] in contexts, f"{context}: unknown context in {call}"
                if "$" not in parts[1]:
                    assert extension_exists(contexts, parts[0], parts[1]), (
                        f"{context}: no {parts[1]} in {call}"
                    )
    assert jumps > 15


def test_every_application_and_function_is_loaded() -> None:
    modules = loaded_modules()
    text = (TELEPHONY / "extensions.conf").read_text()
    for _, steps in dialplan().items():
        for _, call in steps:
            app = re.match(r"(\w+)\(", call)
            assert app is not None, call
            assert app[1] in APPLICATION_MODULES, f"application {app[1]} not mapped to a module"
            module = APPLICATION_MODULES[app[1]]
            assert module is None or module in modules, f"{app[1]} needs {module}"
    for function in set(re.findall(r"\$\{([A-Z]+)\(", text)):
        assert FUNCTION_MODULES[function] in modules, function
    if "Dial(AudioSocket/" in text:
        assert {"chan_audiosocket", "res_audiosocket"} <= modules


def test_endpoints_and_queue_members_exist() -> None:
    contexts = dialplan()
    pjsip = sections(TELEPHONY / "pjsip.conf")
    by_name = {(name, dict(pairs).get("type")) for name, _, pairs in pjsip}
    endpoints = set()
    for name, templates, pairs in sections(TELEPHONY / "pjsip.conf", with_templates=False):
        merged: dict[str, str] = {}
        for template in templates:
            merged |= next(dict(p) for n, _, p in pjsip if n == template)
        merged |= dict(pairs)
        if merged.get("type") == "endpoint":
            endpoints.add(name)
            assert merged.get("context") in contexts, f"endpoint {name}: context {merged.get('context')}"
            assert merged.get("direct_media") == "no", "media must stay in Asterisk for AudioSocket"
    assert {"voicebot-trunk", "softphone", "operator1", "dispatcher"} <= endpoints
    assert ("voicebot-trunk-auth", "auth") in by_name
    queues = {name: pairs for name, _, pairs in sections(TELEPHONY / "queues.conf")}
    globals_ = dict(next(p for n, _, p in sections(TELEPHONY / "extensions.conf") if n == "globals"))
    assert globals_["VOICEBOT_OPERATOR_QUEUE"] in queues
    for key, value in queues[globals_["VOICEBOT_OPERATOR_QUEUE"]]:
        if key == "member":
            assert value.removeprefix("PJSIP/") in endpoints


def test_ami_user_can_do_what_the_client_sends_and_no_more() -> None:
    config = {name: dict(pairs) for name, _, pairs in sections(TELEPHONY / "manager.conf")}
    user = config["voicebot"]
    write = set(user["write"].split(","))
    read = set(user["read"].split(","))
    assert {ACTION_CLASSES[action] for action in ACTION_CLASSES} <= write
    assert "command" in write  # voicebot doctor: module show like, dialplan show, core show settings
    assert not write & {"system", "all", "config"}
    assert "call" in read and "agent" in read and "user" in read
    assert "VOICEBOT_UUID" in config["general"]["channelvars"].split(",")


def test_every_variable_is_documented() -> None:
    readme = (TELEPHONY / "README.md").read_text()
    text = (TELEPHONY / "extensions.conf").read_text()
    for variable in sorted(set(re.findall(r"\bVOICEBOT_[A-Z_]+\b", text))):
        assert f"`{variable}`" in readme, f"{variable} missing from telephony/README.md"
    for variable in set(re.findall(r"\$\{([A-Z_]+)\}", text)) - BUILTIN_VARIABLES:
        assert variable.startswith("VOICEBOT_"), f"undocumented variable {variable}"


@pytest.mark.parametrize(
    "name",
    [
        "extensions.conf",
        "manager.conf",
        "pjsip.conf",
        "modules.conf",
        "queues.conf",
        "amd.conf",
        "logger.conf",
        "indications.conf",
        "rtp.conf",
    ],
)
def test_config_files_parse(name: str) -> None:
    assert sections(TELEPHONY / name)
