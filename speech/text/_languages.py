"""Per-language tables for the text normaliser: number formats, words, currencies, abbreviations."""

from __future__ import annotations

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
        months: Month names (German ordinals before a month: ``3. Mai``).
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
    months: tuple[str, ...] = ()


_A = Abbreviation

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
    months=(
        "Januar",
        "Jänner",
        "Februar",
        "März",
        "April",
        "Mai",
        "Juni",
        "Juli",
        "August",
        "September",
        "Oktober",
        "November",
        "Dezember",
    ),
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
