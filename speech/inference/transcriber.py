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
    Progress,
    SpeechFrontEnd,
    SpeechToText,
    check_device,
    check_number,
    front_end_from_meta,
    model_state,
    with_beam,
)
from speech.inference.metadata import CheckpointMeta
from speech.models.las import LASConfig, ListenAttendSpell
from speech.models.lm import RNNLM, LMConfig
from speech.text import Tokenizer, tokenizer_to_dict

__all__ = ["AudioInput", "Transcriber", "Transcript", "load_lm", "model_state"]


class Transcript(NamedTuple):
    """One recognition result: text, token ids and the hypothesis' normalised log-score."""

    text: str
    tokens: list[int]
    score: float


class Transcriber(SpeechToText):
    """A trained recognizer with its front end and tokenizer.

    Args:
        model: The LAS model.
        features: Log-mel front end.
        cmvn: Global CMVN.
        tokenizer: Transcript tokenizer.
        search: Default search settings.
        device: Where to run: ``auto``, ``cpu``, ``cuda`` or ``cuda:N``.
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
        self.device = check_device(device)
        self.model = model.to(self.device).eval()
        self.front_end = SpeechFrontEnd(features, cmvn).to(self.device)
        self.features, self.cmvn = self.front_end.features, self.front_end.cmvn
        self.tokenizer = tokenizer
        self.search = search

    @classmethod
    def from_checkpoint(cls, path: str | os.PathLike, device: str | torch.device = "cpu") -> Transcriber:
        """Load a training checkpoint or an exported ``model.ckpt``; needs nothing else.

        Raises:
            SpeechError: One line naming the file: missing, unreadable, another task, a bad or
                missing setting, weights that do not fit the model, or a bad device.
        """
        device = check_device(device)
        meta = CheckpointMeta(path, "asr")
        config = meta.config(LASConfig, "model")
        front_end = front_end_from_meta(meta)
        tokenizer = meta.tokenizer()
        meta.check_match("model.vocab_size", config.vocab_size, "the tokenizer's", tokenizer.vocab_size)
        n_mels = front_end.features.config.n_mels
        meta.check_match("model.listener.input_dim", config.listener.input_dim, "features.n_mels", n_mels)
        model = meta.load_weights(meta.build(ListenAttendSpell, config))
        search = meta.config(SearchConfig, "search")
        return cls(model, front_end.features, front_end.cmvn, tokenizer, search, device)

    @torch.no_grad()
    def transcribe(
        self,
        audio: Sequence[AudioInput],
        beam_size: int | None = None,
        ctc_weight: float | None = None,
        lm=None,
        lm_weight: float = 0.0,
        batch_size: int = 16,
        progress: Progress | None = None,
    ) -> list[Transcript]:
        """Transcribe files or waveforms (1-D tensors at :attr:`sample_rate`).

        Every input is read and checked before any is decoded; they are then sorted by length
        and decoded in batches, and results come back in input order.

        Args:
            audio: Paths or waveforms.
            beam_size: Beam size (1 = greedy); None keeps the checkpoint's.
            ctc_weight: Weight of the CTC prefix score in [0, 1); None keeps the training weight.
            lm: Optional language model (see :func:`load_lm`) for shallow fusion.
            lm_weight: Its weight (finite, at least 0).
            batch_size: Utterances decoded together.
            progress: Called with the number of inputs finished after each batch.

        Raises:
            AudioError: An input cannot be read, or is too short for this model
                (``x.wav: too short for this model (10 ms; needs at least 30 ms)``); see
                :attr:`min_samples`.
            SpeechError: A setting out of range (NaN included).
        """
        search = with_beam(self.search, beam_size)
        if ctc_weight is not None:
            check_number("ctc_weight", ctc_weight, 0.0, 1.0, below_high=True)
        check_number("lm_weight", lm_weight, 0.0)

        def decode(feats: torch.Tensor, frame_lengths: torch.Tensor):
            return self.model.decode(
                feats, frame_lengths, search, ctc_weight=ctc_weight, lm=lm, lm_weight=lm_weight
            )

        best = self._decode(audio, decode, batch_size, progress)
        return [Transcript(self.tokenizer.decode(h.tokens), h.tokens, h.normalized_score) for h in best]


def load_lm(path: str | os.PathLike, tokenizer: Tokenizer, device: str | torch.device = "cpu") -> RNNLM:
    """Load an LM checkpoint for shallow fusion; its tokenizer must be the recognizer's.

    Raises:
        SpeechError: Not an LM checkpoint, trained with a different tokenizer, a bad or
            missing setting, or weights that do not fit the model.
    """
    device = check_device(device)
    meta = CheckpointMeta(path, "lm")
    if meta["tokenizer"] != tokenizer_to_dict(tokenizer):
        raise SpeechError(
            f"{path}: the language model was trained with a different tokenizer than the recognizer"
        )
    config = meta.config(LMConfig, "model")
    meta.check_match("model.vocab_size", config.vocab_size, "the tokenizer's", tokenizer.vocab_size)
    lm = meta.load_weights(meta.build(RNNLM, config))
    return lm.to(device).eval()
