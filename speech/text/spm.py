"""SentencePiece tokenizer (unigram, BPE or char), trained in memory with fixed special ids."""

from __future__ import annotations

import base64
import binascii
import io
import json
import os
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import sentencepiece as spm

from speech.errors import TokenizerError
from speech.io import atomic_write
from speech.text.base import (
    BOS_ID,
    EOS_ID,
    NUM_SPECIALS,
    PAD_ID,
    UNK_ID,
    SpecialIdsMixin,
    check_ids,
    check_type,
    read_json,
)

_TYPE = "sentencepiece"
MODEL_TYPES = ("unigram", "bpe", "char")
"""Model types :meth:`SentencePieceTokenizer.train` accepts."""


class SentencePieceTokenizer(SpecialIdsMixin):
    """Subword tokenizer backed by a SentencePiece model (Kudo & Richardson, 2018).

    Ids 0-3 are pad, bos, eos and unk as for every tokenizer here. ``encode`` adds no bos/eos;
    pieces the model cannot cover map to unk and their surface text is counted in
    :attr:`unknown_counts`. :meth:`save` writes one JSON file that embeds the model proto in
    base64: ``{"type": "sentencepiece", "model_proto": "..."}``; :meth:`load` also reads a raw
    ``.model`` file written by the SentencePiece tools, provided its special ids match.

    Args:
        model_proto: The serialised SentencePiece ``ModelProto``.
        where: Prefix for error messages (a file name, or a checkpoint key).

    Raises:
        TokenizerError: The bytes are not a SentencePiece model, or its special ids differ from
            pad=0, bos=1, eos=2, unk=3.
    """

    def __init__(self, model_proto: bytes, where: str = "sentencepiece model") -> None:
        self._proto = bytes(model_proto)
        self._sp = _load_processor(self._proto, where)
        self.unknown_counts: Counter[str] = Counter()

    @classmethod
    def train(
        cls,
        texts: Iterable[str],
        vocab_size: int,
        model_type: str = "unigram",
        character_coverage: float = 1.0,
        user_defined_symbols: Sequence[str] = (),
        num_threads: int = 1,
        seed: int = 0,
    ) -> SentencePieceTokenizer:
        """Train a model on ``texts`` in memory.

        Training is deterministic: all sentences are used in order (no sampling, no shuffling),
        the library's random seed is set to ``seed``, and one thread is used by default. The
        vocabulary limit is soft (``hard_vocab_limit=False``), so a tiny corpus yields a
        smaller vocabulary instead of an error. Text is taken as is (``identity``
        normalisation): normalise it first, e.g. with :class:`~speech.text.TextNormalizer`.

        Args:
            texts: Training sentences; empty ones are skipped.
            vocab_size: Target vocabulary size, specials included (must exceed 4).
            model_type: ``"unigram"``, ``"bpe"`` or ``"char"``.
            character_coverage: Fraction of characters the model must cover, in (0, 1].
            user_defined_symbols: Extra pieces that are never split (e.g. language tags).
            num_threads: Trainer threads; more than one may change results between runs.
            seed: Seed of SentencePiece's (process-wide) random generator.

        Returns:
            The trained tokenizer.

        Raises:
            TokenizerError: A bad argument, no training text, or a failed training.
        """
        _check_train_args(vocab_size, model_type, character_coverage, num_threads)
        sentences = [t for t in texts if t.strip()]
        if not sentences:
            raise TokenizerError("sentencepiece: no non-empty training text")
        writer = io.BytesIO()
        spm.set_random_generator_seed(seed)
        try:
            spm.SentencePieceTrainer.train(
                sentence_iterator=_lines(sentences),
                model_writer=writer,
                vocab_size=vocab_size,
                model_type=model_type,
                character_coverage=character_coverage,
                user_defined_symbols=list(user_defined_symbols),
                pad_id=PAD_ID,
                bos_id=BOS_ID,
                eos_id=EOS_ID,
                unk_id=UNK_ID,
                hard_vocab_limit=False,
                input_sentence_size=0,
                shuffle_input_sentence=False,
                normalization_rule_name="identity",
                num_threads=num_threads,
                minloglevel=2,
            )
        except (RuntimeError, OSError) as e:
            raise TokenizerError(f"sentencepiece: training failed ({_message(e)})") from None
        return cls(writer.getvalue())

    @property
    def model_proto(self) -> bytes:
        """The serialised SentencePiece model (what ``spm_encode --model`` reads)."""
        return self._proto

    @property
    def vocab_size(self) -> int:
        """Number of pieces, specials included."""
        return self._sp.get_piece_size()

    def id_to_piece(self, token_id: int) -> str:
        """The piece string of an id (``▁`` marks a word start)."""
        if not 0 <= token_id < self.vocab_size:
            raise ValueError(f"token id {token_id} is outside the vocabulary [0, {self.vocab_size})")
        return self._sp.id_to_piece(int(token_id))

    def encode(self, text: str) -> list[int]:
        """Map ``text`` to piece ids, without bos/eos; uncovered pieces map to unk and are counted.

        Args:
            text: Text to encode.

        Returns:
            The piece ids.
        """
        ids: list[int] = self._sp.encode(text)
        if UNK_ID in ids:
            pieces: list[str] = self._sp.encode(text, out_type=str)
            self.unknown_counts.update(
                p.lstrip("▁") for i, p in zip(ids, pieces, strict=True) if i == UNK_ID and p.lstrip("▁")
            )
        return ids

    def decode(self, ids: Sequence[int]) -> str:
        """Detokenise ``ids``, skipping pad/bos/eos; unk is written as ``⁇``.

        Raises:
            ValueError: An id is outside the vocabulary.
        """
        return self._sp.decode(check_ids(ids, self.vocab_size))

    def to_dict(self) -> dict[str, Any]:
        """``{"type": "sentencepiece", "model_proto": <base64 of the model>}``."""
        return {"type": _TYPE, "model_proto": base64.b64encode(self._proto).decode("ascii")}

    @classmethod
    def from_dict(cls, data: dict[str, Any], where: str = "tokenizer") -> SentencePieceTokenizer:
        """Rebuild a tokenizer from :meth:`to_dict` output.

        Raises:
            TokenizerError: ``where: problem`` for a wrong type or a bad model.
        """
        check_type(data, _TYPE, where)
        encoded = data.get("model_proto")
        if not isinstance(encoded, str):
            raise TokenizerError(f"{where}: 'model_proto' must be a base64 string")
        try:
            proto = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            raise TokenizerError(f"{where}: 'model_proto' is not valid base64") from None
        return cls(proto, where=where)

    def save(self, path: str | os.PathLike) -> None:
        """Write the JSON wrapper (model embedded in base64) to ``path`` atomically."""
        with atomic_write(path) as f:
            json.dump(self.to_dict(), f)
            f.write("\n")

    @classmethod
    def load(cls, path: str | os.PathLike) -> SentencePieceTokenizer:
        """Read a file written by :meth:`save`, or a raw SentencePiece ``.model`` file.

        Raises:
            TokenizerError: ``path: problem`` for a missing or malformed file.
        """
        path = Path(path)
        if path.suffix == ".model":
            try:
                return cls(path.read_bytes(), where=str(path))
            except FileNotFoundError:
                raise TokenizerError(f"{path}: no such tokenizer file") from None
            except OSError as e:
                raise TokenizerError(f"{path}: cannot read tokenizer file ({e.__class__.__name__})") from None
        return cls.from_dict(read_json(path), where=str(path))

    def __getstate__(self) -> dict[str, Any]:
        return {"proto": self._proto, "unknown_counts": self.unknown_counts}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self._proto = state["proto"]
        self._sp = _load_processor(self._proto, "sentencepiece model")
        self.unknown_counts = state["unknown_counts"]

    def __repr__(self) -> str:
        return f"SentencePieceTokenizer(vocab_size={self.vocab_size})"


