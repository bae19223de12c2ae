"""Number patterns and symbols read as a speaker would: times, dates, phones, fractions, ranges, units.

Each method of :class:`Readings` rewrites one kind of pattern, either into words or into a
simpler written form that the later steps of the normaliser read (a date becomes
``January second 2024``; the year is then read by the number step).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable

from speech.text._expand import Expander, _number_pattern, _spaced, get_expander

_AMPM = r"(?P<ampm>(?i:[ap]\.m\.|[ap]m))(?!\w)"
_TLDS = "com|org|net|edu|gov|io|co|uk|de|fr|eu|info"
_URL = re.compile(r"(?<![\w@])(?:https?://|www\.)[^\s]*[^\s.,;:!?)\]'\"]")
_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_DOMAIN = re.compile(rf"(?<![\w@./])[a-z][a-z0-9-]*(?:\.[a-z0-9-]+)*\.(?:{_TLDS})(?![\w@]|\.\w)")
_PHONE = re.compile(r"(?<![\w.,-])(?:\(\d{3}\)\s?\d{3}-\d{4}|(?:\d{3}-)?\d{3}-\d{4})(?![\w-]|[.,]\d)")
_FRACTION = re.compile(r"(?<![\w./])(?P<n>\d{1,3})/(?P<d>\d{1,3})(?![\w/]|[.,]\d)")
_RANGE = re.compile(r"(?<=\d)-(?=\d)")
_ISO_DATE = re.compile(r"(?<![\w./-])(?P<y>\d{4})-(?P<m>\d{2})-(?P<d>\d{2})(?![\w-])")
_DECADE = re.compile(r"(?<![\w.,'])'?(?P<n>\d{0,3}0)'?s(?!\w)")
_GERMAN_DECADE = re.compile(r"(?<![\w.,])(?P<n>\d{0,3}0)er(?![\w])")


class Readings:
    """The pattern rules of one language; see :class:`~speech.text.TextNormalizer` for the list.

    Args:
        expander: The language's number expander (cardinals, ordinals, years).
    """

    def __init__(self, expander: Expander) -> None:
        self.x = expander
        lang = self.lang = expander.lang
        seps = "/." if lang.date_order == "dmy" else "/"
        self._date = re.compile(
            rf"(?<![\w./-])(?P<a>\d{{1,2}})(?P<sep>[{seps}])(?P<b>\d{{1,2}})(?P=sep)(?P<y>\d{{4}}|\d{{2}})"
            r"(?![\w/]|\.\d)"
        )
        months = "|".join(lang.month_names)
        self._month_day = re.compile(rf"\b(?P<month>{months})\s+(?P<d>\d{{1,2}})(?![\w:]|[.,]\d)")
        self._day_month = re.compile(rf"(?<![\w.,:])(?P<the>the\s+)?(?P<d>\d{{1,2}})\s+(?P<month>{months})\b")
        units = "|".join(re.escape(u.symbol) for u in sorted(lang.units, key=lambda u: -len(u.symbol)))
        self._units = {u.symbol: u for u in lang.units}
        self._unit = re.compile(rf"{_number_pattern(lang)}\s?(?P<unit>{units})(?![\w])")
        self._times = _time_patterns(self)

    def before_symbols(self, text: str) -> str:
        """Web addresses, times, dates, phone numbers, fractions and ranges, in that order."""
        for step in (self.web, self.times, self.dates, self.phones, self.fractions, self.ranges):
            text = step(text)
        return text

    def after_symbols(self, text: str) -> str:
        """Units, decades (``1990s``) and the symbols ``+ = @ # ×``."""
        return self.symbol_words(self.decades(self._unit.sub(_spaced(self._unit_words), text)))

    # Web ----------------------------------------------------------------------------------------
    def web(self, text: str) -> str:
        """``www.a.com/b`` -> ``w w w dot a dot com slash b``; ``a@b.com`` -> ``a at b dot com``."""
        text = _URL.sub(lambda m: self._address(re.sub(r"^https?://", "", m.group(0))), text)
        text = _EMAIL.sub(lambda m: self._address(m.group(0)), text)
        return _DOMAIN.sub(lambda m: self._address(m.group(0)), text)

    def _address(self, address: str) -> str:
        w = self.lang.words
        spoken = {".": f" {w.dot} ", "/": f" {w.slash} ", "@": f" {w.at} ", "-": "-", "_": " "}
        words = "".join(spoken.get(c, c if c.isalnum() else " ") for c in address)
        return " " + re.sub(r"\bwww\b", "w w w", " ".join(words.split())) + " "

    # Times --------------------------------------------------------------------------------------
    def times(self, text: str) -> str:
        """``10:30`` -> ``ten thirty``, ``7 p.m.`` -> ``seven p m``; fr ``10h30``, de ``10:30 Uhr``."""
        for pattern, words in self._times:
            text = pattern.sub(words, text)
        return text

    def _en_time(self, m: re.Match[str]) -> str:
        hour, minutes = int(m.group("h")), int(m.groupdict().get("m") or 0)
        ampm = m.group("ampm")
        words = [self.x.cardinal(str(hour))]
        if minutes:
            words.append(
                self.x.cardinal(str(minutes)) if minutes >= 10 else f"oh {self.x.cardinal(str(minutes))}"
            )
        elif m.groupdict().get("m") and not ampm:
            words.append("o'clock" if hour <= 12 else "hundred")
        if m.groupdict().get("s"):
            words.append(f"and {self.x.cardinal(str(int(m.group('s'))))} seconds")
        if ampm:
            words.append(" ".join(ampm.lower().replace(".", "")))
            if ampm.endswith(".") and _ends_sentence(m.string[m.end() :]):
                words[-1] += "."
        return " ".join(words)

    def _fr_time(self, m: re.Match[str]) -> str:
        hour, minutes = int(m.group("h")), m.group("m") or m.group("m2")
        words = f"{self.x.counted(str(hour), feminine=True)} {'heure' if hour < 2 else 'heures'}"
        return f"{words} {self.x.cardinal(str(int(minutes)))}" if minutes and int(minutes) else words

    def _de_time(self, m: re.Match[str]) -> str:
        words = f"{self.x.counted(str(int(m.group('h'))))} Uhr"
        minutes = int(m.group("m") or 0)
        return f"{words} {self.x.cardinal(str(minutes))}" if minutes else words

    # Dates --------------------------------------------------------------------------------------
    def dates(self, text: str) -> str:
        """``1/2/2024`` (US English: month first), ``2024-01-02``, ``March 3`` and ``3 March``."""
        text = _ISO_DATE.sub(lambda m: self._date_words(m.group("d"), m.group("m"), m.group("y"), m), text)
        text = self._date.sub(self._numeric_date, text)
        if self.lang.code == "en":
            text = self._month_day.sub(lambda m: f"{m.group('month')} {self._day(m.group('d'))}", text)
            text = self._day_month.sub(self._en_day_month, text)
        elif self.lang.code == "fr":
            text = self._day_month.sub(self._fr_day_month, text)
        return text

    def _numeric_date(self, m: re.Match[str]) -> str:
        a, b = m.group("a"), m.group("b")
        day, month = (b, a) if self.lang.date_order == "mdy" else (a, b)
        if int(day) <= 12 < int(month):  # 13/1/2024 can only be day first
            day, month = month, day
        return self._date_words(day, month, m.group("y"), m)

    def _date_words(self, day: str, month: str, year: str, m: re.Match[str]) -> str:
        d, mo = int(day), int(month)
        if not (1 <= d <= 31 and 1 <= mo <= 12):
            return m.group(0)
        name = self.lang.months[mo - 1]
        if self.lang.code == "en":
            return f"{name} {self.x.ordinal(d)} {year}"
        if self.lang.code == "fr":
            return f"{'premier' if d == 1 else d} {name} {year}"
        return f"{d}. {name} {year}"  # the German ordinal step reads "3. März"

    def _day(self, digits: str) -> str:
        return self.x.ordinal(int(digits)) if 1 <= int(digits) <= 31 else digits

    def _en_day_month(self, m: re.Match[str]) -> str:
        if not 1 <= int(m.group("d")) <= 31:
            return m.group(0)
        return f"{m.group('the') or 'the '}{self._day(m.group('d'))} of {m.group('month')}"

    def _fr_day_month(self, m: re.Match[str]) -> str:
        day = "premier" if m.group("d") == "1" else m.group("d")
        return f"{m.group('the') or ''}{day} {m.group('month')}"

    # Phone numbers, fractions, ranges -------------------------------------------------------------
    def phones(self, text: str) -> str:
        """``555-1234`` and ``(555) 123-4567``: digits one by one."""
        return _PHONE.sub(
            _spaced(lambda m: " ".join(self.x.digits(g) for g in re.findall(r"\d+", m.group(0)))), text
        )

    def fractions(self, text: str) -> str:
        """``3/4`` -> ``three quarters``, ``2/3`` -> ``two thirds`` (fr ``deux tiers``, de ``Drittel``)."""
        return _FRACTION.sub(_spaced(self._fraction), text)

    def _fraction(self, m: re.Match[str]) -> str:
        n, d = int(m.group("n")), int(m.group("d"))
        if d < 2 or d > 100:
            return m.group(0)
        plural = n >= 2 if self.lang.code == "fr" else n != 1
        if d in self.lang.fractions:
            name = self.lang.fractions[d][plural]
        elif self.lang.code == "de":
            name = self.x.ordinal(d).removesuffix("e").capitalize() + "el"
        else:
            name = self.x.ordinal(d) + ("s" if plural else "")
        return f"{self.x.counted(str(n))} {name}"

    def ranges(self, text: str) -> str:
        """``10-20`` -> ``10 to 20`` (the numbers are read later)."""
        return _RANGE.sub(f" {self.lang.words.to} ", text)

    # Units, decades, symbols ----------------------------------------------------------------------
    def _unit_words(self, m: re.Match[str]) -> str:
        unit = self._units[m.group("unit")]
        digits = re.sub(r"\D", "", m.group("int"))
        n = int(digits)
        one = not m.group("frac") and (n < 2 if self.lang.code == "fr" else n == 1)
        number = self.x.counted(digits) if one else self.x.cardinal(digits)
        if m.group("frac"):
            number = self.x.number_words(m).removeprefix(f"{self.lang.minus} ")
        sign = f"{self.lang.minus} " if m.group("sign") else ""
        return f"{sign}{number} {unit.singular if one else unit.plural}"

    def decades(self, text: str) -> str:
        """Decades: en ``1990s`` -> ``nineteen nineties``, ``'80s`` -> ``eighties``; de ``1990er``."""
        if self.lang.code == "en":
            return _DECADE.sub(_spaced(lambda m: _plural(self.x.year(m.group("n")))), text)
        if self.lang.code == "de":
            return _GERMAN_DECADE.sub(_spaced(lambda m: self.x.year(m.group("n")) + "er"), text)
        return text

    def symbol_words(self, text: str) -> str:
        """``+ = @ ×`` as words, ``#`` before a number as ``number``; other symbols are left as they are."""
        w = self.lang.words
        text = re.sub(r"#\s?(?=\d)", f" {w.number} ", text)
        for symbol, word in (("+", w.plus), ("=", w.equals), ("@", w.at), ("×", w.times)):
            text = text.replace(symbol, f" {word} ")
        return text


