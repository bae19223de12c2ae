"""Character tokenizer: one id per character seen in the training texts."""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

from speech.errors import TokenizerError
from speech.io import atomic_write
from speech.text.base import (
    NUM_SPECIALS,
    UNK_ID,
    UNK_SURFACE,
    SpecialIdsMixin,
    check_ids,
    check_type,
    read_json,
)

_TYPE = "char"


class CharTokenizer(SpecialIdsMixin):
    """One id per character; the space is an ordinary symbol.

    Ids 0-3 are pad, bos, eos and unk; symbol ``i`` of :attr:`symbols` has id ``4 + i``.
    ``encode`` adds no bos/eos; characters outside the vocabulary map to unk and are counted in
    :attr:`unknown_counts`. Saved as ``{"type": "char", "symbols": [...]}``.

    Args:
        symbols: The characters, each a single-character string, without duplicates. Their order
            fixes the ids; :meth:`build` sorts them so the same texts always give the same ids.

    Raises:
        TokenizerError: A symbol is not a single character, or is repeated, or there is none.
    """

    def __init__(self, symbols: Sequence[str]) -> None:
        symbols = list(symbols)
        _check_symbols(symbols, "char tokenizer")
        self._symbols = symbols
        self._index = {s: NUM_SPECIALS + i for i, s in enumerate(symbols)}
        self.unknown_counts: Counter[str] = Counter()

    @classmethod
    def build(cls, texts: Iterable[str], min_count: int = 1) -> CharTokenizer:
        """Build the vocabulary from texts.

        Args:
            texts: Training texts (already normalised, if a normaliser is used).
            min_count: Characters seen fewer times are left out (they will encode as unk).

        Returns:
            A tokenizer whose symbols are the kept characters in sorted (code point) order.

        Raises:
            TokenizerError: No character occurs ``min_count`` times.
        """
        if min_count < 1:
            raise TokenizerError(f"char tokenizer: min_count must be >= 1, got {min_count}")
        counts: Counter[str] = Counter()
        for text in texts:
            counts.update(text)
        symbols = sorted(c for c, n in counts.items() if n >= min_count)
        if not symbols:
            raise TokenizerError(f"char tokenizer: no character occurs at least {min_count} time(s)")
        return cls(symbols)

    @property
    def symbols(self) -> list[str]:
        """The characters, in id order (id = 4 + position)."""
        return list(self._symbols)

    @property
    def vocab_size(self) -> int:
        """Number of ids: 4 specials plus one per symbol."""
        return NUM_SPECIALS + len(self._symbols)

    def encode(self, text: str) -> list[int]:
        """Map each character to its id, without bos/eos; unknown characters map to unk.

        Args:
            text: Text to encode.

        Returns:
            One id per character of ``text``.
        """
        ids = [self._index.get(c, UNK_ID) for c in text]
        if UNK_ID in ids:
            self.unknown_counts.update(c for c in text if c not in self._index)
        return ids

    def decode(self, ids: Sequence[int]) -> str:
        """Join the characters of ``ids``, skipping pad/bos/eos; unk is written as ``⁇``.

        Raises:
            ValueError: An id is outside the vocabulary.
        """
        return "".join(
            UNK_SURFACE if i == UNK_ID else self._symbols[i - NUM_SPECIALS]
            for i in check_ids(ids, self.vocab_size)
        )

    def to_dict(self) -> dict[str, Any]:
        """``{"type": "char", "symbols": [...]}``."""
        return {"type": _TYPE, "symbols": list(self._symbols)}

    @classmethod
    def from_dict(cls, data: dict[str, Any], where: str = "tokenizer") -> CharTokenizer:
        """Rebuild a tokenizer from :meth:`to_dict` output.

        Args:
            data: The dictionary.
            where: Prefix for error messages (a file name, or a checkpoint key).

        Raises:
            TokenizerError: ``where: problem`` for a wrong type or a bad symbol list.
        """
        check_type(data, _TYPE, where)
        symbols = data.get("symbols")
        if not isinstance(symbols, list):
            raise TokenizerError(f"{where}: 'symbols' must be a list of characters")
        _check_symbols(symbols, where)
        return cls(symbols)

    def save(self, path: str | os.PathLike) -> None:
        """Write ``{"type": "char", "symbols": [...]}`` to ``path`` atomically."""
        with atomic_write(path) as f:
            json.dump(self.to_dict(), f, ensure_ascii=False, indent=1)
            f.write("\n")

    @classmethod
    def load(cls, path: str | os.PathLike) -> CharTokenizer:
        """Read a tokenizer written by :meth:`save`.

        Raises:
            TokenizerError: ``path: problem`` for a missing or malformed file.
        """
        return cls.from_dict(read_json(path), where=str(path))

    def __repr__(self) -> str:
        return f"CharTokenizer(vocab_size={self.vocab_size})"


def _check_symbols(symbols: list[Any], where: str) -> None:
    if not symbols:
        raise TokenizerError(f"{where}: the symbol list is empty")
    for s in symbols:
        if not isinstance(s, str) or len(s) != 1:
            raise TokenizerError(f"{where}: symbol {s!r} is not a single character")
    if len(set(symbols)) != len(symbols):
        dup = next(s for s, n in Counter(symbols).items() if n > 1)
        raise TokenizerError(f"{where}: symbol {dup!r} is repeated")
