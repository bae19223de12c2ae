"""Speech recognition from a checkpoint: ``Transcriber.from_checkpoint(path).transcribe(files)``."""

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
from speech.models.las import LASConfig, ListenAttendSpell
from speech.models.lm import RNNLM, LMConfig
from speech.tasks.checkpoint import load_checkpoint
from speech.text import Tokenizer, tokenizer_from_dict, tokenizer_to_dict

__all__ = ["AudioInput", "Transcriber", "Transcript", "load_lm", "model_state"]


class Transcript(NamedTuple):
    """One recognition result: text, token ids and the hypothesis' normalised log-score."""

    text: str
    tokens: list[int]
    score: float


class Transcriber:
    """A trained recognizer with its front end and tokenizer.

    Args:
        model: The LAS model.
        features: Log-mel front end.
        cmvn: Global CMVN.
        tokenizer: Transcript tokenizer.
        search: Default search settings.
        device: Where to run.
    """

    def __init__(
        self,
        model: ListenAttendSpell,
        features: LogMel,
        cmvn: GlobalCMVN,
        tokenizer: Tokenizer,
        search: SearchConfig,
        device: str | torch.device = "cpu",
    ) -> None:
        self.device = torch.device(device)
        self.model = model.to(self.device).eval()
        self.front_end = SpeechFrontEnd(features, cmvn).to(self.device)
        self.features, self.cmvn = self.front_end.features, self.front_end.cmvn
        self.tokenizer = tokenizer
        self.search = search

    @classmethod
    def from_checkpoint(cls, path: str | os.PathLike, device: str | torch.device = "cpu") -> Transcriber:
        """Load a training checkpoint or an exported ``model.ckpt``; needs nothing else."""
        ckpt = load_checkpoint(path, task="asr")
        meta = ckpt["speech"]
        model = ListenAttendSpell(LASConfig(**meta["model"]))
        model.load_state_dict(model_state(ckpt["state_dict"], "model"))
        features, cmvn = front_end_from_meta(meta)
        return cls(
            model,
            features,
            cmvn,
            tokenizer_from_dict(meta["tokenizer"]),
            SearchConfig(**meta["search"]),
            check_device(device),
        )

    @property
    def sample_rate(self) -> int:
        """Sample rate the model expects; file inputs are resampled to it."""
        return self.features.config.sample_rate

    @torch.no_grad()
    def transcribe(
        self,
        audio: Sequence[AudioInput],
        beam_size: int | None = None,
        ctc_weight: float | None = None,
        lm=None,
        lm_weight: float = 0.0,
        batch_size: int = 16,
    ) -> list[Transcript]:
        """Transcribe files or waveforms (1-D tensors at :attr:`sample_rate`).

        Inputs are sorted by length and decoded in batches; results come back in input order.

        Raises:
            AudioError: A file cannot be read (see :func:`speech.audio.load`).
        """
        search = with_beam(self.search, beam_size)

        def decode(feats: torch.Tensor, frame_lengths: torch.Tensor):
            return self.model.decode(
                feats, frame_lengths, search, ctc_weight=ctc_weight, lm=lm, lm_weight=lm_weight
            )

        best = decode_by_length(audio, self.front_end, decode, batch_size, self.device)
        return [Transcript(self.tokenizer.decode(h.tokens), h.tokens, h.normalized_score) for h in best]


def load_lm(path: str | os.PathLike, tokenizer: Tokenizer, device: str | torch.device = "cpu") -> RNNLM:
    """Load an LM checkpoint for shallow fusion; its tokenizer must be the recognizer's.

    Raises:
        SpeechError: Not an LM checkpoint, or trained with a different tokenizer.
    """
    ckpt = load_checkpoint(path, task="lm")
    meta = ckpt["speech"]
    if meta["tokenizer"] != tokenizer_to_dict(tokenizer):
        raise SpeechError(
            f"{path}: the language model was trained with a different tokenizer than the recognizer"
        )
    lm = RNNLM(LMConfig(**meta["model"]))
    lm.load_state_dict(model_state(ckpt["state_dict"], "model"))
    return lm.to(device).eval()