def _time_patterns(r: Readings) -> list[tuple[re.Pattern[str], Callable[[re.Match[str]], str]]]:
    """The time patterns of a language with the method that reads them, in the order they apply."""
    hour = r"(?<![\d:.,])(?P<h>[01]?\d|2[0-3])"
    minutes = r":(?P<m>[0-5]\d)(?![\d:])"
    if r.lang.code == "en":
        seconds = r":(?P<m>[0-5]\d)(?::(?P<s>[0-5]\d))?(?![\d:])"
        return [
            (re.compile(rf"{hour}{seconds}(?:\s?{_AMPM})?"), r._en_time),
            (re.compile(rf"{hour}\s?{_AMPM}"), r._en_time),
        ]
    if r.lang.code == "fr":
        return [(re.compile(rf"{hour}(?:{minutes}|\s?h\s?(?P<m2>[0-5]\d)?(?!\w))"), r._fr_time)]
    return [(re.compile(rf"{hour}(?:{minutes})?(?(m)(?:\s?Uhr\b)?|\s?Uhr\b)"), r._de_time)]


def _ends_sentence(rest: str) -> bool:
    """Whether the text after an abbreviation's full stop starts a new sentence (or there is none)."""
    following = rest.lstrip()
    return not following or following[0].isupper()


def _plural(words: str) -> str:
    """``nineteen ninety`` -> ``nineteen nineties``."""
    return words[:-1] + "ies" if words.endswith("y") else words + "s"


@functools.cache
def get_readings(code: str) -> Readings:
    """The (cached) pattern rules of language ``code``; raises ``ConfigError`` if unsupported."""
    return Readings(get_expander(code))