def _load_processor(proto: bytes, where: str) -> spm.SentencePieceProcessor:
    sp = spm.SentencePieceProcessor()
    try:
        sp.load_from_serialized_proto(proto)
    except (RuntimeError, OSError, TypeError) as e:
        raise TokenizerError(f"{where}: not a SentencePiece model ({_message(e)})") from None
    found = (sp.pad_id(), sp.bos_id(), sp.eos_id(), sp.unk_id())
    if found != (PAD_ID, BOS_ID, EOS_ID, UNK_ID):
        raise TokenizerError(
            f"{where}: model has (pad, bos, eos, unk) ids {found}; speech requires (0, 1, 2, 3)"
        )
    return sp


def _check_train_args(vocab_size: int, model_type: str, character_coverage: float, num_threads: int) -> None:
    if model_type not in MODEL_TYPES:
        raise TokenizerError(f"sentencepiece: model_type must be one of {MODEL_TYPES}, got {model_type!r}")
    if vocab_size <= NUM_SPECIALS:
        raise TokenizerError(f"sentencepiece: vocab_size must exceed {NUM_SPECIALS}, got {vocab_size}")
    if not 0.0 < character_coverage <= 1.0:
        raise TokenizerError(f"sentencepiece: character_coverage must be in (0, 1], got {character_coverage}")
    if num_threads < 1:
        raise TokenizerError(f"sentencepiece: num_threads must be >= 1, got {num_threads}")


def _lines(sentences: list[str]) -> Iterator[str]:
    for s in sentences:
        yield from (line for line in s.splitlines() if line.strip())


def _message(error: BaseException) -> str:
    """The last line of a SentencePiece error (the C++ messages span several lines)."""
    text = str(error).strip()
    return text.splitlines()[-1] if text else error.__class__.__name__
