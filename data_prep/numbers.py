"""Number sampling and spelling for the ``mini`` corpus.

Numbers are drawn from 0 to 999,999 with the digit count uniform in 1-6 (then the number uniform
among those with that many digits), so that short and long utterances both occur; repeats are
skipped. Each number belongs to one split for good, by a hash of ``(seed, number)``: 10% dev,
10% test, 80% train, so splits are disjoint by number, the ASR and TTS parts agree on which
numbers are held out, and growing one split does not change the others (each split takes its
numbers in draw order from one stream seeded with ``(seed, stream)``).
"""

from __future__ import annotations

import functools
import hashlib
import random

from num2words import num2words

from speech.errors import ConfigError

LARGEST = 999_999
"""Largest number spoken."""
MAX_SIZES = (200_000, 20_000, 20_000)
"""Most numbers a train, dev and test split may ask for (well inside the 80/10/10 buckets)."""
_DEV, _TEST = 0, 1


def split_of(number: int, seed: int) -> str:
    """The split (``"train"``, ``"dev"`` or ``"test"``) ``number`` belongs to under ``seed``."""
    bucket = int.from_bytes(hashlib.sha256(f"{seed}:{number}".encode()).digest()[:8], "big") % 10
    return {_DEV: "dev", _TEST: "test"}.get(bucket, "train")


def sample_numbers(sizes: dict[str, int], seed: int, stream: str) -> dict[str, list[int]]:
    """Draw distinct numbers for each split.

    Args:
        sizes: Numbers wanted per split (keys among ``"train"``, ``"dev"``, ``"test"``).
        seed: The corpus seed (fixes which split each number belongs to).
        stream: Name of the draw stream, e.g. ``"asr"`` or ``"tts"``.

    Returns:
        ``{split: numbers}`` in draw order; disjoint across splits.
    """
    rng = random.Random(f"{seed}:{stream}")
    drawn: dict[str, list[int]] = {split: [] for split in sizes}
    seen: set[int] = set()
    while any(len(drawn[split]) < size for split, size in sizes.items()):
        digits = rng.randint(1, 6)
        number = rng.randrange(0 if digits == 1 else 10 ** (digits - 1), 10**digits)
        if number in seen:
            continue
        seen.add(number)
        split = split_of(number, seed)
        if split in drawn and len(drawn[split]) < sizes[split]:
            drawn[split].append(number)
    return drawn


@functools.cache
def check_language(lang: str) -> None:
    """Check that num2words spells numbers in ``lang``.

    Raises:
        ConfigError: ``lang`` is not a num2words language.
    """
    try:
        num2words(LARGEST, lang=lang)
    except (NotImplementedError, KeyError, ValueError):
        raise ConfigError(f"num2words cannot spell numbers in '{lang}'") from None


def spoken(number: int, lang: str) -> str:
    """``number`` in words: ``spoken(21, "en") == "twenty-one"``, ``spoken(21, "fr") == "vingt et un"``."""
    return num2words(number, lang=lang)
