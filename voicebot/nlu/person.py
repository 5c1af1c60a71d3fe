"""`person` entities: {"surname", "name", "patronymic"} from pymorphy3's Surn/Name/Patr tags.

Only a word whose most likely analysis is a name counts, unless the caller introduces it («фамилия»,
«меня зовут», «это»), so ordinary words that happen to be surnames are left alone. A repeated slot
starts a new person: «Петрова. Петрова Галина Ивановна» gives two, the fuller one last.
"""

from __future__ import annotations

from voicebot.nlu.context import Context
from voicebot.nlu.normalize import Token, parses

_SLOTS = {"Surn": "surname", "Name": "name", "Patr": "patronymic"}
_TRIGGERS = frozenset({"фамилия", "зовут", "звать", "это", "я", "имя", "отчество", "собственник"})
_PREPOSITIONS = frozenset(
    {"с", "со", "до", "в", "во", "на", "по", "к", "ко", "у", "от", "из", "за", "о", "об", "про"}
)
_NEVER = frozenset({"да", "нет", "алло", "ага", "угу", "мастер", "слесарь", "сантехник", "тесть", "теща"})


def extract(ctx: Context) -> None:
    current: dict[str, str] = {}
    first = last = -1
    for i, tok in enumerate(ctx.tokens):
        slot_value = _slot(ctx, i, tok) if ctx.free(i) else None
        if slot_value is None:
            continue
        slot, value = slot_value
        adjacent = last >= 0 and i == last + 1 and tok.sep in (" ", ",")
        if current and (slot in current or not adjacent):
            _emit(ctx, current, first, last)
            current = {}
        if not current:
            first = i
        current[slot] = value
        last = i
    if current:
        _emit(ctx, current, first, last)


def _emit(ctx: Context, found: dict[str, str], first: int, last: int) -> None:
    value = {
        "surname": found.get("surname"),
        "name": found.get("name"),
        "patronymic": found.get("patronymic"),
    }
    ctx.emit("person", value, first, last)


def _slot(ctx: Context, i: int, tok: Token) -> tuple[str, str] | None:
    if not tok.text.isalpha() or len(tok.text) < 3 or tok.text in _NEVER:
        return None
    candidates = parses(tok.text)
    # «я с машиной разговариваю»: a word after a preposition is not the name being introduced
    introduced = bool(_TRIGGERS & set(ctx.lemmas_before(i, 3))) and ctx.text_at(i - 1) not in _PREPOSITIONS
    if not introduced and _is_common_word(candidates):
        return None  # «мороз» is also a surname; only an introduction makes it one
    pool = candidates[:3] if introduced else candidates[:1]
    for parse in pool:
        for tag, slot in _SLOTS.items():
            if tag in parse.tag:
                return slot, _nominative(tok.text, parse, tag)
    if not introduced and len(candidates) > 1 and "Surn" in candidates[1].tag and _is_nominative_surname(tok):
        return "surname", tok.text.capitalize()
    return None


def _is_nominative_surname(tok: Token) -> bool:
    """«Соколова», «Петрова»: a feminine nominative surname pymorphy3 ranks below the masculine genitive."""
    top = parses(tok.text)[0]
    return "Surn" in top.tag or any("Surn" in p.tag and "nomn" in p.tag for p in parses(tok.text)[:3])


def _nominative(word: str, parse, tag: str) -> str:  # noqa: ANN001 - pymorphy3 Parse
    if tag == "Surn" and any("Surn" in p.tag and "nomn" in p.tag for p in parses(word)[:4]):
        return word.capitalize()  # «Петрова» is already nominative (feminine)
    if "nomn" in parse.tag:
        return word.capitalize()
    nominative = parse.inflect({"nomn"})
    return (nominative.word if nominative else word).capitalize()


def _is_common_word(candidates) -> bool:  # noqa: ANN001 - pymorphy3 parses
    names = ("Surn", "Name", "Patr", "Geox", "Poss")
    return any(
        not any(n in p.tag for n in names) and p.tag.POS in ("NOUN", "ADJF", "VERB") for p in candidates
    )
