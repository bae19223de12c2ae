"""Typed, versioned checkpoint metadata: one dataclass per model family.

Every checkpoint carries what inference needs under its ``"speech"`` entry. It is written from
one of the dataclasses below and read back through the same strict loader as YAML configs
(:func:`speech.config.from_dict`), so an unknown key, a wrong type or a missing entry is one
line naming the file and the key. Checkpoints of format version 1 (before ASR and ST became one
speech-to-text family) are migrated on load by :func:`migrate`. This module imports neither
Lightning nor any task.

========  ===============  ===============================================================
family    task tags        dataclass
========  ===============  ===============================================================
s2t       ``asr``, ``st``  :class:`S2TMeta` (listener-speller model, front end, tokenizers)
tts       ``tts``          :class:`TTSMeta` (Tacotron2, text front end, speakers)
lm        ``lm``           :class:`LMMeta` (RNN language model and its tokenizer)
vocoder   ``vocoder``      :class:`VocoderMeta` (the generator and the mel front end it inverts)
========  ===============  ===============================================================
"""

from __future__ import annotations

import copy
import dataclasses
import os
from dataclasses import dataclass, field
from typing import Any

from speech.checkpoint import FORMAT_VERSION
from speech.config import check_choice, from_dict
from speech.decoding import SearchConfig
from speech.errors import ConfigError, SpeechError
from speech.features.config import LogMelConfig
from speech.models.lm import LMConfig
from speech.models.s2t import S2TConfig
from speech.models.tacotron2 import InferenceConfig, Tacotron2Config
from speech.models.vocoder import VocosConfig
from speech.text.frontend import TextFrontEndConfig

S2T_TASKS = ("asr", "st")


@dataclass
class S2TMeta:
    """Metadata of a speech-to-text checkpoint (recognizer or translator).

    Attributes:
        task: ``"asr"`` (the target is the transcript) or ``"st"`` (the target is a translation).
        model: The model config, sized for ``tokenizer``.
        features: The log-mel front end.
        search: Default search settings.
        tokenizer: The output (target) tokenizer, as :func:`speech.text.tokenizer_to_dict` writes it.
        cmvn: Global CMVN statistics: ``{"mean": [...], "std": [...]}``.
        source_tokenizer: The tokenizer of the CTC head's source transcripts
            (``model.ctc_tokens == "source"``), or None.
        target_lang: Language code of the output, when known.
        format_version: Version of this layout.
    """

    task: str
    model: S2TConfig
    features: LogMelConfig
    search: SearchConfig
    tokenizer: dict
    cmvn: dict
    source_tokenizer: dict | None = None
    target_lang: str | None = None
    format_version: int = FORMAT_VERSION

    def __post_init__(self) -> None:
        check_choice(self, "task", S2T_TASKS)


@dataclass
class TTSMeta:
    """Metadata of a Tacotron2 checkpoint.

    Attributes:
        task: Always ``"tts"``.
        model: The model config.
        features: The mel front end (its inverse makes the waveform).
        text: The text front end (normaliser, phonemes).
        inference: Default synthesis settings.
        tokenizer: The input tokenizer.
        cmvn: Global CMVN statistics of the mel targets.
        speakers: Speaker names of a multi-speaker model (empty for one voice).
        word_vocabulary: The training texts' words (for unseen-word warnings), or None.
        format_version: Version of this layout.
    """

    task: str
    model: Tacotron2Config
    features: LogMelConfig
    text: TextFrontEndConfig
    inference: InferenceConfig
    tokenizer: dict
    cmvn: dict
    speakers: list[str] = field(default_factory=list)
    word_vocabulary: list[str] | None = None
    format_version: int = FORMAT_VERSION

    def __post_init__(self) -> None:
        check_choice(self, "task", ("tts",))


@dataclass
class LMMeta:
    """Metadata of an RNN language model checkpoint.

    Attributes:
        task: Always ``"lm"``.
        model: The model config.
        tokenizer: Its tokenizer (a recognizer must share it for shallow fusion).
        format_version: Version of this layout.
    """

    task: str
    model: LMConfig
    tokenizer: dict
    format_version: int = FORMAT_VERSION

    def __post_init__(self) -> None:
        check_choice(self, "task", ("lm",))


@dataclass
class VocoderMeta:
    """Metadata of a neural vocoder checkpoint.

    Attributes:
        task: Always ``"vocoder"``.
        model: The generator config.
        features: The log-mel front end whose features it inverts (a TTS model must share it).
        format_version: Version of this layout.
    """

    task: str
    model: VocosConfig
    features: LogMelConfig
    format_version: int = FORMAT_VERSION

    def __post_init__(self) -> None:
        check_choice(self, "task", ("vocoder",))


Meta = S2TMeta | TTSMeta | LMMeta | VocoderMeta
FAMILIES: dict[str, type] = {
    "asr": S2TMeta,
    "st": S2TMeta,
    "tts": TTSMeta,
    "lm": LMMeta,
    "vocoder": VocoderMeta,
}
"""The metadata dataclass of each task tag."""


def to_dict(meta: Meta) -> dict[str, Any]:
    """Plain data for a checkpoint's ``"speech"`` entry (loadable weights-only)."""
    return dataclasses.asdict(meta)


def migrate(raw: dict[str, Any]) -> dict[str, Any]:
    """A copy of version-1 metadata in the current layout; current metadata is returned as it is.

    Version 1 wrote the recognizer's and the translator's metadata with their own keys: the
    translator's output tokenizer was ``target_tokenizer`` and its model config had no
    ``ctc_tokens`` (its CTC head always read the source transcript).
    """
    if raw.get("format_version", 0) >= FORMAT_VERSION:
        return raw
    raw = copy.deepcopy(raw)
    raw["format_version"] = FORMAT_VERSION
    task = raw.get("task")
    if task in S2T_TASKS and isinstance(raw.get("model"), dict):
        raw["model"].setdefault("ctc_tokens", "target" if task == "asr" else "source")
    if task == "st" and "target_tokenizer" in raw:
        raw["tokenizer"] = raw.pop("target_tokenizer")
    return raw


def read_metadata(raw: dict[str, Any], path: str | os.PathLike) -> Meta:
    """The typed metadata of a checkpoint's ``"speech"`` entry (migrated first).

    Raises:
        SpeechError: ``x.ckpt: the metadata has no 'model' entry (an incomplete checkpoint)``, an
            unknown task, or any key the strict loader refuses (``x.ckpt: metadata: unknown key 'a'``).
    """
    raw = migrate(raw)
    cls = FAMILIES.get(raw.get("task"))
    if cls is None:
        raise SpeechError(f"{path}: unknown task {raw.get('task')!r} in the metadata")
    required = [
        f.name for f in dataclasses.fields(cls) if f.default is f.default_factory is dataclasses.MISSING
    ]
    missing = [name for name in required if name not in raw]
    if missing:
        raise SpeechError(f"{path}: the metadata has no {missing[0]!r} entry (an incomplete checkpoint)")
    try:
        return from_dict(cls, raw, where=f"{path}: metadata")
    except ConfigError as e:
        raise SpeechError(str(e)) from None
