"""Pieces every inference class shares: checkpoint parts, devices, length-sorted batched decoding."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Sequence

import torch

from speech.audio import load
from speech.data.dataset import pad_sequences
from speech.decoding import Hypothesis, SearchConfig
from speech.errors import SpeechError
from speech.features import GlobalCMVN, LogMel, LogMelConfig

AudioInput = str | os.PathLike | torch.Tensor


def model_state(state_dict: dict[str, torch.Tensor], prefix: str) -> dict[str, torch.Tensor]:
    """The entries of a Lightning state dict under ``prefix.`` with the prefix removed."""
    return {k[len(prefix) + 1 :]: v for k, v in state_dict.items() if k.startswith(prefix + ".")}


def with_beam(search: SearchConfig, beam_size: int | None) -> SearchConfig:
    """The checkpoint's search settings with another beam size (and one best) when one is given."""
    return search if beam_size is None else dataclasses.replace(search, beam_size=beam_size, nbest=1)


def check_device(device: str | torch.device) -> torch.device:
    """The device, or a one-line error when CUDA is asked for and absent."""
    device = torch.device(device)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise SpeechError("--device cuda: no CUDA device is available on this machine")
    return device


def cmvn_from_meta(meta: dict) -> GlobalCMVN:
    """The global CMVN a checkpoint's ``"speech"`` metadata carries."""
    mean = torch.tensor(meta["cmvn"]["mean"])
    cmvn = GlobalCMVN(mean.numel())
    cmvn.mean.copy_(mean)
    cmvn.std.copy_(torch.tensor(meta["cmvn"]["std"]))
    return cmvn


def front_end_from_meta(meta: dict) -> tuple[LogMel, GlobalCMVN]:
    """Log-mel front end and CMVN of a recognizer's or translator's checkpoint metadata."""
    return LogMel(LogMelConfig.from_dict(meta["features"])), cmvn_from_meta(meta)


class SpeechFrontEnd(torch.nn.Module):
    """Log-mel + global CMVN at inference: the training features without SpecAugment.

    Args:
        features: Log-mel module.
        cmvn: Global CMVN.
    """

    def __init__(self, features: LogMel, cmvn: GlobalCMVN) -> None:
        super().__init__()
        self.features = features
        self.cmvn = cmvn

    @property
    def sample_rate(self) -> int:
        """Sample rate the features expect."""
        return self.features.config.sample_rate

    def forward(self, waveforms: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(B, T) waveforms -> normalised (B, T', F) features and frame lengths (B,)."""
        feats, frame_lengths = self.features(waveforms, lengths)
        return self.cmvn(feats, frame_lengths), frame_lengths


def decode_by_length(
    audio: Sequence[AudioInput],
    front_end: SpeechFrontEnd,
    decode: Callable[[torch.Tensor, torch.Tensor], list[list[Hypothesis]]],
    batch_size: int,
    device: torch.device,
) -> list[Hypothesis]:
    """Best hypothesis per input, in input order; inputs are decoded longest first in batches.

    Raises:
        AudioError: A file cannot be read (see :func:`speech.audio.load`).
    """
    waveforms = [a if isinstance(a, torch.Tensor) else load(a, front_end.sample_rate) for a in audio]
    order = sorted(range(len(waveforms)), key=lambda i: -waveforms[i].numel())
    best: list[Hypothesis | None] = [None] * len(waveforms)
    for start in range(0, len(order), batch_size):
        chunk = order[start : start + batch_size]
        batch, lengths = pad_sequences([waveforms[i].float() for i in chunk])
        feats, frame_lengths = front_end(batch.to(device), lengths.to(device))
        for i, nbest in zip(chunk, decode(feats, frame_lengths), strict=True):
            best[i] = nbest[0]
    return best
