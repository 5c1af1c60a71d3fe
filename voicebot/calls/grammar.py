"""Closed-question vocabularies for the recogniser, chosen from a bot turn's `asr_hints`.

A grammar makes a small model far more accurate on the words it expects, at the price of everything else
coming out as «[unk]»; so each list also carries the global requests a caller may make instead of answering
(a human, a repeat, "I don't know").
"""

from __future__ import annotations

from voicebot.nlu.numerals import CARDINALS

_ALWAYS = ["оператор", "соедините с оператором", "повторите", "не знаю", "не помню", "да", "нет"]

# The recogniser hears the words the NLU understands: one vocabulary for both.
_NUMBER_WORDS = [word for word in CARDINALS if word != "нуль"] + ["одна", "две"]
_BIG = ["тысяча", "тысячи", "тысяч"]
_DECIMAL = ["запятая", "и", "целых", "целая", "десятых", "сотых", "кубов", "куба", "куб", "киловатт"]

YES_NO = ["да", "нет", "верно", "правильно", "неверно", "неправильно", "конечно", "давайте", "не надо", "ага"]
DIGITS = _NUMBER_WORDS
NUMBERS = DIGITS + _BIG + _DECIMAL

_BY_HINT = {"yes_no": YES_NO, "yesno": YES_NO, "digits": DIGITS, "numbers": NUMBERS}


def grammar_for(hints: tuple[str, ...] | list[str]) -> list[str] | None:
    """Phrases for these hints, or None (free speech) when no hint is a closed vocabulary."""
    phrases: list[str] = []
    for hint in hints:
        phrases.extend(_BY_HINT.get(hint, ()))
    if not phrases:
        return None
    return list(dict.fromkeys([*phrases, *_ALWAYS]))
