"""What the bot says, as audio: recorded prompts by key when there are any, else the cached synthesiser."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from datetime import UTC, datetime

from voicebot.dialogue.context import Utterance
from voicebot.dialogue.library import FlowLibrary
from voicebot.dialogue.templates import render, template_variables
from voicebot.logs import logged_failure
from voicebot.settings import Settings
from voicebot.tts import Audio, CachedTTS, RecordedPrompts

log = logging.getLogger(__name__)

_TEMPLATE = re.compile(r"{{|{%")


class BotVoice:
    def __init__(self, tts: CachedTTS, recorded: RecordedPrompts | None = None) -> None:
        self.tts = tts
        self.recorded = recorded

    async def audio(self, utterance: Utterance) -> Audio:
        # A recording is only right when the words are the fixed ones it was made for.
        if self.recorded is not None and utterance.key and self.recorded.has(utterance.key):
            return await self.recorded.prompt(utterance.key, utterance.text)
        return await self.tts.synthesize(utterance.text)

    async def say_text(self, text: str) -> Audio:
        return await self.tts.synthesize(text)


def fixed_prompts(library: FlowLibrary, settings: Settings) -> list[str]:
    """The spoken text of every prompt of every scenario that does not depend on the call: plain texts, and
    templates that only read company-wide settings (the greetings)."""
    company = {"company": settings.company_name, "readings_end_day": settings.readings_window_end_day}
    today = datetime.now(UTC).date()
    texts: list[str] = []
    for name in library.names():
        for prompt in library.get(name).prompts():
            if not _TEMPLATE.search(prompt.text):
                texts.append(prompt.text)
                continue
            with logged_failure(
                log, f"pre-rendering prompt {prompt.text[:40]!r}"
            ):  # rendered on first use then
                if template_variables(prompt.text) <= set(company):
                    texts.append(render(prompt.text, company, today=today)[0])
    return texts


async def prewarm(tts: CachedTTS, texts: Iterable[str], concurrency: int = 2) -> int:
    made = await tts.prewarm(texts, concurrency=concurrency)
    log.info("prompts pre-synthesised", extra={"new": made, "cached_dir": str(tts.cache_dir)})
    return made
