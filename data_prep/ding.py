"""English-German sentence pairs from the Ding dictionary (Debian package ``trans-de-en``).

File format (``/usr/share/trans/de-en``, UTF-8): ``#`` comment lines, then one entry a line,
``German :: English``. Each side holds senses separated by `` | `` (the n-th German sense
translates the n-th English one) and, within a sense, alternatives separated by ``; ``.
Annotations ride along: ``{m}`` (gender), ``[ugs.]``/``[prov.]`` (register, field),
``<genügen>`` (search keys), and trailing parentheses such as ``(safety note)``.

:func:`read_pairs` keeps the senses that are clean full sentences:

- annotations in ``{}``, ``[]`` and ``<>`` and a trailing ``(...)`` after the final punctuation
  are removed from both sides; any other parenthesis drops the sense;
- English: ASCII letters, spaces and ``' , ; : -`` only, starting with a capital letter and
  ending with one ``.``, ``?`` or ``!`` (no other sentence breaks), ``min_words`` to
  ``max_words`` words, no all-capital acronyms (``I`` aside), no abbreviations (a word with a
  dot before the end: ``sb.``, ``e.g.``, ``Mr.``), no slashes, digits, quotes or ellipses;
- German: starts with a capital letter, ends with ``.``, ``?`` or ``!``, letters (umlauts and
  ``ß`` included), spaces and ``' , ; : -`` only, no abbreviations.

Each clean English alternative is paired with the German alternative at the same position when
both sides have the same number of alternatives, else with the first clean German one. Pairs are
deduplicated on the normalised English sentence (the first one in file order wins), so the result
is deterministic for a given file.
"""

from __future__ import annotations

import os
import random
import re
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

from speech.errors import SpeechError

_ANNOTATION = re.compile(r"\s*(\{[^{}]*\}|\[[^\[\]]*\]|<[^<>]*>)")
_TRAILING_NOTE = re.compile(r"([.?!])\s*\([^()]*\)\s*$")
_ENGLISH = re.compile(r"[A-Z][A-Za-z' ,;:-]*[A-Za-z'][.?!]")
_GERMAN = re.compile(r"[A-ZÄÖÜ][A-Za-zÄÖÜäöüßéèàáâêôç' ,;:-]*[A-Za-zÄÖÜäöüßéèàáâêôç'][.?!]")
_ACRONYM = re.compile(r"\b[A-Z]{2,}\b")


class SentencePair(NamedTuple):
    """One English sentence and its German translation."""

    english: str
    german: str


def clean_side(text: str) -> str | None:
    """Strip annotations from one alternative; ``None`` when parentheses stay inside it."""
    text = _ANNOTATION.sub("", text).strip()
    text = _TRAILING_NOTE.sub(r"\1", text).strip()
    if any(c in text for c in "()[]{}<>"):
        return None
    return " ".join(text.split())


def is_clean_english(text: str, min_words: int = 3, max_words: int = 20) -> bool:
    """Whether ``text`` (already :func:`clean_side`-d) is a clean full English sentence."""
    if not _ENGLISH.fullmatch(text) or _ACRONYM.search(text):
        return False
    if any(c in text[:-1] for c in ".?!") or "--" in text or " -" in text or "- " in text:
        return False
    return min_words <= len(text.split()) <= max_words


def is_clean_german(text: str) -> bool:
    """Whether ``text`` (already :func:`clean_side`-d) is a clean German sentence."""
    if not _GERMAN.fullmatch(text):
        return False
    return not any(c in text[:-1] for c in ".?!")


def _normalise(text: str) -> str:
    return " ".join(re.sub(r"[^a-z' ]+", " ", text.lower()).split())


def pairs_of_line(line: str, min_words: int = 3, max_words: int = 20) -> Iterator[SentencePair]:
    """The clean sentence pairs of one dictionary line (none for comments and malformed lines)."""
    if line.startswith("#") or " :: " not in line:
        return
    german_side, _, english_side = line.rstrip("\n").partition(" :: ")
    if not any(c in english_side for c in ".?!"):
        return
    german_senses, english_senses = german_side.split(" | "), english_side.split(" | ")
    if len(german_senses) != len(english_senses):
        return
    for german_sense, english_sense in zip(german_senses, english_senses, strict=True):
        germans = [clean_side(g) for g in german_sense.split("; ")]
        englishes = [clean_side(e) for e in english_sense.split("; ")]
        clean_germans = [g for g in germans if g and is_clean_german(g)]
        if not clean_germans:
            continue
        for index, english in enumerate(englishes):
            if not english or not is_clean_english(english, min_words, max_words):
                continue
            same = len(germans) == len(englishes) and germans[index] in clean_germans
            yield SentencePair(english, germans[index] if same else clean_germans[0])


def read_pairs(path: str | os.PathLike, min_words: int = 3, max_words: int = 20) -> list[SentencePair]:
    """Read the clean English-German sentence pairs of a Ding dictionary file.

    Args:
        path: The dictionary, e.g. ``/usr/share/trans/de-en``.
        min_words: Fewest English words kept.
        max_words: Most English words kept.

    Returns:
        Pairs in file order, deduplicated on the normalised English sentence.

    Raises:
        SpeechError: The file is missing or unreadable.
    """
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise SpeechError(f"{path}: no such dictionary file (Debian package trans-de-en)") from None
    except (OSError, UnicodeDecodeError) as e:
        raise SpeechError(f"{path}: cannot read the dictionary ({e.__class__.__name__})") from None
    seen: set[str] = set()
    pairs: list[SentencePair] = []
    for line in lines:
        for pair in pairs_of_line(line, min_words, max_words):
            key = _normalise(pair.english)
            if key not in seen:
                seen.add(key)
                pairs.append(pair)
    return pairs


def split_pairs(pairs: list[SentencePair], sizes: dict[str, int], seed: int) -> dict[str, list[SentencePair]]:
    """Deal pairs into splits, disjoint by English and by German sentence.

    Pairs sharing a (normalised) German sentence form a group; the groups are shuffled with
    ``seed`` and each goes whole to the first split, in ``sizes`` order, that still has room (a
    group is cut at a split's size and its rest unused).

    Args:
        pairs: Pairs as :func:`read_pairs` returns them (English already unique).
        sizes: Pairs wanted per split, e.g. ``{"dev": 500, "test": 500, "train": 12800}``.
        seed: Shuffle seed.

    Returns:
        ``{split: pairs}``; a split gets fewer than asked only when the pairs run out.
    """
    groups: dict[str, list[SentencePair]] = {}
    for pair in pairs:
        groups.setdefault(" ".join(re.sub(r"[^\w' ]+", " ", pair.german.lower()).split()), []).append(pair)
    order = list(groups.values())
    random.Random(f"{seed}:ding").shuffle(order)
    chosen: dict[str, list[SentencePair]] = {split: [] for split in sizes}
    for group in order:
        split = next((s for s, size in sizes.items() if len(chosen[s]) < size), None)
        if split is None:
            break
        chosen[split] += group[: sizes[split] - len(chosen[split])]
    return chosen
