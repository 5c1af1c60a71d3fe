"""Russian text normalisation: tokens with offsets into the original text, lemmas, fillers.

Every token keeps the character span it came from, so entities found over normalised tokens can be
reported with offsets into what the caller (or the recogniser) actually said.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import pymorphy3

_TOKEN_RE = re.compile(r"[0-9]+(?:[.,:][0-9]+)?[а-яa-z]?(?![0-9])|[а-яa-z]+")
# A hyphen between two words ("два-три", "т-один"); a dash with spaces is punctuation.
_HYPHEN_CHARS = "-‐‑"

FILLERS = frozenset({"э", "ээ", "эээ", "эм", "м", "мм", "ммм", "хм", "ну", "вот", "короче", "типа", "щас"})
# Words that are fillers only when something meaningful surrounds them (see `content_tokens`).
_SOFT_FILLERS = frozenset({"так", "это", "значит", "слушайте", "смотрите"})

Sep = str  # "" at the start, " " plain, "," comma/dash, "-" hyphen, "…" hesitation, "." sentence end


@dataclass(frozen=True, slots=True)
class Token:
    text: str  # lower case, ё→е
    lemma: str
    start: int
    end: int
    index: int
    sep: Sep  # what separated this token from the previous one

    @property
    def is_digit(self) -> bool:
        return self.text[0].isdigit()


@lru_cache(maxsize=1)
def morph() -> pymorphy3.MorphAnalyzer:
    return pymorphy3.MorphAnalyzer()


@lru_cache(maxsize=200_000)
def parses(word: str) -> tuple[pymorphy3.analyzer.Parse, ...]:
    """All analyses of a word; cached because pymorphy3 costs tens of microseconds per call."""
    return tuple(morph().parse(word))


@lru_cache(maxsize=200_000)
def lemma(word: str) -> str:
    if word[0].isdigit():
        return word
    return parses(word)[0].normal_form.replace("ё", "е")


def lower_same_length(text: str) -> str:
    """Lower case and ё→е without changing the length, so offsets stay valid."""
    out = []
    for char in text:
        low = char.lower()
        out.append(low if len(low) == 1 else char)
    return "".join(out).replace("ё", "е")


def _separator(between: str) -> Sep:
    if not between:
        return ""
    stripped = between.strip()
    if not stripped:
        return " "
    if "…" in stripped or ".." in stripped:
        return "…"
    if any(c in stripped for c in ".!?;"):
        return "."
    if any(c in stripped for c in ",—–:()"):
        return ","
    if any(c in stripped for c in _HYPHEN_CHARS):
        return "-" if stripped == between else ","
    return " "


def tokenize(text: str) -> list[Token]:
    low = lower_same_length(text)
    tokens: list[Token] = []
    prev_end = 0
    for match in _TOKEN_RE.finditer(low):
        word = match.group()
        sep = _separator(low[prev_end : match.start()]) if tokens else ""
        tokens.append(Token(word, lemma(word), match.start(), match.end(), len(tokens), sep))
        prev_end = match.end()
    return tokens


def is_break(token: Token) -> bool:
    """True when a sentence or a hesitation pause precedes the token."""
    return token.sep in (".", "…")


def content_tokens(tokens: list[Token]) -> list[Token]:
    """Tokens without hesitation fillers; keeps the original when nothing else would remain."""
    kept = []
    for i, tok in enumerate(tokens):
        if tok.text in FILLERS or _is_hesitation(tok.text):
            continue
        if tok.text == "ага" and i + 2 < len(tokens) and tokens[i + 1].text == "щас":
            continue  # "ага, щас…" is a stalling noise, not a yes
        if tok.text in _SOFT_FILLERS and _soft_filler_is_noise(tokens, i):
            continue
        kept.append(tok)
    return kept or list(tokens)


def _is_hesitation(word: str) -> bool:
    return len(set(word)) == 1 and word[0] in "эмау" and len(word) >= 2 and word not in ("аа",)


def _soft_filler_is_noise(tokens: list[Token], i: int) -> bool:
    nxt = tokens[i + 1] if i + 1 < len(tokens) else None
    if nxt is None:
        return False
    if tokens[i].text == "так" and nxt.text in ("точно", "и", "что", "как", "же"):
        return False
    if tokens[i].text == "это" and nxt.sep == " ":
        return False  # "это я", "это не мой номер": meaningful
    return i == 0 or nxt.sep in (",", "…", ".")


def normalized_text(tokens: list[Token]) -> str:
    return " ".join(t.text for t in content_tokens(tokens))


def lemma_text(tokens: list[Token]) -> str:
    return " ".join(t.lemma for t in content_tokens(tokens))
