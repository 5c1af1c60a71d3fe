"""Named Python actions that flows call. Each declares the results it returns, the texts it says and the
template variables it provides, so `voicebot scenarios check` can verify a flow without running it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from voicebot.dialogue.context import DialogueContext

ActionFn = Callable[["DialogueContext"], Awaitable[str | None]]


@dataclass(frozen=True)
class Action:
    name: str
    fn: ActionFn
    results: tuple[str, ...]
    texts: tuple[str, ...]
    provides: tuple[str, ...]


ACTIONS: dict[str, Action] = {}


def action(
    name: str, *, results: tuple[str, ...] = (), texts: tuple[str, ...] = (), provides: tuple[str, ...] = ()
) -> Callable[[ActionFn], ActionFn]:
    def register(fn: ActionFn) -> ActionFn:
        if name in ACTIONS:
            raise ValueError(f"action {name!r} is registered twice")
        ACTIONS[name] = Action(name, fn, results, texts, provides)
        return fn

    return register


def get_action(name: str) -> Action:
    load_all()
    try:
        return ACTIONS[name]
    except KeyError:
        raise KeyError(f"unknown action {name!r}") from None


def load_all() -> dict[str, Action]:
    # Importing the modules registers their actions.
    from voicebot.dialogue.actions import (  # noqa: F401
        announce,
        appointments,
        common,
        company,
        debt,
        identify,
        intake,
        messenger,
        meters,
        nps,
        router,
        visits,
    )

    return ACTIONS
