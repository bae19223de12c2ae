"""Split long text into sentences (TTS synthesises one sentence at a time)."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from speech.text._languages import get_language
from speech.text.normalizer import clean_unicode

_BOUNDARY = re.compile(r"[.?!]+[\"')\]]*(?=\s)")
_PARAGRAPH = re.compile(r"\n\s*\n")
_ACRONYM = re.compile(r"(?:[^\W\d_]\.)+[^\W\d_]")  # U.S.A, a.m (the last full stop is the match's)
_EXTRA_ABBREVIATIONS = {  # besides the normaliser's tables; without the final full stop
    "en": "Mr Mrs Ms Dr Prof St Mt vs e.g i.e approx No cf Fig Gen Gov Sen Rep Col Capt Lt Sgt Rev "
    "Jan Feb Mar Apr Jun Jul Aug Sep Sept Oct Nov Dec".split(),
    "fr": "M MM Mme Mlle Dr Pr St Ste p ex cf av apr J.-C n°".split(),
    "de": "Hr Hrn Fr Dr Prof z.B d.h u.a bzw ca evtl ggf inkl vgl Nr Mio Mrd Str S Abs bspw sog v.a".split(),
}


def split_sentences(text: str, lang: str = "en") -> list[str]:
    """Split ``text`` into sentences.

    A sentence ends at ``.``, ``?`` or ``!`` (possibly repeated and followed by closing quotes
    or brackets) before whitespace, and at blank lines. A full stop does not end a sentence
    after a known abbreviation of the language (``Dr.``, ``e.g.``, ``z.B.``, ``M.`` …; but
    ``etc.``/``usw.`` and dotted acronyms such as ``U.S.A.`` end one before a capital), after a
    single letter (an initial: ``J. Smith``), after a German ordinal (``am 3. Mai``), or before a
    lowercase letter when the text has capitals at all. Decimals (``3.5``) never split since no
    space follows the point.

    Args:
        text: Any text; whitespace inside a sentence is collapsed.
        lang: ``"en"``, ``"fr"`` or ``"de"``.

    Returns:
        The non-empty sentences, stripped, in order.

    Raises:
        ConfigError: An unsupported language.
    """
    rules = _rules(lang)
    sentences: list[str] = []
    for paragraph in _PARAGRAPH.split(text):
        paragraph = clean_unicode(paragraph)
        cased = any(c.isupper() for c in paragraph)
        start = 0
        for m in _BOUNDARY.finditer(paragraph):
            if rules.ends_sentence(paragraph, m, cased):
                sentences.append(paragraph[start : m.end()].strip())
                start = m.end()
        sentences.append(paragraph[start:].strip())
    return [s for s in sentences if s]


@dataclass(frozen=True)
class _Rules:
    abbreviations: frozenset[str]  # without the final full stop; matched case-sensitively
    lowercase_abbreviations: frozenset[str]  # all-lowercase ones, also matched capitalised
    terminal: frozenset[str]  # abbreviations that may end a sentence
    ordinal_follower: re.Pattern[str] | None  # German: what may follow "3." as an ordinal

    def ends_sentence(self, text: str, m: re.Match[str], cased: bool) -> bool:
        marks = m.group(0).rstrip("\"')]")
        following = text[m.end() :].lstrip()
        lowercase_next = cased and following[:1].islower()
        if "?" in marks or "!" in marks:
            return True
        if marks.startswith(".."):
            return not lowercase_next
        word = text[: m.start()].split(" ")[-1].lstrip("\"'([")
        if word in self.abbreviations or word.lower() in self.lowercase_abbreviations:
            return False
        if word in self.terminal or _ACRONYM.fullmatch(word):
            return following[:1].isupper()
        if len(word) == 1 and word.isalpha():
            return False
        if self.ordinal_follower is not None and word.isdigit() and self.ordinal_follower.match(following):
            return False
        return not lowercase_next


@functools.cache
def _rules(lang: str) -> _Rules:
    language = get_language(lang)
    terminal = frozenset(a.text.rstrip(".") for a in language.abbreviations if a.kind == "terminal")
    known = {a.text.rstrip(".") for a in language.abbreviations} | set(_EXTRA_ABBREVIATIONS[lang])
    follower = None
    if language.ordinal_dot:
        follower = re.compile(r"[a-zäöüß]|(?:" + "|".join(language.month_names) + r")\b")
    return _Rules(
        abbreviations=frozenset(known - terminal),
        lowercase_abbreviations=frozenset(a for a in known - terminal if a.islower()),
        terminal=terminal,
        ordinal_follower=follower,
    )
