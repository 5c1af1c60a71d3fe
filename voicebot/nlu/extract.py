"""Runs the rule-based extractors in order and orders their entities for `ParseResult.last`.

Order matters: dates and times take their number words first, then money, addresses and digit strings
take whole spoken numbers, and only what is left becomes a plain `number`.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from voicebot.nlu import address, dates, lexicon, numbers, person, problems, scores, times
from voicebot.nlu.context import Context, DatePreference
from voicebot.nlu.normalize import Token
from voicebot.nlu.result import Entity

# Values the bot must not use when a plain one of the same type exists: they go first, so `last` skips them.
DEMOTED_ROLES = frozenset({"fraction", "rejected", "part_of_day"})


def extract_entities(
    text: str,
    tokens: list[Token],
    *,
    now: datetime,
    date_preference: DatePreference = "future",
    expected_entities: Collection[str] = (),
) -> list[Entity]:
    ctx = Context(
        text=text,
        tokens=tokens,
        now=now,
        date_preference=date_preference,
        expected_entities=frozenset(expected_entities),
    )
    scores.hide_scale_mentions(ctx)
    dates.extract(ctx)
    times.extract(ctx)
    scores.extract_grades(ctx)
    lexicon.extract_tariffs(ctx)
    numbers.build_runs(ctx)
    numbers.extract_money(ctx)
    address.extract(ctx)
    numbers.extract_digits(ctx)
    numbers.extract_numbers(ctx)
    scores.extract_scores(ctx)
    problems.extract(ctx)
    if not any(e.entity == "problem" for e in ctx.entities):
        lexicon.extract_resources(ctx)
    lexicon.extract_locations(ctx)
    person.extract(ctx)
    return order_entities(ctx.entities)


def order_entities(entities: list[Entity]) -> list[Entity]:
    """By position, except that demoted values (red digits, «не девять», «вечером») come first."""
    return sorted(entities, key=lambda e: (e.role not in DEMOTED_ROLES, e.start, e.end))
