"""`time` entities ("HH:MM"): «в три часа дня», «часа в три», «в девять ноль-ноль», «с пятнадцати до
восемнадцати» (roles "from"/"to"), «вечером» (a default hour, role "part_of_day").

A bare hour from 1 to 7 without «утра»/«ночи» is taken as afternoon: nobody books a plumber at 3 a.m.
"""

from __future__ import annotations

import re

from voicebot.nlu.context import Context
from voicebot.nlu.numerals import Group, read_group

_LEAD = {
    "в": None,
    "во": None,
    "к": None,
    "около": None,
    "после": None,
    "с": "from",
    "со": "from",
    "до": "to",
}
_DAY_PART_SUFFIX = {"утра": "morning", "дня": "day", "вечера": "evening", "ночи": "night"}
_PART_OF_DAY = {
    "утром": "09:00", "днем": "13:00", "вечером": "19:00", "обед": "13:00", "полдень": "12:00",
}  # fmt: skip
_PM_CONTEXT = frozenset({"вечером", "днем", "обеда", "вечер"})
_CLOCK_RE = re.compile(r"^([01]?\d|2[0-3])[:.]([0-5]\d)$")
# Nouns after a number that make it something other than a clock time («в два раза», «в три подъезда»).
_NOT_TIME = frozenset(
    [
        "раз",
        "рубль",
        "тысяча",
        "квартира",
        "дом",
        "этаж",
        "подъезд",
        "корпус",
        "месяц",
        "год",
        "неделя",
        "сутки",
        "минута",
        "процент",
        "градус",
        "человек",
        "штука",
        "кубометр",
        "куб",
    ]
)


def extract(ctx: Context) -> None:
    i = 0
    while i < len(ctx.tokens):
        end = _clock_at(ctx, i) if ctx.free(i) else None
        i = end + 1 if end is not None else i + 1
    _parts_of_day(ctx)


def _hour_group(ctx: Context, i: int) -> Group | None:
    if not ctx.free(i):
        return None
    tok = ctx.tokens[i]
    if tok.text in ("час", "часу"):
        return None
    group = read_group(ctx.tokens, i)
    if (
        group is None
        or group.has_scale
        or group.fraction is not None
        or group.written is not None
        or group.half
    ):
        return None
    return group if 0 <= group.value <= 24 else None


def _clock_at(ctx: Context, i: int) -> int | None:
    tok = ctx.tokens[i]
    match = _CLOCK_RE.match(tok.text)
    if match:
        first = i - 1 if ctx.text_at(i - 1) in _LEAD and ctx.free(i - 1) else i
        role = _LEAD.get(ctx.text_at(i - 1)) if first < i else None
        ctx.emit("time", f"{int(match.group(1)):02d}:{match.group(2)}", first, i, role)
        return i
    if tok.text in _LEAD:
        return _after_preposition(ctx, i)
    if tok.lemma == "час" and ctx.text_at(i + 1) == "в":
        return _after_preposition(ctx, i + 1, first=i)  # «часа в три»
    if tok.text == "в" and ctx.text_at(i + 1) in ("полдень", "полночь"):
        ctx.emit("time", "12:00" if ctx.text_at(i + 1) == "полдень" else "00:00", i, i + 1)
        return i + 1
    group = _hour_group(ctx, i)
    if group is not None and ctx.lemma_at(group.last + 1) == "час":
        return _finish(ctx, group, first=i, role=None)
    return None


def _after_preposition(ctx: Context, p: int, first: int | None = None) -> int | None:
    role = _LEAD[ctx.text_at(p)]
    first = p if first is None else first
    if ctx.text_at(p + 1) in ("час", "часу") and ctx.lemma_at(p + 2) not in _NOT_TIME:
        return _emit_time(ctx, 13, 0, first, p + 1, role, suffix_at=p + 2)
    group = _hour_group(ctx, p + 1)
    if group is None:
        return None
    nxt = ctx.lemma_at(group.last + 1)
    if nxt in _NOT_TIME:
        return None
    return _finish(ctx, group, first=first, role=role)


def _finish(ctx: Context, group: Group, first: int, role: str | None) -> int:
    hour, last = int(group.value), group.last
    minute = 0
    if ctx.lemma_at(last + 1) == "час":
        last += 1
    minutes = _minutes(ctx, last + 1)
    if minutes is not None:
        minute, last = minutes
    end = _emit_time(ctx, hour, minute, first, last, role, suffix_at=last + 1)
    if role == "from" and ctx.text_at(end + 1) in ("до", "по"):
        _after_preposition_to(ctx, end + 1)
    return end


def _after_preposition_to(ctx: Context, p: int) -> None:
    if ctx.text_at(p + 1) in ("час", "часу"):
        _emit_time(ctx, 13, 0, p, p + 1, "to", suffix_at=p + 2)
        return
    group = _hour_group(ctx, p + 1)
    if group is not None:
        _finish(ctx, group, first=p, role="to")


def _minutes(ctx: Context, j: int) -> tuple[int, int] | None:
    """«ноль-ноль», «тридцать», «пятнадцать минут» right after the hour."""
    if ctx.text_at(j) in ("ноль", "нуль") and ctx.text_at(j + 1) in ("ноль", "нуль"):
        return 0, j + 1
    if not ctx.free(j) or ctx.tokens[j].sep in (".", "…"):
        return None
    group = read_group(ctx.tokens, j)
    if group is None or group.written is not None or not 10 <= group.value <= 59 or group.has_scale:
        return None
    last = group.last + 1 if ctx.lemma_at(group.last + 1) == "минута" else group.last
    return int(group.value), last


def _emit_time(
    ctx: Context, hour: int, minute: int, first: int, last: int, role: str | None, suffix_at: int
) -> int:
    suffix = _DAY_PART_SUFFIX.get(ctx.text_at(suffix_at))
    if suffix is not None and ctx.free(suffix_at):
        last = suffix_at
    hour = _adjust_hour(ctx, hour, suffix, first)
    ctx.emit("time", f"{hour % 24:02d}:{minute:02d}", first, last, role)
    return last


def _adjust_hour(ctx: Context, hour: int, suffix: str | None, first: int) -> int:
    if suffix in ("day", "evening") and hour < 12:
        return hour + 12
    if suffix == "night" and hour == 12:
        return 0
    if suffix in ("morning", "night"):
        return hour
    before = {t.text for t in ctx.tokens[max(0, first - 4) : first]}
    if before & _PM_CONTEXT and hour < 12:
        return hour + 12
    return hour + 12 if 1 <= hour <= 7 else hour


def _parts_of_day(ctx: Context) -> None:
    for i, tok in enumerate(ctx.tokens):
        if not ctx.free(i):
            continue
        value = _PART_OF_DAY.get(tok.text)
        first = i
        if tok.text == "обеда" and ctx.text_at(i - 1) == "после":
            value, first = "14:00", i - 1
        elif tok.text == "утра" and ctx.text_at(i - 1) == "с":
            value, first = "09:00", i - 1
        elif tok.text == "обед" and ctx.text_at(i - 1) != "в":
            value = None
        elif tok.text == "обед":
            first = i - 1
        if value is not None:
            ctx.emit("time", value, first, i, "part_of_day")
