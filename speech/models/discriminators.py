"""GAN discriminators and losses for vocoder training.

- :class:`PeriodDiscriminator` (HiFi-GAN's multi-period discriminator, Kong et al. 2020): the
  waveform folded into ``period`` columns and read by 2-D convolutions, one per period, so that
  each sees the periodic structure of voiced speech.
- :class:`ResolutionDiscriminator` (UnivNet's multi-resolution discriminator, Jang et al. 2021, as
  Vocos uses it): 2-D convolutions over a magnitude spectrogram, one per STFT resolution.
- Least-squares adversarial losses (Mao et al. 2017) and the feature-matching loss.

Every sub-discriminator returns its score map and the feature maps of its layers.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.parametrizations import weight_norm

from speech.config import check_positive, field_error

_SLOPE = 0.1  # leaky ReLU slope of HiFi-GAN and UnivNet


@dataclass
class DiscriminatorConfig:
    """Which sub-discriminators, and how wide.

    Attributes:
        periods: Periods of the multi-period discriminator (HiFi-GAN: 2, 3, 5, 7, 11); empty = none.
        period_channels: Channels of its four strided layers (HiFi-GAN: 32, 128, 512, 1024).
        resolutions: ``[n_fft, hop, win]`` of each multi-resolution sub-discriminator; empty = none.
        resolution_channels: Channels of its layers (UnivNet: 32).
    """

    periods: tuple[int, ...] = (2, 3, 5, 7, 11)
    period_channels: tuple[int, ...] = (32, 64, 128, 256)
    resolutions: tuple[tuple[int, int, int], ...] = ((1024, 256, 1024), (2048, 512, 2048), (512, 128, 512))
    resolution_channels: int = 32

    def __post_init__(self) -> None:
        self.periods = tuple(self.periods)
        self.period_channels = tuple(self.period_channels)
        self.resolutions = tuple(tuple(r) for r in self.resolutions)
        if not self.periods and not self.resolutions:
            raise field_error(self, "periods", "and resolutions are both empty: no discriminator")
        if any(not isinstance(p, int) or p < 1 for p in self.periods):
            raise field_error(self, "periods", f"must be positive integers, got {list(self.periods)}")
        if len(self.period_channels) != 4 or any(c < 1 for c in self.period_channels):
            raise field_error(
                self, "period_channels", f"must be 4 positive sizes, got {self.period_channels}"
            )
        for r in self.resolutions:
            if len(r) != 3 or any(v < 1 for v in r) or r[2] > r[0]:
                raise field_error(
                    self, "resolutions", f"each must be [n_fft, hop, win <= n_fft], got {list(r)}"
                )
        check_positive(self, "resolution_channels")


class PeriodDiscriminator(nn.Module):
    """HiFi-GAN's sub-discriminator of one period: (B, T) -> score map and layer features."""

    def __init__(self, period: int, channels: tuple[int, ...]) -> None:
        super().__init__()
        self.period = period
        sizes = (1, *channels)
        layers = [
            weight_norm(nn.Conv2d(sizes[i], sizes[i + 1], (5, 1), (3, 1), padding=(2, 0)))
            for i in range(len(channels))
        ]
        layers.append(weight_norm(nn.Conv2d(channels[-1], channels[-1], (5, 1), 1, padding=(2, 0))))
        self.layers = nn.ModuleList(layers)
        self.out = weight_norm(nn.Conv2d(channels[-1], 1, (3, 1), 1, padding=(1, 0)))

    def forward(self, waveforms: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """Scores and the features of every layer (the last one is the scores)."""
        B, T = waveforms.shape
        pad = (-T) % self.period
        x = F.pad(waveforms[:, None], (0, pad), mode="reflect" if pad < T else "constant")
        x = x.view(B, 1, (T + pad) // self.period, self.period)
        return _convolve(self.layers, self.out, x)


class ResolutionDiscriminator(nn.Module):
    """UnivNet's sub-discriminator of one STFT resolution, over the magnitude spectrogram."""

    window: torch.Tensor

    def __init__(self, n_fft: int, hop: int, win: int, channels: int) -> None:
        super().__init__()
        self.n_fft, self.hop = n_fft, hop
        self.register_buffer("window", torch.hann_window(win), persistent=False)
        self.layers = nn.ModuleList(
            [
                weight_norm(nn.Conv2d(1, channels, (3, 9), padding=(1, 4))),
                *(
                    weight_norm(nn.Conv2d(channels, channels, (3, 9), stride=(1, 2), padding=(1, 4)))
                    for _ in range(3)
                ),
                weight_norm(nn.Conv2d(channels, channels, (3, 3), padding=(1, 1))),
            ]
        )
        self.out = weight_norm(nn.Conv2d(channels, 1, (3, 3), padding=(1, 1)))

    def forward(self, waveforms: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """Scores and the features of every layer (the last one is the scores)."""
        with torch.autocast(device_type=waveforms.device.type, enabled=False):
            spec = torch.stft(
                waveforms.float(),
                self.n_fft,
                self.hop,
                window=self.window,
                center=True,
                return_complex=True,
            )
            x = spec.abs()[:, None].transpose(2, 3)  # (B, 1, frames, freqs)
        return _convolve(self.layers, self.out, x)


def _convolve(
    layers: nn.ModuleList, out: nn.Module, x: torch.Tensor
) -> tuple[torch.Tensor, list[torch.Tensor]]:
    """Leaky-ReLU layers, then the score layer: the scores and every layer's output."""
    features = []
    for layer in layers:
        x = F.leaky_relu(layer(x), _SLOPE)
        features.append(x)
    x = out(x)
    features.append(x)
    return x.flatten(1), features


class Discriminators(nn.Module):
    """All sub-discriminators of a :class:`DiscriminatorConfig`."""

    def __init__(self, config: DiscriminatorConfig) -> None:
        super().__init__()
        self.config = config
        self.subs = nn.ModuleList(
            [PeriodDiscriminator(p, config.period_channels) for p in config.periods]
            + [ResolutionDiscriminator(*r, config.resolution_channels) for r in config.resolutions]
        )

    def forward(self, waveforms: torch.Tensor) -> tuple[list[torch.Tensor], list[list[torch.Tensor]]]:
        """Each sub-discriminator's scores (B, N) and layer features."""
        scores, features = [], []
        for sub in self.subs:
            s, f = sub(waveforms)
            scores.append(s)
            features.append(f)
        return scores, features


def discriminator_loss(real: list[torch.Tensor], fake: list[torch.Tensor]) -> torch.Tensor:
    """Least-squares loss of the discriminators: real scores towards 1, generated ones towards 0."""
    return sum(
        ((1 - r.float()) ** 2).mean() + (f.float() ** 2).mean() for r, f in zip(real, fake, strict=True)
    )


def generator_loss(fake: list[torch.Tensor]) -> torch.Tensor:
    """Least-squares adversarial loss of the generator: its scores towards 1."""
    return sum(((1 - f.float()) ** 2).mean() for f in fake)


def feature_matching_loss(real: list[list[torch.Tensor]], fake: list[list[torch.Tensor]]) -> torch.Tensor:
    """Mean absolute difference of the discriminators' features, summed over layers (HiFi-GAN)."""
    return sum(
        (r.detach().float() - f.float()).abs().mean()
        for rs, fs in zip(real, fake, strict=True)
        for r, f in zip(rs, fs, strict=True)
    )
