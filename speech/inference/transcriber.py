"""Speech recognition from a checkpoint: ``Transcriber.from_checkpoint(path).transcribe(files)``."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Sequence
from typing import NamedTuple

import torch

from speech.audio import load
from speech.data.dataset import pad_sequences
from speech.decoding import SearchConfig
from speech.errors import SpeechError
from speech.features import GlobalCMVN, LogMel, LogMelConfig
from speech.models.las import LASConfig, ListenAttendSpell
from speech.models.lm import RNNLM, LMConfig
from speech.tasks.checkpoint import load_checkpoint
from speech.text import Tokenizer, tokenizer_from_dict, tokenizer_to_dict

AudioInput = str | os.PathLike | torch.Tensor


class Transcript(NamedTuple):
    """One recognition result: text, token ids and the hypothesis' normalised log-score."""

    text: str
    tokens: list[int]
    score: float


def model_state(state_dict: dict[str, torch.Tensor], prefix: str) -> dict[str, torch.Tensor]:
    """The entries of a Lightning state dict under ``prefix.`` with the prefix removed."""
    return {k[len(prefix) + 1 :]: v for k, v in state_dict.items() if k.startswith(prefix + ".")}


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
        self.features = features.to(self.device)
        self.cmvn = cmvn.to(self.device)
        self.tokenizer = tokenizer
        self.search = search

    @classmethod
    def from_checkpoint(cls, path: str | os.PathLike, device: str | torch.device = "cpu") -> Transcriber:
        """Load a training checkpoint or an exported ``model.ckpt``; needs nothing else."""
        ckpt = load_checkpoint(path, task="asr")
        meta = ckpt["speech"]
        model = ListenAttendSpell(LASConfig(**meta["model"]))
        model.load_state_dict(model_state(ckpt["state_dict"], "model"))
        features = LogMel(LogMelConfig.from_dict(meta["features"]))
        cmvn = GlobalCMVN(features.n_mels)
        cmvn.mean.copy_(torch.tensor(meta["cmvn"]["mean"]))
        cmvn.std.copy_(torch.tensor(meta["cmvn"]["std"]))
        return cls(
            model,
            features,
            cmvn,
            tokenizer_from_dict(meta["tokenizer"]),
            SearchConfig(**meta["search"]),
            _check_device(device),
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
        waveforms = [a if isinstance(a, torch.Tensor) else load(a, self.sample_rate) for a in audio]
        search = (
            self.search
            if beam_size is None
            else dataclasses.replace(self.search, beam_size=beam_size, nbest=1)
        )
        order = sorted(range(len(waveforms)), key=lambda i: -waveforms[i].numel())
        results: list[Transcript | None] = [None] * len(waveforms)
        for start in range(0, len(order), batch_size):
            chunk = order[start : start + batch_size]
            batch, lengths = pad_sequences([waveforms[i].float() for i in chunk])
            feats, frame_lengths = self.features(batch.to(self.device), lengths.to(self.device))
            feats = self.cmvn(feats, frame_lengths)
            hyps = self.model.decode(
                feats, frame_lengths, search, ctc_weight=ctc_weight, lm=lm, lm_weight=lm_weight
            )
            for i, nbest in zip(chunk, hyps, strict=True):
                best = nbest[0]
                results[i] = Transcript(
                    self.tokenizer.decode(best.tokens), best.tokens, best.normalized_score
                )
        return results


def _check_device(device: str | torch.device) -> torch.device:
    device = torch.device(device)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise SpeechError("--device cuda: no CUDA device is available on this machine")
    return device


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
