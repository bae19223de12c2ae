"""Capitalised words: acronyms spelled letter by letter (``U.S.A.``, ``FBI``), roman numerals after a name."""

from __future__ import annotations

import re

from speech.text._expand import Expander

_DOTTED = re.compile(r"(?<![\w.])(?P<letters>[^\W\d_](?:\.[^\W\d_])+)(?P<dot>\.)?(?![\w])")
_SENTENCE_END = re.compile(r"(?<=[.?!])(?=\s)")
_WORD = re.compile(r"(?<![\w'])[^\W\d_]+(?![\w'])")
_ROMAN = re.compile(r"(?=[IVX]{2})X{0,3}(?:IX|IV|V?I{0,3})")
_PREVIOUS_NAME = re.compile(r"(?<![\w'])([A-Z][a-z]+)\s+$")
_LOOK_BACK = 40  # characters searched for the capitalised word before a roman numeral
_ROMAN_VALUES = {"I": 1, "V": 5, "X": 10}
_VOWELS = frozenset("AEIOUYÀÂÄÁÉÈÊËÍÎÏÓÔÖÚÙÛÜ")
_SPELL_MAX = 3  # capitalised words this short are spelled even with vowels (CEO, USA)
_COUNTED = frozenset(  # English words after which a roman numeral is a cardinal (World War II)
    "War Part Chapter Volume Book Act Scene Phase Stage Type Class Level Section Article Grade "
    "Apollo Episode Round Vatican Mark".split()
)


def spell_acronyms(text: str, expander: Expander) -> str:
    """Read capitalised abbreviations the way people do.

    ``U.S.A.`` and ``FBI`` become letters (``U S A``, ``F B I``; a full stop stays where it
    also ends the sentence); words in ``Language.spelled`` are replaced (``OK`` -> ``okay``); a
    roman numeral from II to XXXIX after a capitalised word becomes a number (``World War II`` ->
    ``World War two``, English ``Henry VIII`` -> ``Henry the eighth``). A capitalised word is
    spelled when it has no vowel (``HTML``) or at most three letters (``CEO``), but not when most
    words of its sentence are capitalised (shouting: ``STOP IT NOW``), nor a short one joined to
    another word by a hyphen (``X-RAY``). A plural ``s`` is read ``'s`` (``CDs`` -> ``C D's``).

    Args:
        text: Text whose numbers are already read.
        expander: The language's number expander.

    Returns:
        The text with acronyms spelled.
    """
    text = _DOTTED.sub(_dotted, text)
    return "".join(_spell_sentence(part, expander) for part in _SENTENCE_END.split(text))


def _spell_sentence(text: str, expander: Expander) -> str:
    words = re.findall(r"[^\W\d_]+", text)
    capitals = [w for w in words if len(w) >= 2 and w.isupper()]
    shouting = len(words) >= 2 and len(capitals) > len(words) / 2
    return _WORD.sub(lambda m: _capitalised(m, expander, shouting), text)


def _dotted(m: re.Match[str]) -> str:
    letters = " ".join(m.group("letters").split("."))
    following = m.string[m.end() :].lstrip()
    ends = m.group("dot") is not None and (not following or following[0].isupper())
    return letters + ("." if ends else "")


def _capitalised(m: re.Match[str], expander: Expander, shouting: bool) -> str:
    word = m.group(0)
    spelled = expander.lang.spelled
    if word in spelled:
        return spelled[word]
    core, plural = (word[:-1], "'s") if len(word) > 2 and word.endswith("s") else (word, "")
    if len(core) < 2 or not core.isupper():
        return word
    before = m.string[max(0, m.start() - _LOOK_BACK) : m.start()]
    previous = not plural and _ROMAN.fullmatch(core) and _PREVIOUS_NAME.search(before)
    if previous:
        return _roman_words(core, previous.group(1), expander)
    if shouting:
        return word
    joined = before.endswith("-") or m.string[m.end() : m.end() + 1] == "-"
    has_vowel = any(c in _VOWELS for c in core)
    if has_vowel and (len(core) > _SPELL_MAX or joined):
        return word
    return " ".join(core) + plural


def _roman_words(numeral: str, previous: str, expander: Expander) -> str:
    values = [_ROMAN_VALUES[c] for c in numeral]
    n = sum(-v if i + 1 < len(values) and v < values[i + 1] else v for i, v in enumerate(values))
    if expander.lang.code == "en" and previous not in _COUNTED:
        return f"the {expander.ordinal(n)}"  # a king or a pope: Henry VIII
    return expander.cardinal(str(n))
