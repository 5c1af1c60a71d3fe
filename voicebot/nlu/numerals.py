"""Russian number words: the vocabulary and a grammar that reads one spoken number at a time.

A *group* is one number as a person says it: «пять тысяч двести двадцать восемь», «ноль», «сорок два».
The grammar adds words while their slot (hundreds, tens, units, a scale) is still free, which joins
hesitations («пять тысяч двести… двадцать… восемь») and splits dictation («ноль семь, двадцать три»).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from voicebot.nlu.normalize import Token

UNITS = {
    "ноль": 0, "нуль": 0, "один": 1, "два": 2, "три": 3, "четыре": 4, "пять": 5,
    "шесть": 6, "семь": 7, "восемь": 8, "девять": 9,
}  # fmt: skip
TEENS = {
    "десять": 10, "одиннадцать": 11, "двенадцать": 12, "тринадцать": 13, "четырнадцать": 14,
    "пятнадцать": 15, "шестнадцать": 16, "семнадцать": 17, "восемнадцать": 18, "девятнадцать": 19,
}  # fmt: skip
TENS = {
    "двадцать": 20, "тридцать": 30, "сорок": 40, "пятьдесят": 50, "шестьдесят": 60,
    "семьдесят": 70, "восемьдесят": 80, "девяносто": 90,
}  # fmt: skip
HUNDREDS = {
    "сто": 100, "двести": 200, "триста": 300, "четыреста": 400, "пятьсот": 500,
    "шестьсот": 600, "семьсот": 700, "восемьсот": 800, "девятьсот": 900,
}  # fmt: skip
SCALES = {"тысяча": 1000, "миллион": 1_000_000}
ORDINALS = {
    "первый": 1, "второй": 2, "третий": 3, "четвертый": 4, "пятый": 5, "шестой": 6, "седьмой": 7,
    "восьмой": 8, "девятый": 9, "десятый": 10, "одиннадцатый": 11, "двенадцатый": 12,
    "тринадцатый": 13, "четырнадцатый": 14, "пятнадцатый": 15, "шестнадцатый": 16,
    "семнадцатый": 17, "восемнадцатый": 18, "девятнадцатый": 19, "двадцатый": 20, "тридцатый": 30,
}  # fmt: skip
FRACTION_DENOMINATORS = {"десятый": 10, "сотый": 100, "тысячный": 1000}
# Surface forms pymorphy3 does not lemmatise to the cardinal (colloquial or ambiguous).
_SURFACE = {"одна": 1, "одну": 1, "одной": 1, "две": 2, "двух": 2, "трех": 3, "сорока": 40, "ста": 100, "тыщ": 1000,
            "тыщи": 1000, "тыща": 1000, "тыщу": 1000, "полста": 50, "полсотни": 50, "полтыщи": 500,
            "полтысячи": 500, "полтыщщи": 500, "тыщь": 1000, "тыщах": 1000, "тыщей": 1000,
            "пятихатка": 500}  # fmt: skip
# «полтора/полторы» are one and a half: only before a scale («полторы тысячи» → 1500).
HALF_WORDS = frozenset({"полтора", "полторы", "полутора"})

CARDINALS = {**UNITS, **TEENS, **TENS, **HUNDREDS}


def cardinal_value(tok: Token) -> int | None:
    """Value of a cardinal number word (any case) or None."""
    if tok.text in _SURFACE:
        return _SURFACE[tok.text]
    if tok.text in CARDINALS:
        return CARDINALS[tok.text]
    if tok.lemma in CARDINALS:
        return CARDINALS[tok.lemma]
    return SCALES.get(tok.lemma)


def is_scale(tok: Token) -> bool:
    return tok.lemma in SCALES or tok.text in ("тыщ", "тыщи", "тыща", "тыщу", "тыщь", "тыщах", "тыщей")


def ordinal_value(tok: Token) -> int | None:
    return ORDINALS.get(tok.lemma)


def is_numeral(tok: Token) -> bool:
    if tok.is_digit:
        return tok.text[-1].isdigit()  # «15а» is a house number, not a quantity
    return cardinal_value(tok) is not None or tok.text in HALF_WORDS


def digit_token_value(tok: Token) -> int | Decimal | None:
    """«215» → 215, «123,5» → Decimal("123.5"); a trailing letter («15а») is not a number."""
    text = tok.text
    if not text[-1].isdigit():
        return None
    if ":" in text:
        return None
    if "," in text or "." in text:
        return Decimal(text.replace(",", "."))
    return int(text)


@dataclass
class Group:
    """One spoken number: its value, the tokens it came from and how it was said."""

    tokens: list[Token] = field(default_factory=list)
    words: list[int] = field(default_factory=list)  # word values, for restart/repeat detection
    scale_total: int = 0
    current: int = 0
    has_hundreds: bool = False
    has_tens: bool = False
    has_units: bool = False
    has_scale: bool = False
    is_zero: bool = False
    written: str | None = None  # digits as written («215», «07234501»)
    fraction: Decimal | None = None
    consumed: bool = False  # taken by a more specific entity (money, address, digits, ...)
    tail: list[Token] = field(default_factory=list)  # tokens of a spoken fraction («и пять десятых»)
    half: bool = False  # «полторы», «… с половиной» waiting for its scale word

    @property
    def value(self) -> int | Decimal:
        whole = self.scale_total + self.current
        if self.half:
            return whole + Decimal("0.5")
        return whole + self.fraction if self.fraction is not None else whole

    @property
    def start(self) -> int:
        return self.tokens[0].start

    @property
    def end(self) -> int:
        return (self.tail or self.tokens)[-1].end

    @property
    def first(self) -> int:
        return self.tokens[0].index

    @property
    def last(self) -> int:
        return (self.tail or self.tokens)[-1].index

    def digit_string(self) -> str:
        """The digits a dictated group stands for: «ноль» → "0", «двадцать три» → "23"."""
        if self.written is not None:
            return self.written
        return "0" if self.is_zero else str(self.scale_total + self.current)

    def accepts(self, tok: Token) -> bool:
        if self.is_zero or self.written is not None or self.fraction is not None:
            return False
        if not self.tokens:
            return True
        if self.half and self.tokens[-1].text in HALF_WORDS:
            return is_scale(tok)
        if tok.text in HALF_WORDS:
            return False
        if is_scale(tok):
            return not self.has_scale and (self.current > 0)
        value = cardinal_value(tok)
        if value is None or value == 0:
            return False
        if value >= 100:
            return not (self.has_hundreds or self.has_tens or self.has_units)
        if value >= 10:
            return not (self.has_tens or self.has_units)
        return not self.has_units

    def add(self, tok: Token) -> None:
        self.tokens.append(tok)
        if tok.is_digit:
            self.written = tok.text
            value = digit_token_value(tok)
            self.current = int(value) if isinstance(value, int) else 0
            if isinstance(value, Decimal):
                self.fraction = value - int(value)
                self.current = int(value)
            self.words.append(self.current)
            return
        if tok.text in HALF_WORDS:
            self.current, self.half = 1, True
            self.words.append(1)
            return
        if is_scale(tok):
            scale = SCALES.get(tok.lemma) or 1000
            self.scale_total = (self.current or 1) * scale + (scale // 2 if self.half else 0)
            self.half = False
            self.current = 0
            self.has_scale = True
            self.has_hundreds = self.has_tens = self.has_units = False
            self.words.append(-1)
            return
        value = cardinal_value(tok)
        assert value is not None
        self.words.append(value)
        if value == 0:
            self.is_zero = True
            return
        self.current += value
        if value >= 100:
            self.has_hundreds = True
        elif value >= 20:
            self.has_tens = True
        elif value >= 10:
            self.has_tens = self.has_units = True
        else:
            self.has_units = True


def read_group(
    tokens: list[Token], i: int, *, skip: frozenset[str] = frozenset(), stop: int | None = None
) -> Group | None:
    """Read one number starting at tokens[i] (no restarts, no fractions); None if it is not a numeral.

    Tokens in `skip` (hesitation fillers) are stepped over inside a number, never at its end.
    """
    group = Group()
    j = i
    stop = len(tokens) if stop is None else stop
    while j < stop:
        tok = tokens[j]
        if group.tokens and tok.text in skip:
            k = j
            while k < stop and tokens[k].text in skip:
                k += 1
            if k < stop and is_numeral(tokens[k]) and group.accepts(tokens[k]):
                j = k
                continue
            break
        if not (is_numeral(tok) and group.accepts(tok)):
            break
        if group.has_scale and not is_scale(tok) and _starts_new_scaled_number(tokens, j, stop):
            break  # «две тысячи… две тысячи сто тридцать»: a restart, not «две тысячи два»
        group.add(tok)
        j += 1
    return group if group.tokens else None


def _starts_new_scaled_number(tokens: list[Token], j: int, stop: int) -> bool:
    k = j
    while k < stop and is_numeral(tokens[k]) and not is_scale(tokens[k]):
        k += 1
    return k < stop and k > j and is_scale(tokens[k])
