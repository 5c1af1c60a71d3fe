"""Russian NLU: intents and entities of what a resident said.

The dialogue runtime calls `create_nlu(settings)` once and then `await nlu.parse(text, now=...)` per turn.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Literal, Protocol

from voicebot.nlu.problems import PROBLEM_CATEGORIES
from voicebot.nlu.result import Entity, ParseResult
from voicebot.settings import Settings, get_settings

__all__ = ["NLU", "PROBLEM_CATEGORIES", "Entity", "NLUUnavailable", "ParseResult", "create_nlu"]


class NLUUnavailable(RuntimeError):
    """The external NLU server cannot be reached or answered nonsense."""


class NLU(Protocol):
    async def parse(
        self,
        text: str,
        *,
        now: datetime,
        expected_intents: Collection[str] | None = None,
        date_preference: Literal["future", "past"] = "future",
        expected_entities: Collection[str] | None = None,
    ) -> ParseResult: ...


def create_nlu(settings: Settings | None = None) -> NLU:
    """The embedded NLU, or the Rasa adapter when settings.nlu == "rasa"."""
    settings = settings or get_settings()
    if settings.nlu == "rasa":
        from voicebot.nlu.rasa import RasaNLU

        if not settings.rasa_url:
            raise ValueError("VOICEBOT_NLU=rasa needs VOICEBOT_RASA_URL")
        return RasaNLU(settings.rasa_url)
    from voicebot.nlu.embedded import EmbeddedNLU

    return EmbeddedNLU(
        settings.scenarios_dir, cache_dir=settings.nlu_cache_path, threshold=settings.nlu_threshold
    )
