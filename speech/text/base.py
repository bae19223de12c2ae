"""The :class:`Tokenizer` protocol shared by every tokenizer, and its fixed special ids.

Every tokenizer in :mod:`speech.text` reserves the same four ids, so models, losses and the
beam search can rely on them without asking the tokenizer:

==========  ====  =========================================================
name        id    use
==========  ====  =========================================================
``pad``     0     padding in batches (ignored by losses)
``bos``     1     start of sequence, prepended by the *model*, not by encode
``eos``     2     end of sequence, appended by the *model*, not by encode
``unk``     3     anything the vocabulary does not cover
==========  ====  =========================================================

``encode`` never adds ``bos``/``eos`` and never fails on unknown input: what it cannot map goes
to ``unk`` and is counted in ``unknown_counts`` so users can see what was lost.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol, Self, runtime_checkable

from speech.errors import TokenizerError

PAD_ID = 0
"""Padding id, the same for every tokenizer."""
BOS_ID = 1
"""Beginning-of-sequence id."""
EOS_ID = 2
"""End-of-sequence id."""
UNK_ID = 3
"""Unknown-symbol id."""
NUM_SPECIALS = 4
"""Number of reserved ids; ordinary symbols start at this id."""
UNK_SURFACE = "⁇"
"""What ``decode`` writes for an ``unk`` id (the same mark SentencePiece uses)."""


@runtime_checkable
class Tokenizer(Protocol):
    """Maps text to token ids and back.

    Special ids are fixed for every implementation: pad=0, bos=1, eos=2, unk=3. ``encode`` does
    not add bos/eos (the models add them); ``decode`` skips pad/bos/eos ids (it does not stop at
    eos: cut hypotheses at eos before decoding) and writes unk as ``⁇``.
    """

    unknown_counts: Counter[str]
    """Unknown characters (or SentencePiece surfaces) seen by :meth:`encode`, with counts."""

    def encode(self, text: str) -> list[int]:
        """Map ``text`` to ids, without bos/eos; unknown input maps to ``unk_id`` and is counted."""
        ...

    def decode(self, ids: Sequence[int]) -> str:
        """Map ids back to text, skipping pad/bos/eos."""
        ...

    @property
    def vocab_size(self) -> int:
        """Number of ids, specials included."""
        ...

    @property
    def pad_id(self) -> int:
        """Padding id (0)."""
        ...

    @property
    def bos_id(self) -> int:
        """Beginning-of-sequence id (1)."""
        ...

    @property
    def eos_id(self) -> int:
        """End-of-sequence id (2)."""
        ...

    @property
    def unk_id(self) -> int:
        """Unknown id (3)."""
        ...

    def save(self, path: str | os.PathLike) -> None:
        """Write the tokenizer to a JSON file atomically."""
        ...

    @classmethod
    def load(cls, path: str | os.PathLike) -> Self:
        """Read a tokenizer written by :meth:`save`."""
        ...

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable description, with a ``"type"`` key, to embed in checkpoints."""
        ...


class SpecialIdsMixin:
    """The fixed special ids as read-only properties."""

    @property
    def pad_id(self) -> int:
        """Padding id (0)."""
        return PAD_ID

    @property
    def bos_id(self) -> int:
        """Beginning-of-sequence id (1)."""
        return BOS_ID

    @property
    def eos_id(self) -> int:
        """End-of-sequence id (2)."""
        return EOS_ID

    @property
    def unk_id(self) -> int:
        """Unknown id (3)."""
        return UNK_ID


def check_ids(ids: Sequence[int], vocab_size: int) -> list[int]:
    """Return ``ids`` as plain ints, without pad/bos/eos.

    Raises:
        ValueError: An id is outside ``[0, vocab_size)``.
    """
    out = []
    for i in ids:
        i = int(i)
        if not 0 <= i < vocab_size:
            raise ValueError(f"token id {i} is outside the vocabulary [0, {vocab_size})")
        if i not in (PAD_ID, BOS_ID, EOS_ID):
            out.append(i)
    return out


def read_json(path: str | os.PathLike) -> dict[str, Any]:
    """Read a tokenizer JSON file.

    Raises:
        TokenizerError: ``path: problem`` when the file is missing, unreadable, not JSON, or not
            an object with a string ``"type"``.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise TokenizerError(f"{path}: no such tokenizer file") from None
    except (OSError, UnicodeDecodeError) as e:
        raise TokenizerError(f"{path}: cannot read tokenizer file ({e.__class__.__name__})") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise TokenizerError(f"{path}: not a tokenizer JSON file ({e.msg})") from None
    if not isinstance(data, dict) or not isinstance(data.get("type"), str):
        raise TokenizerError(f"{path}: not a tokenizer JSON file (expected an object with a 'type')")
    return data


def check_type(data: dict[str, Any], expected: str, where: str) -> None:
    """Raise :class:`TokenizerError` ``where: ...`` unless ``data["type"] == expected``."""
    found = data.get("type") if isinstance(data, dict) else None
    if found != expected:
        raise TokenizerError(f"{where}: expected a '{expected}' tokenizer, found type {found!r}")
