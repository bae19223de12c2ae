"""Language-aware text normalisation for TTS inputs and ASR/ST targets."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from speech.errors import ConfigError
from speech.text._expand import get_expander
from speech.text._languages import LANGUAGES
from speech.text._letters import spell_acronyms
from speech.text._readings import get_readings

PUNCTUATION_POLICIES = ("keep", "sentence", "strip")
"""Values of :attr:`TextNormalizer.punctuation`."""
_KEPT = {"keep": frozenset(".,?!;:'-"), "sentence": frozenset(".?!"), "strip": frozenset()}
_WORD_JOINERS = frozenset("'-")
_INVISIBLE = frozenset({"Cc", "Cf", "Co", "Cn", "Cs"})
_VARIATION_SELECTOR = re.compile("[\ufe00-\ufe0f\U000e0100-\U000e01ef]")
_CHAR_MAP = str.maketrans(
    {
        **dict.fromkeys("‘’‚‛′ʼ`´", "'"),
        **dict.fromkeys("“”„‟«»″‹›", '"'),
        **dict.fromkeys("‐‑‒–−", "-"),
        "—": " - ",
        "―": " - ",
        "\u00ad": None,  # soft hyphen
        "\u200b": None,  # zero-width space
        "\ufeff": None,  # byte order mark
    }
)


@dataclass(frozen=True)
class TextNormalizer:
    """Turn raw text into the words a speaker would say, for English, French and German.

    Steps, in order: Unicode NFKC; curly quotes to ``'``/``"`` and dashes to ``-``; invisible
    characters (variation selectors, zero-width joiners …) removed; collapsed whitespace.

    Abbreviations: en ``Mr. Mrs. Ms. Dr. Prof. St. Mt. Jr. Sr. vs. etc. e.g. i.e. No.``, fr ``M.
    MM. Mme Mlle Dr Pr. St Ste etc. p. ex. c.-à-d. n°``, de ``Hr. Fr. Dr. Prof. z.B. d.h. u.a.
    usw. bzw. ca. Nr. Mio. Mrd.`` …; ambiguous titles such as ``Dr. St. M. Fr.`` expand only
    before a capitalised word, and en ``St.``/``Dr.`` read Street/Drive otherwise.

    Numbers and symbols: web and e-mail addresses (``www.a.com`` -> ``w w w dot a dot com``,
    ``a@b.com`` -> ``a at b dot com``); times (en ``10:30`` -> ``ten thirty``, ``12:00`` ->
    ``twelve o'clock``, ``7 p.m.`` -> ``seven p m``; fr ``10h30`` -> ``dix heures trente``; de
    ``10:30 Uhr`` -> ``zehn Uhr dreißig``); dates (``1/2/2024`` is month first in English, day
    first otherwise; ``2024-01-02``; de ``1.2.2024``; en ``March 3`` -> ``March third`` and
    ``3 March`` -> ``the third of March``, fr ``1 mai`` -> ``premier mai``); phone numbers
    (``555-1234``, ``(555) 123-4567``) digit by digit; fractions (``3/4`` -> ``three
    quarters``); ranges (``10-20`` -> ``ten to twenty``); currency amounts (``$5``, ``€3.50``,
    ``5 €``, ``£2``, ``$2.5 million``); percentages; ``&``; units after a number (``km``,
    ``kg``, ``km/h``, ``°C`` …); en decades (``1990s`` -> ``nineteen nineties``, ``'80s``);
    ``+ = @ ×`` and ``#`` before a number (``#1`` -> ``number one``); ordinals (en ``1st
    22nd``, fr ``1er 1re 2e 2ème``, de ``3.`` only before a lowercase word or a month name, as
    in ``am 3. Mai`` -> ``am dritten Mai``; German case endings are guessed from the preceding
    article only); cardinals with thousands separators (en ``1,234``; fr/de ``1 234`` or
    ``1.234``) and decimals (en ``3.5``; fr/de ``3,5``; the digits after the point are read one
    by one), a leading minus. In English and German a plain four-digit number from 1100 to 2099
    is read as a year (``1999`` -> ``nineteen ninety-nine``, ``2024`` -> ``twenty twenty-four``;
    so is ``1500 people``: ``fifteen hundred``); with a thousands separator (``1,999``) it is a
    cardinal. Numbers are spelled by num2words.

    Capitals (with ``abbreviations``): dotted acronyms and short or vowel-less capitalised
    words are spelled (``U.S.A.`` -> ``U S A``, ``FBI`` -> ``F B I``, ``HTML``), unless most words
    of the sentence are capitalised; ``OK`` -> ``okay``; roman numerals II-XXXIX after a
    capitalised word are numbers (``World War II`` -> ``World War two``, en ``Henry VIII`` ->
    ``Henry the eighth``). See :func:`speech.text._letters.spell_acronyms`.

    Then the punctuation policy (other symbols and emoji become spaces), lower-casing and
    whitespace clean-up. Roman numerals elsewhere and units not listed are not interpreted;
    unknown words pass through unchanged.

    Attributes:
        lang: ``"en"``, ``"fr"`` or ``"de"``.
        lowercase: Lower-case the result.
        punctuation: ``"keep"`` keeps ``. , ? ! ; : ' -`` and drops other punctuation and
            symbols (quotes, brackets …); ``"sentence"`` keeps only ``. ? !``; ``"strip"``
            keeps none (for ASR transcripts). All three keep apostrophes and hyphens inside
            words (``don't``, ``l'homme``, ``twenty-one``).
        numbers: Spell out numbers, times, dates, ordinals, currencies, percentages, units,
            ``+ = @ # ×`` and web addresses.
        abbreviations: Expand abbreviations and spell acronyms.

    Raises:
        ConfigError: An unsupported language or punctuation policy.
    """

    lang: str = "en"
    lowercase: bool = True
    punctuation: str = "keep"
    numbers: bool = True
    abbreviations: bool = True

    def __post_init__(self) -> None:
        if self.lang not in LANGUAGES:
            raise ConfigError(
                f"text normalizer: unsupported language {self.lang!r} (supported: {sorted(LANGUAGES)})"
            )
        if self.punctuation not in PUNCTUATION_POLICIES:
            raise ConfigError(_bad_policy(self.punctuation))

    def __call__(self, text: str) -> str:
        """Normalise one text.

        Args:
            text: Raw text (any length; newlines are treated as spaces).

        Returns:
            The normalised text, on one line, without leading or trailing spaces.
        """
        expander, readings = get_expander(self.lang), get_readings(self.lang)
        text = clean_unicode(text)
        if self.abbreviations:
            text = expander.abbreviations(text)
        if self.numbers:
            text = readings.before_symbols(text)
            text = expander.symbols(text)
            text = readings.after_symbols(text)
            text = expander.ordinals(text)
            text = expander.numbers(text)
        if self.abbreviations:
            text = spell_acronyms(text, expander)
        text = apply_punctuation(text, self.punctuation)
        if self.lowercase:
            text = text.lower()
        return " ".join(text.split())


def clean_unicode(text: str) -> str:
    """NFKC, ASCII quotes and dashes, no invisible characters, single spaces.

    Invisible characters are format and control characters (zero-width joiners, byte order
    marks …), private-use and unassigned code points, variation selectors (the emoji
    presentation selector U+FE0F), enclosing marks (keycaps) and combining marks that follow no
    letter or digit.

    Args:
        text: Any text.

    Returns:
        The cleaned text on one line.
    """
    text = unicodedata.normalize("NFKC", text).translate(_CHAR_MAP)
    kept = []
    for c in text:
        category = unicodedata.category(c)
        if category in _INVISIBLE and not c.isspace():
            continue
        if _VARIATION_SELECTOR.match(c) or category == "Me":
            continue  # emoji presentation, keycaps
        if category.startswith("M") and not (kept and kept[-1].isalnum()):
            continue  # a mark on a symbol or a space
        kept.append(c)
    return " ".join("".join(kept).split())


def apply_punctuation(text: str, policy: str) -> str:
    """Apply a punctuation policy of :class:`TextNormalizer`.

    Punctuation and symbols not kept become spaces, except apostrophes and hyphens between two
    word characters, which are always kept. Spaces before kept ``. , ? ! ; :`` are removed
    (French typography puts one before ``?``).

    Args:
        text: Text, usually with numbers already spelled out.
        policy: ``"keep"``, ``"sentence"`` or ``"strip"``.

    Returns:
        The text with the policy applied (whitespace not yet collapsed).
    """
    if policy not in _KEPT:
        raise ConfigError(_bad_policy(policy))
    kept = _KEPT[policy]
    out = []
    for i, c in enumerate(text):
        if c in kept or not unicodedata.category(c).startswith(("P", "S")):
            out.append(c)
        elif c in _WORD_JOINERS and _joins_words(text, i):
            out.append(c)
        else:
            out.append(" ")
    return re.sub(r"\s+([.,?!;:])", r"\1", "".join(out))


def _joins_words(text: str, i: int) -> bool:
    return 0 < i < len(text) - 1 and text[i - 1].isalnum() and text[i + 1].isalnum()


def _bad_policy(policy: object) -> str:
    return f"text normalizer: punctuation must be one of {PUNCTUATION_POLICIES}, got {policy!r}"
