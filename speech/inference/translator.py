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
    SpeechFrontEnd,
    check_device,
    decode_by_length,
    front_end_from_meta,
    model_state,
    with_beam,
)
from speech.models.translator import SpeechTranslator, TranslatorConfig
from speech.tasks.checkpoint import load_checkpoint
from speech.text import Tokenizer, tokenizer_from_dict


class Translation(NamedTuple):
    """One translation: target-language text, token ids and the hypothesis' normalised log-score."""

    text: str
    tokens: list[int]
    score: float


class Translator:
    """A trained speech translator with its front end and target tokenizer.

    Args:
        model: The translation model.
        features: Log-mel front end.
        cmvn: Global CMVN.
        tokenizer: Target-language tokenizer.
        search: Default search settings.
        device: Where to run.
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
        self.device = torch.device(device)
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
            SpeechError: Missing or unreadable file, or a checkpoint of another task.
        """
        ckpt = load_checkpoint(path)
        meta = ckpt["speech"]
        if meta.get("task") != "st":
            raise SpeechError(f"{path}: a {meta.get('task')} checkpoint, not a speech translation model")
        model = SpeechTranslator(TranslatorConfig(**meta["model"]))
        model.load_state_dict(model_state(ckpt["state_dict"], "model"))
        features, cmvn = front_end_from_meta(meta)
        return cls(
            model,
            features,
            cmvn,
            tokenizer_from_dict(meta["target_tokenizer"], where=f"{path}: target_tokenizer"),
            SearchConfig(**meta["search"]),
            check_device(device),
            meta.get("target_lang"),
        )

    @property
    def sample_rate(self) -> int:
        """Sample rate the model expects; file inputs are resampled to it."""
        return self.features.config.sample_rate

    @torch.no_grad()
    def translate(
        self, audio: Sequence[AudioInput], beam_size: int | None = None, batch_size: int = 16
    ) -> list[Translation]:
        """Translate files or waveforms (1-D tensors at :attr:`sample_rate`).

        Inputs are sorted by length and decoded in batches; results come back in input order.

        Args:
            audio: Paths or waveforms.
            beam_size: Beam size (1 = greedy); None keeps the checkpoint's.
            batch_size: Utterances decoded together.

        Raises:
            AudioError: A file cannot be read (see :func:`speech.audio.load`).
        """
        search = with_beam(self.search, beam_size)

        def decode(feats: torch.Tensor, frame_lengths: torch.Tensor):
            return self.model.decode(feats, frame_lengths, search)

        best = decode_by_length(audio, self.front_end, decode, batch_size, self.device)
        return [Translation(self.tokenizer.decode(h.tokens), h.tokens, h.normalized_score) for h in best]
