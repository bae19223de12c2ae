"""SpecAugment: frequency and time masking (and optional time warping) of log-mel features."""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from speech.config import check_finite, check_non_negative, check_probability
from speech.features._masks import check_batch, check_lengths, full_lengths


@dataclass(frozen=True)
class SpecAugmentConfig:
    """Masking policy; the defaults are the LibriSpeech "LD" policy of Park et al. (2019) without warping.

    Raises:
        speech.config.FieldError: From ``__post_init__`` (a ConfigError naming the field) for negative
            counts or widths, a ratio outside [0, 1], or a non-finite mask value.
    """

    n_freq_masks: int = 2
    """Frequency masks per item (m_F)."""
    max_freq_width: int = 27
    """Largest frequency-mask width in bins (F); each width is drawn uniformly from [0, F]."""
    n_time_masks: int = 2
    """Time masks per item (m_T)."""
    max_time_width: int = 100
    """Largest time-mask width in frames (T)."""
    max_time_ratio: float = 0.2
    """Upper bound on a time mask's width as a fraction of the item's valid length (p)."""
    time_warp: int = 0
    """Largest time-warp shift in frames (W); 0 disables warping."""
    mask_value: float = 0.0
    """Value written into masked cells (0 is the mean after CMVN)."""

    def __post_init__(self) -> None:
        check_non_negative(self, "n_freq_masks", "max_freq_width", "n_time_masks", "max_time_width")
        check_non_negative(self, "time_warp")
        check_probability(self, "max_time_ratio")
        check_finite(self, "mask_value")


def spec_augment(
    features: torch.Tensor,
    config: SpecAugmentConfig,
    frame_lengths: torch.Tensor | None = None,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Apply time warping, frequency masks and time masks, each drawn independently per item.

    Time masks and warping stay inside each item's valid frames; padded frames are untouched.

    Args:
        features: (B, T, F) features.
        config: Masking policy.
        frame_lengths: (B,) valid frames per item; ``None`` means all T frames.
        generator: Random source for reproducible masks (on any device; draws are moved).

    Returns:
        Augmented copy of ``features`` (B, T, F); the input is not modified.
    """
    check_batch(features, 3, "features")
    B, T, n_bins = features.shape
    device = features.device
    if frame_lengths is None:
        frame_lengths = full_lengths(B, T, device)
    frame_lengths = check_lengths(frame_lengths, B, T, "frame_lengths").to(device)
    if config.time_warp > 0:
        features = _time_warp(features, frame_lengths, config.time_warp, generator)
    freq_caps = torch.full_like(frame_lengths, min(config.max_freq_width, n_bins))
    freq_masked = _random_spans(
        config.n_freq_masks, freq_caps, torch.full_like(frame_lengths, n_bins), n_bins, generator
    )  # (B, F), True = masked
    ratio_caps = (frame_lengths.double() * config.max_time_ratio).floor().long()
    time_caps = ratio_caps.clamp(max=config.max_time_width)
    time_masked = _random_spans(config.n_time_masks, time_caps, frame_lengths, T, generator)  # (B, T)
    masked = freq_masked[:, None, :] | time_masked[:, :, None]  # (B, T, F)
    return features.masked_fill(masked, config.mask_value)


class SpecAugment(nn.Module):
    """SpecAugment (Park et al., 2019, "SpecAugment: A Simple Data Augmentation Method for ASR").

    Active only in training mode; in eval mode ``forward`` returns its input unchanged.

    Args:
        config: Masking policy; defaults to :class:`SpecAugmentConfig`'s defaults.
    """

    def __init__(self, config: SpecAugmentConfig | None = None) -> None:
        super().__init__()
        self.config = config if config is not None else SpecAugmentConfig()

    def forward(
        self,
        features: torch.Tensor,
        frame_lengths: torch.Tensor | None = None,
        generator: torch.Generator | None = None,
    ) -> torch.Tensor:
        """Augment a padded batch (B, T, F) in training mode; identity in eval mode.

        Args:
            features: (B, T, F) features.
            frame_lengths: (B,) valid frames per item; ``None`` means all frames.
            generator: Optional random source for reproducible masks.

        Returns:
            (B, T, F) augmented features (a new tensor), or ``features`` itself in eval mode.
        """
        if not self.training:
            return features
        return spec_augment(features, self.config, frame_lengths, generator)

    def extra_repr(self) -> str:
        """Summary shown by ``repr(module)``."""
        return repr(self.config)


def _uniform(shape: tuple[int, ...], generator: torch.Generator | None, device: torch.device) -> torch.Tensor:
    """Uniform [0, 1) draws in float64 from ``generator`` (on its own device), moved to ``device``."""
    source = generator.device if generator is not None else device
    return torch.rand(shape, generator=generator, device=source, dtype=torch.float64).to(device)


def _random_spans(
    n_spans: int, max_widths: torch.Tensor, limits: torch.Tensor, size: int, generator: torch.Generator | None
) -> torch.Tensor:
    """Union of ``n_spans`` random spans per item, each inside ``[0, limit)``.

    Args:
        n_spans: Spans per item.
        max_widths: (B,) largest width per item (at most ``limits``); widths are uniform in [0, max].
        limits: (B,) valid extent per item.
        size: Padded extent of the axis.
        generator: Random source.

    Returns:
        (B, size) bool, True inside some span.
    """
    B = limits.shape[0]
    if n_spans == 0 or B == 0:
        return torch.zeros(B, size, dtype=torch.bool, device=limits.device)
    draws = _uniform((B, n_spans, 2), generator, limits.device)
    widths = (draws[..., 0] * (max_widths[:, None] + 1)).long()  # (B, n) in [0, max_width]
    starts = (draws[..., 1] * (limits[:, None] - widths + 1)).long()  # (B, n) in [0, limit - width]
    positions = torch.arange(size, device=limits.device)
    inside = (positions >= starts[..., None]) & (positions < (starts + widths)[..., None])  # (B, n, size)
    return inside.any(dim=1)


def _time_warp(
    features: torch.Tensor, frame_lengths: torch.Tensor, max_shift: int, generator: torch.Generator | None
) -> torch.Tensor:
    """Move a random point of each item's valid frames by up to ``max_shift`` frames (linear resampling)."""
    out = features.clone()
    for b, n in enumerate(frame_lengths.tolist()):
        if n <= 2 * max_shift + 2:
            continue
        center_draw, shift_draw = _uniform((2,), generator, torch.device("cpu")).tolist()
        center = max_shift + 1 + int(center_draw * (n - 2 * max_shift - 2))  # in [W + 1, n - W - 2]
        shift = int(shift_draw * (2 * max_shift + 1)) - max_shift  # in [-W, W]
        item = features[b, :n].transpose(0, 1)[None]  # (T, F) -> (1, F, T)
        left = F.interpolate(item[..., :center], size=center + shift, mode="linear", align_corners=False)
        right = F.interpolate(item[..., center:], size=n - center - shift, mode="linear", align_corners=False)
        out[b, :n] = torch.cat([left, right], dim=-1)[0].transpose(0, 1)  # (1, F, T) -> (T, F)
    return out
