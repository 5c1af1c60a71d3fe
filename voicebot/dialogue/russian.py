"""Russian words the bot builds itself: a person's name in the case a sentence needs."""

from __future__ import annotations

from functools import lru_cache

import pymorphy3

CASES = {"nom": "nomn", "gen": "gent", "dat": "datv", "acc": "accs", "ins": "ablt", "prep": "loct"}


@lru_cache(maxsize=1)
def _morph() -> pymorphy3.MorphAnalyzer:
    return pymorphy3.MorphAnalyzer()


def split_name(full_name: str) -> tuple[str, str, str]:
    """(surname, name, patronymic) from «Козлов Сергей Николаевич» or «Сергей Николаевич Козлов»."""
    parts = full_name.replace(".", " ").split()
    if len(parts) < 3:
        return (parts[0] if parts else "", parts[1] if len(parts) > 1 else "", "")
    if _has_tag(parts[0], "Name") and _has_tag(parts[1], "Patr"):
        return parts[2], parts[0], parts[1]
    return parts[0], parts[1], parts[2]


def _has_tag(word: str, tag: str) -> bool:
    return any(tag in p.tag for p in _morph().parse(word)[:3])


def _gender(name: str, patronymic: str) -> str:
    if patronymic.endswith(("вна", "чна", "шна")):
        return "femn"
    if patronymic.endswith(("вич", "ич")):
        return "masc"
    parsed = [p for p in _morph().parse(name) if "Name" in p.tag]
    return "femn" if parsed and "femn" in parsed[0].tag else "masc"


def _inflect(word: str, case: str, gender: str, kind: str) -> str:
    if not word or case == "nomn":
        return word
    candidates = [p for p in _morph().parse(word) if kind in p.tag and gender in p.tag] or [
        p for p in _morph().parse(word) if kind in p.tag
    ]
    if not candidates and kind == "Surn":
        candidates = [p for p in _morph().parse(word) if gender in p.tag and "NOUN" in p.tag]
    for parsed in candidates:
        form = parsed.inflect({case})
        if form:
            return form.word[:1].upper() + form.word[1:]
    return word


def name_in_case(full_name: str, case: str = "nom", *, with_surname: bool = True) -> str:
    """«Козлов Сергей Николаевич», "ins" → «Сергеем Николаевичем Козловым»."""
    surname, name, patronymic = split_name(full_name)
    grammatical = CASES[case]
    gender = _gender(name, patronymic)
    words = [
        _inflect(name, grammatical, gender, "Name"),
        _inflect(patronymic, grammatical, gender, "Patr"),
    ]
    if with_surname:
        words.append(_inflect(surname, grammatical, gender, "Surn"))
    return " ".join(w for w in words if w)
