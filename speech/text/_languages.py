"""Per-language tables for the text normaliser: number formats, words, currencies, abbreviations."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Literal, NamedTuple

from speech.errors import ConfigError


class Currency(NamedTuple):
    """Words of a currency: main unit and hundredth, singular and plural."""

    unit: str
    units: str
    subunit: str
    subunits: str
    feminine: bool = False


class Unit(NamedTuple):
    """A unit read after a number (``5 km`` -> ``five kilometers``)."""

    symbol: str
    singular: str
    plural: str


class Words(NamedTuple):
    """Words read for symbols and in number patterns.

    Attributes:
        to: Between the ends of a range (``10-20``).
        dot: ``.`` in web and e-mail addresses.
        at: ``@``.
        slash: ``/`` in web addresses.
        plus: ``+``.
        equals: ``=``.
        times: ``×``.
        number: ``#`` before a number (``#1``).
    """

    to: str
    dot: str
    at: str
    slash: str
    plus: str
    equals: str
    times: str
    number: str


AbbreviationKind = Literal["always", "title", "terminal", "number"]


class Abbreviation(NamedTuple):
    """An abbreviation and when to expand it.

    ``kind``: ``"always"``; ``"title"`` only before a capitalised word (``Dr. Smith``), else
    ``otherwise`` if given, which also wins after a capitalised word inside a sentence
    (``on Main St. He`` -> street); ``"terminal"`` always, and it may end a
    sentence, so a full stop is kept before a capital or the end; ``"number"`` only before a
    digit (``No. 5``).
    """

    text: str
    expansion: str
    kind: AbbreviationKind = "always"
    otherwise: str | None = None


@dataclass(frozen=True)
class Language:
    """Everything language specific the normaliser needs.

    Attributes:
        code: ISO 639-1 code, also the num2words language.
        group_separators: Characters allowed between groups of three digits (``1,234``).
        decimal_separator: Character between integer and fractional part.
        point: Word read for the decimal separator.
        minus: Word read for a leading minus sign.
        percent: Word read for ``%``.
        conjunction: ``and`` joins currency units and subunits and replaces ``&``.
        currencies: Words per currency symbol.
        scales: Words that may follow a currency amount (``$5 million``).
        scale_link: Put between a scale word and the currency (``d'`` / ``de`` in French).
        abbreviations: Abbreviations, matched case-sensitively.
        words: Words read for symbols (``+ = @ # ×``), ranges and web addresses.
        months: Month names, January first (dates, and German ordinals before a month: ``3. Mai``).
        units: Units read after a number; the longest symbol wins.
        fractions: Words of special denominators, singular and plural (``1/2`` -> ``one half``).
        date_order: ``"mdy"`` (US English ``1/2/2024`` is January 2nd) or ``"dmy"``.
        years: Read four-digit numbers from 1100 to 2099 as years (``nineteen ninety-nine``).
        ordinal_dot: Ordinals are written with a full stop (German ``3.``).
        spelled: Capitalised words read in a fixed way rather than letter by letter (``OK``).
        other_months: Other spellings of month names, recognised but never written (``Jänner``).
    """

    code: str
    group_separators: str
    decimal_separator: str
    point: str
    minus: str
    percent: str
    conjunction: str
    currencies: dict[str, Currency]
    scales: tuple[str, ...]
    scale_link: str
    abbreviations: tuple[Abbreviation, ...]
    words: Words
    months: tuple[str, ...]
    units: tuple[Unit, ...]
    fractions: dict[int, tuple[str, str]]
    date_order: Literal["mdy", "dmy"] = "dmy"
    years: bool = False
    ordinal_dot: bool = False
    spelled: dict[str, str] = dataclasses.field(default_factory=dict)
    other_months: tuple[str, ...] = ()

    @property
    def month_names(self) -> tuple[str, ...]:
        """Every recognised spelling of a month name."""
        return self.months + self.other_months


_A = Abbreviation


def _units(*rows: str) -> tuple[Unit, ...]:
    """Units from ``"symbol|singular|plural"`` rows."""
    return tuple(Unit(*row.split("|")) for row in rows)


ENGLISH = Language(
    code="en",
    group_separators=",",
    decimal_separator=".",
    point="point",
    minus="minus",
    percent="percent",
    conjunction="and",
    currencies={
        "$": Currency("dollar", "dollars", "cent", "cents"),
        "€": Currency("euro", "euros", "cent", "cents"),
        "£": Currency("pound", "pounds", "penny", "pence"),
    },
    scales=("thousand", "million", "billion", "trillion"),
    scale_link="",
    abbreviations=(
        _A("Mr.", "Mister"),
        _A("Mrs.", "Missus"),
        _A("Ms.", "Miss"),
        _A("Dr.", "Doctor", "title", otherwise="Drive"),
        _A("Prof.", "Professor"),
        _A("St.", "Saint", "title", otherwise="Street"),
        _A("Mt.", "Mount", "title"),
        _A("Jr.", "Junior", "terminal"),
        _A("Sr.", "Senior", "terminal"),
        _A("vs.", "versus"),
        _A("etc.", "et cetera", "terminal"),
        _A("e.g.", "for example"),
        _A("i.e.", "that is"),
        _A("approx.", "approximately"),
        _A("Ave.", "Avenue", "terminal"),
        _A("Inc.", "Incorporated", "terminal"),
        _A("Ltd.", "Limited", "terminal"),
        _A("No.", "number", "number"),
    ),
    words=Words("to", "dot", "at", "slash", "plus", "equals", "times", "number"),
    months=tuple(
        "January February March April May June July August September October November December".split()
    ),
    units=_units(
        "km/h|kilometer per hour|kilometers per hour",
        "mph|mile per hour|miles per hour",
        "km|kilometer|kilometers",
        "cm|centimeter|centimeters",
        "mm|millimeter|millimeters",
        "kg|kilogram|kilograms",
        "mg|milligram|milligrams",
        "ml|milliliter|milliliters",
        "GB|gigabyte|gigabytes",
        "MB|megabyte|megabytes",
        "°C|degree Celsius|degrees Celsius",
        "°F|degree Fahrenheit|degrees Fahrenheit",
        "°|degree|degrees",
    ),
    fractions={2: ("half", "halves"), 4: ("quarter", "quarters")},
    date_order="mdy",
    years=True,
    spelled={"OK": "okay"},
)

FRENCH = Language(
    code="fr",
    group_separators=" .",
    decimal_separator=",",
    point="virgule",
    minus="moins",
    percent="pour cent",
    conjunction="et",
    currencies={
        "$": Currency("dollar", "dollars", "cent", "cents"),
        "€": Currency("euro", "euros", "centime", "centimes"),
        "£": Currency("livre", "livres", "penny", "pence", feminine=True),
    },
    scales=("millions", "million", "milliards", "milliard"),
    scale_link="de ",
    abbreviations=(
        _A("M.", "Monsieur", "title"),
        _A("MM.", "Messieurs"),
        _A("Mme", "Madame"),
        _A("Mmes", "Mesdames"),
        _A("Mlle", "Mademoiselle"),
        _A("Mlles", "Mesdemoiselles"),
        _A("Dr.", "Docteur", "title"),
        _A("Dr", "Docteur", "title"),
        _A("Pr.", "Professeur", "title"),
        _A("St", "Saint", "title"),
        _A("Ste", "Sainte", "title"),
        _A("etc.", "et cetera", "terminal"),
        _A("p. ex.", "par exemple"),
        _A("c.-à-d.", "c'est-à-dire"),
        _A("n°", "numéro", "number"),
        _A("N°", "numéro", "number"),
    ),
    words=Words("à", "point", "arobase", "slash", "plus", "égale", "fois", "numéro"),
    months=tuple(
        "janvier février mars avril mai juin juillet août septembre octobre novembre décembre".split()
    ),
    units=_units(
        "km/h|kilomètre par heure|kilomètres par heure",
        "km|kilomètre|kilomètres",
        "cm|centimètre|centimètres",
        "mm|millimètre|millimètres",
        "kg|kilogramme|kilogrammes",
        "mg|milligramme|milligrammes",
        "ml|millilitre|millilitres",
        "°C|degré Celsius|degrés Celsius",
        "°F|degré Fahrenheit|degrés Fahrenheit",
        "°|degré|degrés",
    ),
    fractions={2: ("demi", "demis"), 3: ("tiers", "tiers"), 4: ("quart", "quarts")},
)

GERMAN = Language(
    code="de",
    group_separators=". ",
    decimal_separator=",",
    point="Komma",
    minus="minus",
    percent="Prozent",
    conjunction="und",
    currencies={
        "$": Currency("Dollar", "Dollar", "Cent", "Cent"),
        "€": Currency("Euro", "Euro", "Cent", "Cent"),
        "£": Currency("Pfund", "Pfund", "Penny", "Pence"),
    },
    scales=("Tausend", "Millionen", "Million", "Milliarden", "Milliarde"),
    scale_link="",
    abbreviations=(
        _A("Hr.", "Herr"),
        _A("Hrn.", "Herrn"),
        _A("Fr.", "Frau", "title"),
        _A("Dr.", "Doktor", "title"),
        _A("Prof.", "Professor"),
        _A("z.B.", "zum Beispiel"),
        _A("z. B.", "zum Beispiel"),
        _A("d.h.", "das heißt"),
        _A("d. h.", "das heißt"),
        _A("u.a.", "unter anderem"),
        _A("usw.", "und so weiter", "terminal"),
        _A("bzw.", "beziehungsweise"),
        _A("ca.", "circa"),
        _A("evtl.", "eventuell"),
        _A("ggf.", "gegebenenfalls"),
        _A("inkl.", "inklusive"),
        _A("vgl.", "vergleiche"),
        _A("etc.", "et cetera", "terminal"),
        _A("Mio.", "Millionen"),
        _A("Mrd.", "Milliarden"),
        _A("Str.", "Straße", "terminal"),
        _A("Nr.", "Nummer", "number"),
    ),
    words=Words("bis", "Punkt", "at", "Schrägstrich", "plus", "gleich", "mal", "Nummer"),
    months=tuple(
        "Januar Februar März April Mai Juni Juli August September Oktober November Dezember".split()
    ),
    units=_units(
        "km/h|Kilometer pro Stunde|Kilometer pro Stunde",
        "km|Kilometer|Kilometer",
        "cm|Zentimeter|Zentimeter",
        "mm|Millimeter|Millimeter",
        "kg|Kilogramm|Kilogramm",
        "mg|Milligramm|Milligramm",
        "ml|Milliliter|Milliliter",
        "GB|Gigabyte|Gigabyte",
        "MB|Megabyte|Megabyte",
        "°C|Grad Celsius|Grad Celsius",
        "°F|Grad Fahrenheit|Grad Fahrenheit",
        "°|Grad|Grad",
    ),
    fractions={2: ("halb", "halbe")},
    years=True,
    ordinal_dot=True,
    other_months=("Jänner",),
)


LANGUAGES: dict[str, Language] = {lang.code: lang for lang in (ENGLISH, FRENCH, GERMAN)}
"""Supported languages by code."""


def get_language(code: str) -> Language:
    """The tables of language ``code``.

    Raises:
        ConfigError: The language is not supported.
    """
    try:
        return LANGUAGES[code]
    except (KeyError, TypeError):
        supported = sorted(LANGUAGES)
        raise ConfigError(
            f"text normalizer: unsupported language {code!r} (supported: {supported})"
        ) from None
