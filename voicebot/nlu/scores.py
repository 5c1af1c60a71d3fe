"""`score` (0–10) and `school_grade` (1–5) entities for the satisfaction survey.

A 5-point school answer («на четвёрку», «тройка», «на пять с плюсом») is a `school_grade`, not a score:
the dialogue must ask again on the 0–10 scale. Plain numbers 0–10 are scores; «семь-восемь» gives two
scores with role "range".
"""

from __future__ import annotations

from voicebot.nlu.context import Context
from voicebot.nlu.numerals import cardinal_value
from voicebot.nlu.result import Entity

_SCORE_WORDS = {"десятк": 10, "девятк": 9, "восьмерк": 8, "семерк": 7, "шестерк": 6}
_GRADE_WORDS = {
    "пятерк": 5, "пятероч": 5, "четверк": 4, "четвероч": 4, "тройк": 3, "троечк": 3, "троек": 3,
    "двойк": 2, "двоечк": 2, "двоек": 2, "единиц": 1,
}  # fmt: skip
_GRADE_ADVERBS = {"отлично": 5, "хорошо": 4, "удовлетворительно": 3, "неудовлетворительно": 2}


def extract_grades(ctx: Context) -> None:
    """Runs before numbers so that «на пять с плюсом» is not also read as the number five."""
    for i, tok in enumerate(ctx.tokens):
        if not ctx.free(i):
            continue
        score = _stem_value(tok.text, _SCORE_WORDS)
        if score is not None:
            ctx.emit("score", score, _with_na(ctx, i), i)
            continue
        grade = _stem_value(tok.text, _GRADE_WORDS)
        if grade is None and ctx.text_at(i - 1) == "на":
            grade = _GRADE_ADVERBS.get(tok.text)
        if grade is not None:
            ctx.emit("school_grade", grade, _with_na(ctx, i), _with_plus(ctx, i))
            continue
        value = cardinal_value(tok)
        if (
            value is not None
            and 1 <= value <= 5
            and ctx.text_at(i + 1) == "с"
            and ctx.text_at(i + 2)
            in (
                "плюсом",
                "минусом",
            )
        ):
            ctx.emit("school_grade", value, _with_na(ctx, i), i + 2)


def _stem_value(word: str, table: dict[str, int]) -> int | None:
    for stem, value in table.items():
        if word.startswith(stem):
            return value
    return None


def _with_na(ctx: Context, i: int) -> int:
    return i - 1 if ctx.text_at(i - 1) == "на" and ctx.free(i - 1) else i


def _with_plus(ctx: Context, i: int) -> int:
    return i + 2 if ctx.text_at(i + 1) == "с" and ctx.text_at(i + 2) in ("плюсом", "минусом") else i


def extract_scores(ctx: Context) -> None:
    """Every plain whole number 0–10 left over by the other extractors can be a score."""
    numbers = [e for e in ctx.entities if e.entity == "number" and e.role not in ("fraction",)]
    for k, item in enumerate(numbers):
        if not isinstance(item.value, int) or not 0 <= item.value <= 10 or _is_duration(ctx, item):
            continue
        role = "range" if _in_range(ctx, numbers, k) else item.role
        ctx.entities.append(Entity("score", item.value, item.start, item.end, item.text, role))


def _in_range(ctx: Context, numbers: list[Entity], k: int) -> bool:
    def joined(a: Entity, b: Entity) -> bool:
        between = ctx.text[a.end : b.start].strip().lower()
        return between in ("-", "–", "или", "‐") and isinstance(b.value, int) and 0 <= b.value <= 10

    before = numbers[k - 1] if k > 0 else None
    after = numbers[k + 1] if k + 1 < len(numbers) else None
    return bool(before and joined(before, numbers[k]) or after and joined(numbers[k], after))


def hide_scale_mentions(ctx: Context) -> None:
    """«от нуля до десяти» names the scale, it is not an answer: hide it from the number extractors."""
    for i, tok in enumerate(ctx.tokens):
        if tok.text == "из" and i > 0 and _scale_end(ctx, i + 1):
            # «шесть из десяти», «восемь из 10 возможных»: the second number is the scale
            last = i + 2 if ctx.lemma_at(i + 2) in ("возможный", "балл") else i + 1
            ctx.used.update(range(i, last + 1))
            continue
        if tok.text == "от" and ctx.text_at(i + 2) == "до" and cardinal_value(ctx.tokens[i + 1]) in (0, 1):
            end = ctx.tokens[i + 3] if i + 3 < len(ctx.tokens) else None
            if end is not None and cardinal_value(end) in (5, 10):
                ctx.used.update(range(i, i + 4))


def _scale_end(ctx: Context, i: int) -> bool:
    return 0 <= i < len(ctx.tokens) and (ctx.tokens[i].text in ("10", "5", "десяти", "пяти", "десятки"))


_DURATION_UNITS = frozenset(
    {"день", "неделя", "месяц", "год", "час", "минута", "раз", "сутки", "этаж", "градус"}
)


def _is_duration(ctx: Context, item: Entity) -> bool:
    """«три дня», «два раза»: a counted unit, not a rating."""
    after = [t for t in ctx.tokens if t.start >= item.end][:1]
    return bool(after) and after[0].lemma in _DURATION_UNITS
