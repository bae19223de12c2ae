"""Load, embed and train tokenizers without knowing their class."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from speech.data.manifest import read_manifest
from speech.errors import TokenizerError
from speech.text.base import Tokenizer, read_json
from speech.text.char import CharTokenizer
from speech.text.phonemes import Phonemizer
from speech.text.spm import SentencePieceTokenizer

_CLASSES: dict[str, type[CharTokenizer] | type[SentencePieceTokenizer]] = {
    "char": CharTokenizer,
    "sentencepiece": SentencePieceTokenizer,
}
TOKENIZER_KINDS = tuple(_CLASSES)
"""The ``"type"`` values a tokenizer file or dictionary may carry."""
MANIFEST_FIELDS = ("text", "translation")
"""Manifest fields a tokenizer can be trained on."""


def load_tokenizer(path: str | os.PathLike) -> Tokenizer:
    """Load any tokenizer file, dispatching on its JSON ``"type"``.

    A raw SentencePiece ``.model`` file is accepted too.

    Args:
        path: A file written by a tokenizer's ``save``.

    Returns:
        The tokenizer.

    Raises:
        TokenizerError: ``path: problem`` for a missing, unreadable or malformed file, or an
            unknown type.
    """
    if Path(path).suffix == ".model":
        return SentencePieceTokenizer.load(path)
    return tokenizer_from_dict(read_json(path), where=str(path))


def tokenizer_to_dict(tokenizer: Tokenizer) -> dict[str, Any]:
    """A JSON-serialisable description of ``tokenizer`` to embed in a checkpoint.

    A :class:`CharTokenizer` gives its symbol list, a :class:`SentencePieceTokenizer` its model
    proto in base64; both carry a ``"type"`` key that :func:`tokenizer_from_dict` dispatches on.
    """
    return tokenizer.to_dict()


def tokenizer_from_dict(data: Any, where: str = "tokenizer") -> Tokenizer:
    """Rebuild a tokenizer from :func:`tokenizer_to_dict` output.

    Args:
        data: The dictionary.
        where: Prefix for error messages (a file name or a checkpoint key).

    Raises:
        TokenizerError: ``where: problem`` for an unknown type or malformed content.
    """
    kind = data.get("type") if isinstance(data, dict) else None
    if kind not in _CLASSES:
        raise TokenizerError(f"{where}: unknown tokenizer type {kind!r} (expected one of {TOKENIZER_KINDS})")
    return _CLASSES[kind].from_dict(data, where=where)


def train_tokenizer_from_manifest(
    manifest_path: str | os.PathLike,
    kind: str = "char",
    field: str = "text",
    vocab_size: int = 1000,
    normalizer: Callable[[str], str] | None = None,
    output: str | os.PathLike | None = None,
    min_count: int = 1,
    model_type: str = "unigram",
    character_coverage: float = 1.0,
    phonemizer: Phonemizer | None = None,
) -> Tokenizer:
    """Train a tokenizer on one text field of a manifest.

    Args:
        manifest_path: The ``.jsonl`` manifest (usually the training split).
        kind: ``"char"`` or ``"sentencepiece"``.
        field: ``"text"`` (transcripts) or ``"translation"`` (speech-translation targets).
        vocab_size: SentencePiece vocabulary size (ignored for ``"char"``).
        normalizer: Applied to every text before training, e.g. a
            :class:`~speech.text.TextNormalizer`; use the same one when encoding later.
        output: When given, the tokenizer is also saved there.
        min_count: Minimum character count for ``"char"`` (ignored for SentencePiece).
        model_type: SentencePiece model type: ``"unigram"``, ``"bpe"`` or ``"char"``.
        character_coverage: SentencePiece character coverage.
        phonemizer: When given, the (normalised) texts are turned into IPA phonemes, all in one
            espeak-ng call, and the tokenizer is trained on those; a ``"char"`` tokenizer then
            has one id per phoneme symbol. Encode later with the same normaliser + phonemizer.

    Returns:
        The trained tokenizer.

    Raises:
        TokenizerError: A bad ``kind`` or ``field``, an utterance without the field, or a failed
            training.
        SpeechError: espeak-ng failed (with ``phonemizer``).
        ManifestError: The manifest cannot be read.
    """
    if kind not in _CLASSES:
        raise TokenizerError(
            f"{manifest_path}: tokenizer kind must be one of {TOKENIZER_KINDS}, not {kind!r}"
        )
    if field not in MANIFEST_FIELDS:
        raise TokenizerError(f"{manifest_path}: field must be one of {MANIFEST_FIELDS}, got {field!r}")
    texts = []
    for utt in read_manifest(manifest_path):
        text = getattr(utt, field)
        if text is None:
            raise TokenizerError(f"{manifest_path}: utterance '{utt.id}' has no '{field}'")
        texts.append(normalizer(text) if normalizer is not None else text)
    if phonemizer is not None:
        texts = phonemizer.phonemize(texts)
    tokenizer: Tokenizer
    if kind == "char":
        tokenizer = CharTokenizer.build(texts, min_count=min_count)
    else:
        tokenizer = SentencePieceTokenizer.train(
            texts, vocab_size, model_type=model_type, character_coverage=character_coverage
        )
    if output is not None:
        tokenizer.save(output)
    return tokenizer
