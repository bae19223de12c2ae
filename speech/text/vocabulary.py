"""The words a TTS model was trained on, and how much of a new text lies outside them.

A TTS model trained on a narrow corpus (the mini recipe's spoken numbers) says words it never
heard badly. Training stores the sorted word list of its training text in the checkpoint
(``"word_vocabulary"``); the :class:`~speech.inference.synthesizer.Synthesizer` compares each
text with it (:func:`word_coverage`) and warns when most of the words are new.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

from speech.text.normalizer import apply_punctuation


def text_words(text: str) -> list[str]:
    """The words of a (normalised) text: lower case, no punctuation, hyphenated words split.

    ``"Twenty-one, don't!"`` -> ``["twenty", "one", "don't"]``.
    """
    return apply_punctuation(text.lower(), "strip").replace("-", " ").split()


def word_vocabulary(texts: Iterable[str]) -> list[str]:
    """The sorted distinct words (:func:`text_words`) of some texts."""
    return sorted({w for text in texts for w in text_words(text)})


class WordCoverage(NamedTuple):
    """How many of a text's words a vocabulary holds.

    Attributes:
        words: Running words of the text.
        unseen: Running words not in the vocabulary.
        unseen_words: The distinct unseen words, in order of first occurrence.
    """

    words: int
    unseen: int
    unseen_words: list[str]

    @property
    def unseen_fraction(self) -> float:
        """``unseen / words`` (0 for a text without words)."""
        return self.unseen / self.words if self.words else 0.0


def word_coverage(text: str, vocabulary: frozenset[str] | set[str]) -> WordCoverage:
    """Count the words of ``text`` (already normalised) missing from ``vocabulary``.

    Args:
        text: A normalised text.
        vocabulary: Known words (as :func:`word_vocabulary` lists them).

    Returns:
        The counts and the unseen words.
    """
    words = text_words(text)
    missing = [w for w in words if w not in vocabulary]
    return WordCoverage(len(words), len(missing), list(dict.fromkeys(missing)))
