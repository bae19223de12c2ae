"""Global cepstral mean and variance normalisation: statistics over a training set, applied per bin."""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from speech.audio import load
from speech.data.manifest import Utterance, read_manifest
from speech.errors import ConfigError
from speech.features._masks import check_batch, valid_mask
from speech.features.logmel import LogMel
from speech.io import atomic_write

_MIN_STD = 1e-5


@dataclass
class CMVNStats:
    """Per-bin statistics of log-mel features.

    Attributes:
        mean: Mean per feature bin (F,), float32.
        std: Standard deviation per bin (F,), float32, floored at 1e-5.
        count: Number of frames the statistics were computed over.
    """

    mean: torch.Tensor
    std: torch.Tensor
    count: int

    def save(self, path: str | os.PathLike) -> None:
        """Write the statistics as JSON, atomically (a temporary file renamed onto ``path``)."""
        record = {"mean": self.mean.tolist(), "std": self.std.tolist(), "count": int(self.count)}
        with atomic_write(path) as f:
            json.dump(record, f)
            f.write("\n")

    @classmethod
    def load(cls, path: str | os.PathLike) -> CMVNStats:
        """Read statistics written by :meth:`save`.

        Raises:
            ConfigError: ``path: problem`` when the file is missing, not JSON, or holds
                mismatched, non-finite or non-positive values.
        """
        try:
            record = json.loads(Path(path).read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(f"{path}: no such CMVN statistics file") from None
        except (OSError, ValueError, RecursionError) as e:  # ValueError: not UTF-8, not JSON, huge ints
            raise ConfigError(f"{path}: not a CMVN statistics file ({e.__class__.__name__})") from None
        return cls._from_record(record, str(path))

    @classmethod
    def _from_record(cls, record: object, where: str) -> CMVNStats:
        if not isinstance(record, dict) or not {"mean", "std", "count"} <= set(record):
            raise ConfigError(f"{where}: CMVN statistics need the keys 'mean', 'std' and 'count'")
        mean, std, count = record["mean"], record["std"], record["count"]
        if not _is_number_list(mean) or not _is_number_list(std) or len(mean) != len(std) or not mean:
            raise ConfigError(f"{where}: 'mean' and 'std' must be non-empty number lists of equal length")
        if not all(math.isfinite(v) for v in mean) or not all(math.isfinite(v) and v > 0 for v in std):
            raise ConfigError(f"{where}: CMVN statistics must be finite with positive 'std'")
        if not isinstance(count, int) or isinstance(count, bool) or count <= 0:
            raise ConfigError(f"{where}: 'count' must be a positive integer, got {count!r}")
        return cls(torch.tensor(mean, dtype=torch.float32), torch.tensor(std, dtype=torch.float32), count)


def _is_number_list(value: object) -> bool:
    return isinstance(value, list) and all(
        isinstance(v, int | float) and not isinstance(v, bool) for v in value
    )


@torch.no_grad()
def compute_cmvn_stats(
    utterances: Iterable[Utterance] | str | os.PathLike,
    logmel: LogMel,
    max_utterances: int | None = None,
) -> CMVNStats:
    """Stream over a manifest's audio and accumulate per-bin sum and sum of squares in float64.

    Args:
        utterances: Utterances, or the path of a manifest to read.
        logmel: Front end; audio is loaded at ``logmel.config.sample_rate`` and featurised on
            the module's device.
        max_utterances: Use at most this many utterances (the first ones); ``None`` uses all.

    Returns:
        Mean and standard deviation per mel bin over all frames, and the frame count.

    Raises:
        ConfigError: No utterance was given.
        AudioError: An audio file cannot be read.
    """
    if isinstance(utterances, str | os.PathLike):
        utterances = read_manifest(utterances)
    device = logmel.mel_fbank.device
    total = torch.zeros(logmel.config.n_mels, dtype=torch.float64, device=device)
    total_sq = torch.zeros_like(total)
    count = 0
    for index, utt in enumerate(utterances):
        if max_utterances is not None and index >= max_utterances:
            break
        waveform = load(utt.audio, sample_rate=logmel.config.sample_rate).to(device)
        features = logmel(waveform[None]).features[0].double()  # (T, F)
        total += features.sum(dim=0)
        total_sq += features.square().sum(dim=0)
        count += features.shape[0]
    if count == 0:
        raise ConfigError("compute_cmvn_stats: no utterances to compute statistics over")
    mean = total / count
    var = (total_sq / count - mean.square()).clamp(min=0.0)
    std = var.sqrt().clamp(min=_MIN_STD)
    return CMVNStats(mean.float().cpu(), std.float().cpu(), count)


class GlobalCMVN(nn.Module):
    """Normalise features per bin with global statistics: ``(x - mean) / std``; padding stays 0.

    Build it with :meth:`from_stats`, or with ``n_features`` (identity) before loading a state
    dict. ``mean`` and ``std`` are persistent buffers, so checkpoints carry them.

    Args:
        n_features: Feature size F.
    """

    mean: torch.Tensor
    std: torch.Tensor

    def __init__(self, n_features: int) -> None:
        super().__init__()
        self.register_buffer("mean", torch.zeros(n_features))
        self.register_buffer("std", torch.ones(n_features))

    @classmethod
    def from_stats(cls, stats: CMVNStats) -> GlobalCMVN:
        """Module holding ``stats.mean`` and ``stats.std``."""
        module = cls(stats.mean.numel())
        module.mean.copy_(stats.mean)
        module.std.copy_(stats.std.clamp(min=_MIN_STD))
        return module

    def forward(self, features: torch.Tensor, frame_lengths: torch.Tensor | None = None) -> torch.Tensor:
        """Normalise a padded batch.

        Args:
            features: (B, T, F) features.
            frame_lengths: (B,) valid frames per item; frames beyond are set to 0. ``None``
                means all frames are valid.

        Returns:
            Normalised features (B, T, F), same dtype as ``features``.
        """
        check_batch(features, 3, "features")
        normalized = (features - self.mean) / self.std  # (B, T, F) - (F,) broadcast
        if frame_lengths is None:
            return normalized.to(features.dtype)
        mask = valid_mask(frame_lengths.to(features.device), features.shape[1])  # (B, T), True = valid
        return normalized.masked_fill_(~mask[..., None], 0.0).to(features.dtype)

    def extra_repr(self) -> str:
        """Summary shown by ``repr(module)``."""
        return f"n_features={self.mean.numel()}"
