"""All scenarios of a folder, loaded once and checked: unknown steps and actions, unmapped results,
texts an action says that the flow lacks, and template variables nobody provides are load-time errors."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from voicebot.dialogue.actions.registry import load_all
from voicebot.dialogue.flow import Flow, FlowError, Step, load_flow
from voicebot.dialogue.templates import filters_used, known_filters, template_variables

# Variables every template may use; `company` comes from settings, the rest from the call.
GLOBAL_VARIABLES = {"company", "phone", "readings_end_day"}


@dataclass
class FlowLibrary:
    flows: dict[str, Flow]

    def get(self, name: str) -> Flow:
        try:
            return self.flows[name]
        except KeyError:
            known = ", ".join(sorted(self.flows))
            raise KeyError(f"unknown scenario {name!r} (known: {known})") from None

    def names(self) -> list[str]:
        return sorted(self.flows)

    @classmethod
    def load(cls, folder: Path) -> FlowLibrary:
        flows = {}
        for sub in sorted(p for p in folder.iterdir() if (p / "flow.yml").is_file()):
            flows[sub.name] = load_flow(sub)
        library = cls(flows)
        problems = library.check()
        if problems:
            raise FlowError("scenario check failed:\n" + "\n".join(f"  - {p}" for p in problems))
        return library

    def check(self) -> list[str]:
        problems: list[str] = []
        for flow in self.flows.values():
            problems.extend(_check_flow(flow, self))
        return problems


def _check_flow(flow: Flow, library: FlowLibrary) -> list[str]:
    actions = load_all()
    problems: list[str] = []
    provided = set(GLOBAL_VARIABLES) | set(flow.variables)
    used_actions = {s.action for s in flow.steps.values() if s.action} | {
        s.handler for s in flow.steps.values() if s.handler
    }
    if flow.outcome_action:
        used_actions.add(flow.outcome_action)
    for name in sorted(used_actions):
        if name not in actions:
            problems.append(f"{flow.name}: unknown action {name!r}")
            continue
        provided |= set(actions[name].provides)
        problems.extend(
            f"{flow.name}: action {name!r} says text {key!r} that the flow does not define"
            for key in actions[name].texts
            if key not in flow.texts
        )
    for direction, start in flow.start.items():
        if start not in flow.steps:
            problems.append(f"{flow.name}: {direction} start step {start!r} does not exist")
    for step in flow.steps.values():
        problems.extend(_check_step(flow, step, actions))
    for prompt in flow.prompts():
        try:
            missing = template_variables(prompt.text) - provided
            bad_filters = filters_used(prompt.text) - known_filters()
        except Exception as exc:  # a template syntax error
            problems.append(f"{flow.name}: {prompt.key}: template error: {exc}")
            continue
        if missing:
            problems.append(f"{flow.name}: {prompt.key}: no one provides {', '.join(sorted(missing))}")
        if bad_filters:
            problems.append(
                f"{flow.name}: {prompt.key}: unknown formatter(s) {', '.join(sorted(bad_filters))}"
            )
    return problems


def _check_step(flow: Flow, step: Step, actions: dict) -> list[str]:
    problems = []
    where = f"{flow.name}.{step.name}"
    targets = list(step.results.values()) + [t for t in (step.next, step.on_fail, step.on_silence) if t]
    problems.extend(f"{where}: unknown step {t!r}" for t in targets if t not in flow.steps)
    name = step.action or step.handler
    if name in actions:
        declared = set(actions[name].results)
        unmapped = declared - set(step.results) - set(flow.steps) - {"switched"}
        if unmapped and "default" not in step.results and not (step.next and not step.results):
            problems.append(f"{where}: result(s) {', '.join(sorted(unmapped))} of {name!r} lead nowhere")
        extra = set(step.results) - declared - {"default"}
        if extra and declared:
            problems.append(f"{where}: {name!r} never returns {', '.join(sorted(extra))}")
    if step.end is not None and step.end != "auto" and step.end not in flow.outcomes:
        problems.append(f"{where}: outcome {step.end!r} is not among the flow's outcomes")
    return problems


@lru_cache(maxsize=4)
def cached_library(folder: str) -> FlowLibrary:
    return FlowLibrary.load(Path(folder))
