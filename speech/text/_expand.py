"""Spell out numbers, ordinals, currencies, percentages, symbols and abbreviations with num2words."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable

from num2words import num2words

from speech.text._languages import Abbreviation, Language, get_language

_MAX_DIGITS = 18  # longer digit strings are read digit by digit
_FIRST_YEAR, _LAST_YEAR = 1100, 2099  # four-digit numbers read as years (Language.years)
_FRENCH_SPECIAL_ORDINALS = {
    ("1", "re"): "première",
    ("1", "ère"): "première",
    ("2", "nd"): "second",
    ("2", "nde"): "seconde",
}
_GERMAN_WEAK_ENDING = {"am", "im", "vom", "zum", "beim", "dem", "den", "des"}
_ORDINAL_SUFFIXES = {"en": r"(?i:st|nd|rd|th)", "fr": r"ère|ème|eme|nde|er|re|nd|è|e"}


class Expander:
    """Compiled expansion rules of one language; see :class:`~speech.text.TextNormalizer`."""

    def __init__(self, lang: Language) -> None:
        self.lang = lang
        num = _number_pattern(lang)
        symbols = "".join(re.escape(s) for s in lang.currencies)
        scales = "|".join(lang.scales)
        self._currency_before = re.compile(rf"(?P<cur>[{symbols}])\s?{num}(?:\s(?P<scale>{scales}))?(?!\w)")
        self._currency_after = re.compile(rf"{num}(?:\s(?P<scale>{scales}))?\s?(?P<cur>[{symbols}])")
        self._percent = re.compile(rf"{num}\s?%")
        self._number = re.compile(num)
        self._ordinal = re.compile(_ordinal_pattern(lang))
        self._abbreviations = {a.text: a for a in lang.abbreviations}
        alternatives = sorted(self._abbreviations, key=len, reverse=True)
        words = (re.escape(a) + (r"(?!\w)" if a[-1].isalnum() else "") for a in alternatives)
        self._abbreviation = re.compile(r"(?<![\w.\-])(?:" + "|".join(words) + ")")

    def abbreviations(self, text: str) -> str:
        """Expand the language's abbreviations (``Dr. Smith`` -> ``Doctor Smith``)."""
        return self._abbreviation.sub(self._expand_abbreviation, text)

    def symbols(self, text: str) -> str:
        """Currency amounts, percentages and ``&``, before plain numbers are read."""
        text = self._currency_before.sub(_spaced(self._currency_words), text)
        text = self._currency_after.sub(_spaced(self._currency_words), text)
        text = self._percent.sub(_spaced(lambda m: f"{self.number_words(m)} {self.lang.percent}"), text)
        return re.sub(r"\s*&\s*", f" {self.lang.conjunction} ", text)

    def ordinals(self, text: str) -> str:
        """``21st``, ``1er``/``2e``, German ``3.`` before a lowercase word or a month."""
        return self._ordinal.sub(_spaced(self._ordinal_words), text)

    def numbers(self, text: str) -> str:
        """Cardinals with thousands separators, decimals and a minus sign; years (Language.years)."""
        return self._number.sub(_spaced(self._number_or_year), text)

    def _expand_abbreviation(self, m: re.Match[str]) -> str:
        abbr: Abbreviation = self._abbreviations[m.group(0)]
        rest = m.string[m.end() :]
        if abbr.kind == "always":
            return abbr.expansion
        if abbr.kind == "number":
            return abbr.expansion if re.match(r"\s*\d", rest) else m.group(0)
        if abbr.kind == "title":
            after_name = abbr.otherwise is not None and _follows_name(m.string[: m.start()])
            if _next_word_capitalised(rest, r"[\s-]+") and not after_name:
                return abbr.expansion
            if abbr.otherwise is None:
                return m.group(0)
            abbr = abbr._replace(expansion=abbr.otherwise)
        ends_sentence = not rest.strip() or _next_word_capitalised(rest, r"\s+")
        return abbr.expansion + ("." if ends_sentence else "")

    def cardinal(self, digits: str) -> str:
        """A whole number written in digits, in words (a very long one digit by digit)."""
        if len(digits) > _MAX_DIGITS:
            return self.digits(digits)
        try:
            return num2words(int(digits), lang=self.lang.code)
        except (OverflowError, NotImplementedError, ValueError):
            return self.digits(digits)

    def counted(self, digits: str, feminine: bool = False) -> str:
        """:meth:`cardinal` before a noun: German ``ein`` (not ``eins``), French ``une`` if ``feminine``."""
        words = self.cardinal(digits)
        if self.lang.code == "de" and words.endswith("eins"):
            return words[:-1]
        if feminine and self.lang.code == "fr" and words.endswith("un"):
            return words + "e"
        return words

    def digits(self, digits: str) -> str:
        """Digits read one by one (``555`` -> ``five five five``)."""
        return " ".join(num2words(int(d), lang=self.lang.code) for d in digits)

    def ordinal(self, n: int) -> str:
        """An ordinal number in words (``3`` -> ``third``)."""
        return num2words(n, lang=self.lang.code, to="ordinal")

    def year(self, digits: str) -> str:
        """A year: ``1999`` -> ``nineteen ninety-nine`` where the language reads years so, else a cardinal."""
        n = int(digits)
        if self.lang.years and len(digits) == 4 and _FIRST_YEAR <= n <= _LAST_YEAR:
            return num2words(n, lang=self.lang.code, to="year")
        return self.cardinal(digits)

    def number_words(self, m: re.Match[str]) -> str:
        """A match of the number pattern (groups ``sign``, ``int``, ``frac``) in words."""
        words = self.cardinal(re.sub(r"\D", "", m.group("int")))
        if m.group("frac"):
            words += f" {self.lang.point} {self.digits(m.group('frac'))}"
        return f"{self.lang.minus} {words}" if m.group("sign") else words

    def _number_or_year(self, m: re.Match[str]) -> str:
        if m.group("sign") or m.group("frac") or not m.group("int").isdigit():
            return self.number_words(m)
        return self.year(m.group("int"))

    def _currency_words(self, m: re.Match[str]) -> str:
        currency = self.lang.currencies[m.group("cur")]
        integer, frac = int(re.sub(r"\D", "", m.group("int"))), m.group("frac")
        if m.group("scale") or (frac and len(frac) > 2):
            scale = f" {m.group('scale')}" if m.group("scale") else ""
            link = self.lang.scale_link if scale else ""
            if link == "de " and currency.units[0] in "aeiouh":
                link = "d'"
            return f"{self.number_words(m)}{scale} {link}{currency.units}"
        cents = int(frac.ljust(2, "0")) if frac else 0
        unit = currency.unit if integer == 1 or (integer == 0 and self.lang.code == "fr") else currency.units
        main = f"{self.counted(str(integer), currency.feminine)} {unit}"
        if m.group("sign"):
            main = f"{self.lang.minus} {main}"
        if not cents:
            return main
        sub = f"{self.cardinal(str(cents))} {currency.subunit if cents == 1 else currency.subunits}"
        return sub if integer == 0 and not m.group("sign") else f"{main} {self.lang.conjunction} {sub}"

    def _ordinal_words(self, m: re.Match[str]) -> str:
        n, suffix = m.group("n"), m.group("suf")
        if (n, suffix) in _FRENCH_SPECIAL_ORDINALS:
            return _FRENCH_SPECIAL_ORDINALS[(n, suffix)]
        words = self.ordinal(int(n))
        if self.lang.code == "de":
            previous = m.string[: m.start()].split()
            if previous and previous[-1].lower() in _GERMAN_WEAK_ENDING:
                words += "n"
        return words


