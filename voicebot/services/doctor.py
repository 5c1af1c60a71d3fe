"""`voicebot doctor`: is the telephony side able to take calls? One clear line per problem.

Checks, in order: the AMI link (reachable, logged in); every module the dialplan needs loaded in the
running Asterisk (`module show like …` over AMI), with what a missing one requires; the dialplan contexts
(`dialplan show …`); Asterisk's directories absolute (`core show settings`) and the voice message folder;
the bot's FastAGI and AudioSocket ports reachable at the addresses the dialplan uses; the speech model
present and Russian; the dialplan's prompts present in the Asterisk sounds folder. The same report feeds
`/healthz` and the web UI's banner (`TelephonyHealth`, refreshed by `voicebot serve`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from voicebot.asterisk.ami import AMIClient
from voicebot.asterisk.ami_protocol import AMIError, AuthenticationFailed
from voicebot.asterisk.modules import REQUIRES, closure, dialplan_modules, read_modules_conf
from voicebot.asterisk.sounds import dialplan_sounds, missing_sounds
from voicebot.settings import PROJECT_ROOT, Settings

log = logging.getLogger(__name__)

TELEPHONY_DIR = PROJECT_ROOT / "telephony"
CONNECT_TIMEOUT = 3.0
LANGUAGE = "ru"


@dataclass
class DoctorReport:
    problems: list[str] = field(default_factory=list)
    checks: int = 0
    checked_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict[str, object]:
        return {"ok": self.ok, "problems": list(self.problems), "checks": self.checks,
                "checked_at": self.checked_at.isoformat()}  # fmt: skip


@dataclass(frozen=True)
class Dialplan:
    """What the shipped telephony/ expects of Asterisk."""

    modules: list[str]
    contexts: list[str]
    sounds: set[str]
    globals: dict[str, str]

    @classmethod
    def read(cls, folder: Path = TELEPHONY_DIR) -> Dialplan:
        text = (folder / "extensions.conf").read_text(encoding="utf-8")
        configured = read_modules_conf(folder / "modules.conf")
        wanted = closure(dialplan_modules(text)) | {m for m, how in configured.items() if how == "require"}
        contexts = [c for c in re.findall(r"^\[([\w-]+)\]", text, re.M) if c not in ("general", "globals")]
        section = text.split("[globals]", 1)[1].split("\n[", 1)[0] if "[globals]" in text else ""
        values = {k: v.strip() for k, v in re.findall(r"^(VOICEBOT_\w+)\s*=\s*([^;\n]*)", section, re.M)}
        return cls(
            sorted(wanted), [c for c in contexts if c.startswith("voicebot-")], dialplan_sounds(text), values
        )


async def diagnose(
    settings: Settings, ami: AMIClient | None = None, *, dialplan: Dialplan | None = None, reach: bool = True
) -> DoctorReport:
    """Run every check. `ami`: an already connected client (serve's); None: log in with the settings.
    `reach=False` skips connecting to the bot's own ports (serve: they are this process's listeners)."""
    dialplan = dialplan or Dialplan.read()
    report = DoctorReport()
    own = ami is None
    client = ami or AMIClient(settings.ami_host, settings.ami_port, settings.ami_username,
                              settings.ami_secret, events="off", connect_timeout=CONNECT_TIMEOUT)  # fmt: skip
    try:
        live = await _ami_link(settings, client, own, report)
        globals_ = dict(dialplan.globals)
        if live:
            await _asterisk_checks(client, dialplan, report)
            globals_ |= await _live_globals(client, list(globals_))
        _vm_dir_check(globals_, report)
        if reach:
            await _reachability(settings, globals_, report)
    finally:
        if own:
            await client.close()
    _speech_model_check(settings, report)
    _sounds_check(settings, dialplan, report)
    return report


async def _ami_link(settings: Settings, client: AMIClient, own: bool, report: DoctorReport) -> bool:
    report.checks += 1
    where = f"{settings.ami_host}:{settings.ami_port}"
    if not own:
        if not client.connected:
            report.problems.append(_ami_not_connected(settings))
        return client.connected
    try:
        await asyncio.wait_for(client.connect(), CONNECT_TIMEOUT + 2)
    except AuthenticationFailed:
        report.problems.append(
            f"AMI: login refused for user {settings.ami_username!r} at {where}: "
            "VOICEBOT_AMI_SECRET must equal the secret in manager.conf"
        )
        return False
    except (OSError, TimeoutError, AMIError) as exc:
        report.problems.append(f"AMI: cannot reach Asterisk at {where} ({_reason(exc)})")
        return False
    return True


async def _cli(client: AMIClient, command: str) -> tuple[bool, list[str]]:
    response = await client.action("Command", {"Command": command}, check=False)
    if response.message.get("Message") == "Permission denied":
        raise PermissionError(command)
    return response.success, response.message.get_all("Output")


async def _asterisk_checks(client: AMIClient, dialplan: Dialplan, report: DoctorReport) -> None:
    try:
        await _module_checks(client, dialplan, report)
        await _context_checks(client, dialplan, report)
        await _directory_checks(client, report)
    except PermissionError:
        report.problems.append(
            "AMI: the user may not run CLI commands: add `command` to its write= in manager.conf "
            "(modules, dialplan and paths not checked)"
        )
    except (AMIError, TimeoutError) as exc:
        report.problems.append(f"AMI: checks interrupted ({_reason(exc)})")


async def _module_checks(client: AMIClient, dialplan: Dialplan, report: DoctorReport) -> None:
    loaded: set[str] = set()
    for module in dialplan.modules:
        report.checks += 1
        _, lines = await _cli(client, f"module show like {module}")
        names = {
            line.split()[0].removesuffix(".so") for line in lines if line.split() and ".so" in line.split()[0]
        }
        if module in names:
            loaded.add(module)
    for module in dialplan.modules:
        if module in loaded:
            continue
        missing_deps = [d for d in REQUIRES.get(module, ()) if d in REQUIRES and d not in loaded]
        hint = f" (it requires {', '.join(missing_deps)}, not loaded either)" if missing_deps else ""
        report.problems.append(f"Asterisk: module {module} is not loaded{hint}")


async def _context_checks(client: AMIClient, dialplan: Dialplan, report: DoctorReport) -> None:
    for context in dialplan.contexts:
        report.checks += 1
        ok, lines = await _cli(client, f"dialplan show {context}")
        if not ok or any("There is no existence" in line for line in lines):
            report.problems.append(
                f"Asterisk: dialplan context [{context}] is missing (load telephony/extensions.conf: dialplan reload)"
            )


async def _directory_checks(client: AMIClient, report: DoctorReport) -> None:
    report.checks += 1
    _, lines = await _cli(client, "core show settings")
    for line in lines:
        match = re.match(r"^\s*([\w/ ]+ directory):\s*(\S+)", line)
        if match and not match[2].startswith("/"):
            report.problems.append(
                f"Asterisk: {match[1]} is relative ({match[2]}): make it absolute in asterisk.conf"
            )


async def _live_globals(client: AMIClient, names: list[str]) -> dict[str, str]:
    values: dict[str, str] = {}
    for name in names:
        try:
            value = await client.getvar(name)
        except (AMIError, TimeoutError):
            continue
        if value:
            values[name] = value
    return values


def _vm_dir_check(globals_: dict[str, str], report: DoctorReport) -> None:
    report.checks += 1
    folder = globals_.get("VOICEBOT_VM_DIR", "")
    if not folder.startswith("/"):
        report.problems.append(
            f"dialplan: VOICEBOT_VM_DIR {folder!r} is not an absolute folder: voice messages would be lost"
        )


def _targets(settings: Settings, globals_: dict[str, str]) -> list[tuple[str, str]]:
    agi = re.match(r"agi://([^/:]+|\[[^\]]+\])(?::(\d+))?", globals_.get("VOICEBOT_AGI", ""))
    targets = []
    if agi:
        targets.append(("FastAGI", f"{agi[1]}:{agi[2] or 4573}"))
    audiosocket = settings.audiosocket_advertise or globals_.get("VOICEBOT_AUDIOSOCKET", "")
    if audiosocket:
        targets.append(("AudioSocket", audiosocket))
    return targets


async def _reachability(settings: Settings, globals_: dict[str, str], report: DoctorReport) -> None:
    for name, target in _targets(settings, globals_):
        report.checks += 1
        host, _, port = target.rpartition(":")
        try:
            _, writer = await asyncio.wait_for(
                asyncio.open_connection(host.strip("[]"), int(port)), CONNECT_TIMEOUT
            )
        except (OSError, TimeoutError, ValueError) as exc:
            report.problems.append(f"{name}: the dialplan's {target} is not reachable ({_reason(exc)})")
            continue
        writer.close()


def _speech_model_check(settings: Settings, report: DoctorReport) -> None:
    from voicebot.asr.factory import resolve_model_path
    from voicebot.asr.types import ASRUnavailableError

    report.checks += 1
    if settings.asr != "vosk":
        return  # vosk-server: the model lives in the server
    try:
        path = resolve_model_path(settings)
    except ASRUnavailableError as exc:
        report.problems.append(f"speech model: {exc}")
        return
    language = re.match(r"vosk-model-(?:small-)?([a-z]{2})\b", path.name)
    if language is None or language[1] != LANGUAGE:
        found = language[1] if language else "unknown"
        report.problems.append(
            f"speech model: {path.name} is for language {found!r}, not {LANGUAGE!r}: run `voicebot models download`"
        )


def _sounds_check(settings: Settings, dialplan: Dialplan, report: DoctorReport) -> None:
    report.checks += 1
    folder = settings.asterisk_sounds_dir
    missing = missing_sounds(dialplan.sounds, folder)
    if missing:
        report.problems.append(
            f"sounds: {', '.join(missing)} missing in {folder}/voicebot: run `voicebot telephony sounds --out {folder}`"
        )


def _ami_not_connected(settings: Settings) -> str:
    return (
        f"AMI: not connected to Asterisk at {settings.ami_host}:{settings.ami_port} (down, or wrong secret)"
    )


def _reason(exc: BaseException) -> str:
    return str(exc) or type(exc).__name__


class TelephonyHealth:
    """The latest doctor report of a running `voicebot serve`, for /healthz and the web UI's banner.

    The AMI link is read live on top of it: a report is redone every 5 minutes while all is well, and an
    Asterisk that went away (or a serve that never logged in) must show at once, not at the next check.
    """

    def __init__(self, settings: Settings, ami: AMIClient | None = None) -> None:
        self.settings, self.ami = settings, ami
        self.report: DoctorReport | None = None

    def _link_problems(self) -> list[str]:
        reported = self.report.problems if self.report is not None else []
        if self.ami is None or self.ami.connected or any(p.startswith("AMI:") for p in reported):
            return []
        return [_ami_not_connected(self.settings)]

    @property
    def problems(self) -> list[str]:
        return self._link_problems() + (list(self.report.problems) if self.report is not None else [])

    def as_dict(self) -> dict[str, object]:
        link = self._link_problems()
        if self.report is None:
            return {"ok": False if link else None, "problems": link, "checks": 0, "checked_at": None}
        body = self.report.as_dict()
        if link:
            body |= {"ok": False, "problems": link + list(self.report.problems)}
        return body

    async def refresh(self) -> DoctorReport:
        try:
            self.report = await diagnose(self.settings, self.ami, reach=False)
        except Exception as exc:  # a broken check must not stop the watch; say so instead
            log.exception("telephony check failed")
            self.report = DoctorReport(problems=[f"telephony check failed: {_reason(exc)}"])
        return self.report

    async def watch(self, healthy_every: float = 300.0, sick_every: float = 15.0) -> None:
        """Re-check while serve runs: often while something is wrong, rarely once all is well."""
        if self.ami is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.ami.wait_connected(), sick_every)
        while True:
            report = await self.refresh()
            if not report.ok:
                log.warning("telephony not ready", extra={"problems": report.problems})
            await asyncio.sleep(healthy_every if report.ok else sick_every)
