"""`problem` entities: the ticket category a resident's description belongs to.

Keyword rules over lemmas, checked in priority order (a gas smell outranks everything, a stuck lift
outranks a broken one, a sewer blockage outranks a leak). The first matching rule wins.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from voicebot.nlu.context import Context
from voicebot.nlu.result import Entity

PROBLEM_CATEGORIES: dict[str, str] = {
    "leak": "протечка, залив",
    "plumbing": "течёт или сломан кран, смеситель, бачок",
    "no_water": "нет воды",
    "no_hot_water": "нет горячей воды",
    "no_heating": "нет отопления",
    "no_power": "нет электричества",
    "sewer_blockage": "засор канализации",
    "gas_smell": "запах газа",
    "lift_stuck": "застряли в лифте",
    "heating_quality": "плохо греют батареи",
    "water_quality": "плохое качество воды или слабый напор",
    "rubbish_chute": "засор мусоропровода",
    "lighting": "не горит свет в подъезде",
    "intercom": "не работает домофон",
    "lift_broken": "не работает лифт",
    "cleaning": "уборка",
    "roof": "крыша",
    "other": "другое",
}

_ABSENT_VERBS = frozenset(
    [
        "отключить",
        "отключать",
        "пропасть",
        "пропадать",
        "вырубить",
        "вырубиться",
        "выключить",
        "перекрыть",
        "отрубить",
        "отключиться",
        "вырубать",
        "выбить",
    ]
)
_NEGATED_VERBS = frozenset(
    [
        "идти",
        "течь",
        "работать",
        "гореть",
        "греть",
        "включить",
        "дать",
        "давать",
        "подавать",
        "бежать",
        "быть",
    ]
)


@dataclass
class _Words:
    lemmas: list[str]
    texts: list[str]

    def has(self, *words: str) -> bool:
        return any(w in self.lemmas or w in self.texts for w in words)

    def stem(self, *stems: str) -> bool:
        return any(t.startswith(stems) for t in self.texts)

    def absent(self, *near: str) -> bool:
        """Something is missing («нет», «отключили», «не идёт»), near one of `near` if given (±3 words)."""
        marks = [k for k in range(len(self.texts)) if self._absent_mark(k)]
        if not near:
            return bool(marks)
        spots = [k for k in range(len(self.texts)) if self.lemmas[k] in near or self.texts[k] in near]
        return any(abs(m - s) <= 3 for m in marks for s in spots)

    def _absent_mark(self, k: int) -> bool:
        text, lemma = self.texts[k], self.lemmas[k]
        if text in ("нет", "нету") or lemma in _ABSENT_VERBS:
            return True
        return text == "не" and any(lem in _NEGATED_VERBS for lem in self.lemmas[k + 1 : k + 3])


def _uses_intercom(w: _Words) -> bool:
    """«пусть звонит в домофон, я открою»: how to get in, not a broken intercom (nothing negated)."""
    return w.has("звонить", "позвонить", "набрать", "набирать") and "не" not in w.texts and not w.absent()


def _leak(w: _Words) -> bool:
    return w.has("заливать", "залить", "затапливать", "затопить", "протечка", "потоп", "прорвать", "капать",
                 "хлестать", "топить", "протекать", "подтекать", "течь", "лить", "залив") and not (
        w.absent("вода") and not w.has("потолок", "сверху", "сосед", "стена")
    )  # fmt: skip


_FIXTURES = ("кран", "смеситель", "бачок", "сифон", "вентиль", "душ", "лейка")
_FLOODING = ("потолок", "сверху", "сосед", "стена", "заливать", "залить", "затапливать", "затопить", "потоп",
             "хлестать", "прорвать", "пол", "ручей", "лужа")  # fmt: skip


def _plumbing(w: _Words) -> bool:
    """A dripping or broken tap, mixer or cistern in the flat: a plumber's routine visit, not flooding —
    unless the water cannot be stopped («кран течёт, остановить не могу») or is already on the floor."""
    broken = w.has(
        "течь", "капать", "подтекать", "протекать", "сломаться", "сломать", "сорвать", "открутиться"
    )
    unstoppable = w.has("остановить", "перекрыть", "закрыть", "прекратить") and "не" in w.texts
    return w.has(*_FIXTURES) and broken and not unstoppable and not w.has(*_FLOODING)


_RULES: list[tuple[str, Callable[[_Words], bool]]] = [
    ("gas_smell", lambda w: w.stem("газ") and w.has("запах", "пахнуть", "вонять", "пахнет", "воняет")),
    ("lift_stuck", lambda w: w.stem("лифт") and w.stem("застрял", "застрев", "заблокир", "заперт")),
    ("rubbish_chute", lambda w: w.stem("мусоропровод")),
    (
        "sewer_blockage",
        lambda w: (
            w.stem("засор", "канализ", "забил", "забит")
            or (
                w.has("унитаз", "раковина", "ванна", "ванная", "слив")
                and w.has("уходить", "сливаться")
                and w.has("не")
            )
        ),
    ),  # fmt: skip
    ("roof", lambda w: w.stem("крыш", "кровл", "сосульк")),
    ("no_hot_water", lambda w: w.absent("горячий", "гвс") and not w.stem("батар", "отоплен")),
    (
        "water_quality",
        lambda w: (
            w.stem("напор", "ржав", "мутн", "грязн вод", "коричнев")
            or (w.has("вода") and w.has("грязный", "вонючий", "желтый", "пахнуть", "вонять"))
        ),
    ),  # fmt: skip
    ("plumbing", _plumbing),
    ("leak", _leak),
    ("no_water", lambda w: w.absent("вода", "водичка", "хвс")),
    (
        "heating_quality",
        lambda w: (
            (
                w.stem("еле", "чуть", "холодно", "градус", "прохладно", "плохо гре", "слабо гре", "едва")
                or w.has("плохо", "слабо")
                and w.has("греть")
            )
            and not (w.has("вода") and w.stem("напор"))
        ),
    ),  # fmt: skip
    (
        "no_heating",
        lambda w: (
            w.stem("отоплен", "батаре", "радиатор")
            and (w.absent("отопление", "батарея", "радиатор", "греть") or w.has("холодный", "ледяной"))
        ),
    ),  # fmt: skip
    (
        "lighting",
        lambda w: (
            w.stem("лампочк", "освещен", "фонар")
            or (w.has("свет", "темно") and w.stem("подъезд", "площадк", "лестниц", "этаж", "двор"))
        ),
    ),  # fmt: skip
    (
        "no_power",
        lambda w: (
            w.has("свет", "электричество", "электроэнергия", "напряжение", "пробка", "розетка")
            and (
                w.absent("свет", "электричество", "электроэнергия", "напряжение", "розетка")
                or w.has("выбить", "выбивать")
            )
        ),
    ),  # fmt: skip
    ("intercom", lambda w: w.stem("домофон") and not _uses_intercom(w)),
    ("lift_broken", lambda w: w.stem("лифт")),
    (
        "cleaning",
        lambda w: w.stem(
            "убор", "убира", "грязь", "грязно", "грязищ", "мусор", "моют", "моет", "мыть", "снег", "наледь"
        ),
    ),
]


def classify(lemmas: list[str], texts: list[str]) -> str | None:
    words = _Words(lemmas, texts)
    for code, rule in _RULES:
        if rule(words):
            return code
    return None


def extract(ctx: Context) -> None:
    lemmas = [t.lemma for t in ctx.tokens]
    texts = [t.text for t in ctx.tokens]
    code = classify(lemmas, texts)
    if code is not None and ctx.tokens:
        ctx.entities.append(_whole(ctx, code))


def _whole(ctx: Context, code: str) -> Entity:
    start, end = ctx.tokens[0].start, ctx.tokens[-1].end
    return Entity("problem", code, start, end, ctx.text[start:end])
