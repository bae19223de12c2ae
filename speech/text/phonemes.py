"""IPA phonemes from espeak-ng, for TTS models that read phonemes instead of letters.

The output is a plain Unicode string (``"nine, ten."`` -> ``"nˈaɪn, tˈɛn."``): phonemes with
espeak-ng's stress marks ``ˈ ˌ`` and length mark ``ː``, words separated by single spaces, and
the sentence punctuation ``. , ; : ! ?`` kept after the word it follows. A
:class:`~speech.text.CharTokenizer` built over such strings encodes them symbol by symbol (a
diphthong such as ``aɪ`` is two symbols), so no special tokenizer is needed; see
:func:`speech.text.train_tokenizer_from_manifest` (``phonemizer=``).

Run the :class:`~speech.text.TextNormalizer` first: espeak-ng reads digits and some symbols
itself, but in its own way.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Sequence
from typing import NamedTuple

from speech.errors import SpeechError

INSTALL_HINT = "install espeak-ng: apt-get install espeak-ng"
"""What the error says when the ``espeak-ng`` program is missing."""
_PUNCTUATION = re.compile(r"([.,;:!?]+)")
_WORD = re.compile(r"\w")
_MAX_WORDS = 40  # espeak-ng cuts longer clauses into several output lines


class _Piece(NamedTuple):
    line: int | None  # index into the espeak-ng input lines, or None for punctuation
    punctuation: str


class Phonemizer:
    """Text to IPA phonemes through the ``espeak-ng`` program, many texts per process.

    All texts of a :meth:`phonemize` call go to one ``espeak-ng -q --ipa -v LANG`` process,
    one clause per input line: each text is cut at punctuation (which is kept aside and put
    back after the phonemes of the clause before it), hyphens become spaces (so
    ``twenty-one`` is two words, as espeak-ng would otherwise glue their phonemes), and a
    clause longer than 40 words is cut into 40-word lines. If espeak-ng's output still does
    not have one line per input line, every line is phonemised by its own process instead.

    Args:
        lang: espeak-ng voice (language), e.g. ``"en-us"``, ``"en"``, ``"de"``, ``"fr-fr"``.
        executable: Name or path of the espeak-ng program.

    Raises:
        SpeechError: espeak-ng is missing or does not know ``lang``.
    """

    def __init__(self, lang: str = "en-us", executable: str = "espeak-ng") -> None:
        path = shutil.which(executable)
        if path is None:
            raise SpeechError(f"phonemes: '{executable}' not found; {INSTALL_HINT}")
        self.lang = lang
        self._command = [path, "-q", "--ipa", "-v", lang]
        self._run(["a"])  # fails now, with a clear message, for an unknown voice

    def phonemize(self, texts: Sequence[str]) -> list[str]:
        """Phonemise texts, in one espeak-ng process.

        Args:
            texts: Texts, usually normalised; an empty text gives an empty string.

        Returns:
            One IPA string per text, in order; the same as phonemising each text alone.

        Raises:
            SpeechError: espeak-ng failed.
        """
        lines: list[str] = []
        plans = [_plan(text, lines) for text in texts]
        phonemes = self._run(lines) if lines else []
        if len(phonemes) != len(lines):
            phonemes = [" ".join(self._run([line])) for line in lines]
        return [_assemble(plan, phonemes) for plan in plans]

    def __call__(self, text: str) -> str:
        """Phonemise one text (prefer :meth:`phonemize` for many: one process for all)."""
        return self.phonemize([text])[0]

    def _run(self, lines: list[str]) -> list[str]:
        try:
            result = subprocess.run(
                self._command,
                input="\n".join(lines) + "\n",
                capture_output=True,
                text=True,
                encoding="utf-8",
                check=False,
            )
        except OSError as e:
            raise SpeechError(f"phonemes: cannot run espeak-ng ({e}); {INSTALL_HINT}") from None
        if result.returncode != 0:
            message = (result.stderr.strip().splitlines() or [f"exit code {result.returncode}"])[0]
            raise SpeechError(f"phonemes: espeak-ng failed for voice '{self.lang}': {message}")
        return [" ".join(line.split()) for line in result.stdout.splitlines()]

    def __repr__(self) -> str:
        return f"Phonemizer(lang={self.lang!r})"


def _plan(text: str, lines: list[str]) -> list[_Piece]:
    """Cut ``text`` into clause lines (appended to ``lines``) and punctuation pieces."""
    pieces = []
    for i, part in enumerate(_PUNCTUATION.split(text)):
        if i % 2:  # the split keeps the punctuation at odd positions
            pieces.append(_Piece(None, part))
            continue
        if not _WORD.search(part):
            continue
        words = part.replace("-", " ").split()
        for start in range(0, len(words), _MAX_WORDS):
            pieces.append(_Piece(len(lines), ""))
            lines.append(" ".join(words[start : start + _MAX_WORDS]))
    return pieces


def _assemble(plan: list[_Piece], phonemes: list[str]) -> str:
    """Join the phonemes of a text's lines with spaces, punctuation glued to the word before."""
    words: list[str] = []
    for piece in plan:
        if piece.line is None:
            if words:
                words[-1] += piece.punctuation
            else:
                words.append(piece.punctuation)
        elif phonemes[piece.line]:
            words.append(phonemes[piece.line])
    return " ".join(words)