@functools.cache
def get_expander(code: str) -> Expander:
    """The (cached) expander of language ``code``; raises ``ConfigError`` if unsupported."""
    return Expander(get_language(code))


def _number_pattern(lang: Language) -> str:
    seps = re.escape(lang.group_separators)
    grouped = rf"\d{{1,3}}(?:[{seps}]\d{{3}})+"
    decimal = re.escape(lang.decimal_separator)
    return rf"(?:(?<![\w.,])(?P<sign>-))?(?<!\d)(?P<int>{grouped}|\d+)(?:{decimal}(?P<frac>\d+))?(?!\d)"


def _ordinal_pattern(lang: Language) -> str:
    if lang.ordinal_dot:
        months = "|".join(lang.month_names)
        return rf"(?<![\d,.])(?P<n>\d{{1,4}})(?P<suf>\.)(?=\s+(?:[a-zäöüß]|(?:{months})\b))"
    return rf"(?<![\d,.])(?P<n>\d+)(?P<suf>{_ORDINAL_SUFFIXES[lang.code]})(?!\w)"


def _next_word_capitalised(rest: str, gap: str) -> bool:
    found = re.match(gap + r"([^\W\d_])", rest)
    return bool(found) and found.group(1).isupper()


def _follows_name(before: str) -> bool:
    """Whether ``before`` ends with a capitalised word that does not start a sentence (``on Main``)."""
    words = before.split()
    return len(words) >= 2 and words[-1][:1].isupper() and not words[-2].endswith((".", "?", "!"))


def _spaced(words: Callable[[re.Match[str]], str]) -> Callable[[re.Match[str]], str]:
    """Wrap a replacement so that words glued to letters (``3D``, ``mp3``) get a space."""

    def replace(m: re.Match[str]) -> str:
        text, s = m.string, words(m)
        before = " " if m.start() > 0 and text[m.start() - 1].isalpha() else ""
        after = " " if m.end() < len(text) and text[m.end()].isalpha() else ""
        return before + s + after

    return replace
