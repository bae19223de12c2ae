"""What every inference class shares: devices, checked settings, front ends and input checks."""

from __future__ import annotations

import dataclasses
import math
import os
from collections.abc import Callable

import torch

from speech.decoding import SearchConfig
from speech.errors import AudioError, SpeechError
from speech.features import LogMel, LogMelConfig
from speech.inference.metadata import CheckpointMeta
from speech.models.listener import ListenerConfig

AudioInput = str | os.PathLike | torch.Tensor
Progress = Callable[[int], None]
"""Called with the number of inputs finished, after each batch."""


def with_beam(search: SearchConfig, beam_size: int | None) -> SearchConfig:
    """The checkpoint's search settings with another beam size (and one best) when one is given."""
    if beam_size is None:
        return search
    if isinstance(beam_size, bool) or not isinstance(beam_size, int) or beam_size < 1:
        raise SpeechError(f"beam_size must be an integer of at least 1, got {beam_size!r}")
    return dataclasses.replace(search, beam_size=beam_size, nbest=1)


def check_device(device: str | torch.device) -> torch.device:
    """The device to run on: ``auto`` (CUDA when there is one, else CPU), ``cpu``, ``cuda`` or ``cuda:N``.

    Raises:
        SpeechError: An unknown device, or CUDA asked for and absent (or fewer devices than N + 1).
    """
    if isinstance(device, str):
        name = device.strip().lower()
        if name == "auto":
            return torch.device("cuda" if torch.cuda.is_available() else "cpu")
        try:
            device = torch.device(name)
        except (RuntimeError, ValueError):
            raise SpeechError(f"unknown device {name!r} (expected auto, cpu, cuda or cuda:N)") from None
    if not isinstance(device, torch.device) or device.type not in ("cpu", "cuda"):
        raise SpeechError(f"unsupported device {device!r} (expected auto, cpu, cuda or cuda:N)")
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise SpeechError(f"device {str(device)!r}: no CUDA device is available on this machine")
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise SpeechError(
                f"device {str(device)!r}: this machine has {torch.cuda.device_count()} CUDA device(s)"
            )
    return device


def check_number(
    name: str, value: float, low: float = -math.inf, high: float = math.inf, below_high: bool = False
) -> float:
    """``value`` as a float: finite, in ``[low, high]`` (``[low, high)`` with ``below_high``).

    Raises:
        SpeechError: ``name must be ...`` for NaN, infinities, non-numbers and values out of range.
    """
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise SpeechError(f"{name} must be a finite number, got {value!r}")
    if value < low or value > high or (below_high and value == high):
        interval = f"[{low:g}, {high:g}{')' if below_high else ']'}" if math.isfinite(high) else f">= {low:g}"
        raise SpeechError(f"{name} must be {'in ' if math.isfinite(high) else ''}{interval}, got {value!r}")
    return float(value)


def check_positive_int(name: str, value: int) -> int:
    """``value``, which must be an integer of at least 1."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise SpeechError(f"{name} must be an integer of at least 1, got {value!r}")
    return value


class SpeechFrontEnd(torch.nn.Module):
    """Log-mel + global CMVN at inference: the training features without SpecAugment.

    Args:
        features: Log-mel module.
        cmvn: Global CMVN.
    """

    def __init__(self, features: LogMel, cmvn: torch.nn.Module) -> None:
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


def front_end_from_meta(meta: CheckpointMeta) -> SpeechFrontEnd:
    """Log-mel front end and CMVN of a recognizer's or translator's checkpoint metadata."""
    features = meta.info.features
    return SpeechFrontEnd(LogMel(features), meta.cmvn(features.n_mels))


def min_samples(features: LogMelConfig, listener: ListenerConfig) -> int:
    """Fewest samples an input needs so that the listener leaves at least one memory frame.

    ``n`` samples give ``1 + n // hop_length`` frames, and each of the ``n_pyramid`` pyramid
    layers halves them (dropping an odd last frame), so ``2 ** n_pyramid`` frames are needed.
    The optional conv front end keeps the frame count.
    """
    return max(1, (listener.reduction - 1) * features.hop_length)


def _ms(samples: int, sample_rate: int, up: bool = False) -> str:
    ms = 1000 * samples / sample_rate
    return f"{math.ceil(ms) if up else round(ms, 1):g}"


def check_waveform(waveform: torch.Tensor, name: str, needed: int, sample_rate: int) -> torch.Tensor:
    """A 1-D float waveform of finite samples, long enough for the model.

    Raises:
        AudioError: ``name: too short for this model (10 ms; needs at least 30 ms)``, or a
            tensor of another shape, or NaN/infinite samples.
    """
    if not isinstance(waveform, torch.Tensor) or waveform.dim() != 1:
        shape = tuple(waveform.shape) if isinstance(waveform, torch.Tensor) else type(waveform).__name__
        raise AudioError(f"{name}: expected a 1-D waveform, got {shape}")
    waveform = waveform.float()
    if waveform.numel() < needed:
        raise AudioError(
            f"{name}: too short for this model ({_ms(waveform.numel(), sample_rate)} ms; "
            f"needs at least {_ms(needed, sample_rate, up=True)} ms)"
        )
    if not bool(torch.isfinite(waveform).all()):
        raise AudioError(f"{name}: holds NaN or infinite samples")
    return waveform
