"""Speech translation from a checkpoint: ``Translator.from_checkpoint(path).translate(files)``."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import NamedTuple

import torch

from speech.decoding import SearchConfig
from speech.errors import SpeechError
from speech.features import GlobalCMVN, LogMel
from speech.inference.common import (
    AudioInput,
    Progress,
    SpeechFrontEnd,
    SpeechToText,
    check_device,
    front_end_from_meta,
    with_beam,
)
from speech.inference.metadata import CheckpointMeta
from speech.models.translator import SpeechTranslator, TranslatorConfig
from speech.text import Tokenizer


class Translation(NamedTuple):
    """One translation: target-language text, token ids and the hypothesis' normalised log-score."""

    text: str
    tokens: list[int]
    score: float


class Translator(SpeechToText):
    """A trained speech translator with its front end and target tokenizer.

    Args:
        model: The translation model.
        features: Log-mel front end.
        cmvn: Global CMVN.
        tokenizer: Target-language tokenizer.
        search: Default search settings.
        device: Where to run: ``auto``, ``cpu``, ``cuda`` or ``cuda:N``.
        target_lang: Target language code, when known.
    """

    def __init__(
        self,
        model: SpeechTranslator,
        features: LogMel,
        cmvn: GlobalCMVN,
        tokenizer: Tokenizer,
        search: SearchConfig,
        device: str | torch.device = "cpu",
        target_lang: str | None = None,
    ) -> None:
        self.device = check_device(device)
        self.model = model.to(self.device).eval()
        self.front_end = SpeechFrontEnd(features, cmvn).to(self.device)
        self.features, self.cmvn = self.front_end.features, self.front_end.cmvn
        self.tokenizer = tokenizer
        self.search = search
        self.target_lang = target_lang

    @classmethod
    def from_checkpoint(cls, path: str | os.PathLike, device: str | torch.device = "cpu") -> Translator:
        """Load a training checkpoint or an exported ``model.ckpt``; needs nothing else.

        Raises:
            SpeechError: One line naming the file: missing, unreadable, another task, a bad or
                missing setting, weights that do not fit the model, or a bad device.
        """
        device = check_device(device)
        meta = CheckpointMeta(path, "st")
        config = meta.config(TranslatorConfig, "model")
        front_end = front_end_from_meta(meta)
        tokenizer = meta.tokenizer("target_tokenizer")
        meta.check_match(
            "model.vocab_size", config.vocab_size, "the target tokenizer's", tokenizer.vocab_size
        )
        n_mels = front_end.features.config.n_mels
        meta.check_match("model.listener.input_dim", config.listener.input_dim, "features.n_mels", n_mels)
        model = meta.load_weights(meta.build(SpeechTranslator, config))
        search = meta.config(SearchConfig, "search")
        target_lang = meta.get("target_lang")
        if target_lang is not None and not isinstance(target_lang, str):
            raise SpeechError(f"{path}: metadata 'target_lang' must be a language code")
        return cls(model, front_end.features, front_end.cmvn, tokenizer, search, device, target_lang)

    @torch.no_grad()
    def translate(
        self,
        audio: Sequence[AudioInput],
        beam_size: int | None = None,
        batch_size: int = 16,
        progress: Progress | None = None,
    ) -> list[Translation]:
        """Translate files or waveforms (1-D tensors at :attr:`sample_rate`).

        Every input is read and checked before any is decoded; they are then sorted by length
        and decoded in batches, and results come back in input order.

        Args:
            audio: Paths or waveforms.
            beam_size: Beam size (1 = greedy); None keeps the checkpoint's.
            batch_size: Utterances decoded together.
            progress: Called with the number of inputs finished after each batch.

        Raises:
            AudioError: An input cannot be read, or is too short for this model
                (``x.wav: too short for this model (10 ms; needs at least 30 ms)``); see
                :attr:`min_samples`.
            SpeechError: A setting out of range.
        """
        search = with_beam(self.search, beam_size)

        def decode(feats: torch.Tensor, frame_lengths: torch.Tensor):
            return self.model.decode(feats, frame_lengths, search)

        best = self._decode(audio, decode, batch_size, progress)
        return [Translation(self.tokenizer.decode(h.tokens), h.tokens, h.normalized_score) for h in best]
