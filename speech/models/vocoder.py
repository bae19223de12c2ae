"""A Fourier-head GAN vocoder in the style of Vocos (Siuzdak, 2023): log-mel frames to waveforms.

The generator never upsamples. A ConvNeXt backbone runs at the frame rate of the features and a
linear head predicts, for every frame, the log-magnitude and the phase of one STFT frame of the
same ``n_fft`` and hop as the features; an inverse STFT (overlap-add) makes the waveform. Nearly
all of its work is a few matrix products per frame, which is why it runs far faster on a CPU than
HiFi-GAN's transposed-convolution stack at the sample rate (``bench/vocoder.py`` measures both).

Lengths follow :class:`~speech.features.MelInverter`: ``T`` frames give ``(T - 1) * hop_length``
samples, the span between the first and the last frame centre, so featurising the output again
gives ``T`` frames. Padded frames are zeroed before every convolution and left out of the
overlap-add's window normalisation, so an item synthesized in a padded batch equals the item
synthesized alone.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from speech.config import check_positive, check_range
from speech.features._masks import check_batch, check_lengths, full_lengths, valid_mask
from speech.features.config import LogMelConfig
from speech.features.logmel import stft_window
from speech.features.vocoder import VocoderOutput


@dataclass
class VocosConfig:
    """Size of the generator (the STFT it inverts is the features' own).

    Attributes:
        n_mels: Input mel bins (set from the features by the task).
        dim: Channels of the ConvNeXt backbone.
        intermediate_dim: Hidden size of each block's pointwise MLP.
        layers: ConvNeXt blocks.
        kernel_size: Depthwise convolution width in frames (odd).
        max_log_magnitude: Predicted log-magnitudes are clamped here (``exp(4.6) ~ 100``, as Vocos).

    Raises:
        speech.config.FieldError: From ``__post_init__`` when a value is out of range.
    """

    n_mels: int = 80
    dim: int = 256
    intermediate_dim: int = 768
    layers: int = 8
    kernel_size: int = 7
    max_log_magnitude: float = math.log(100.0)

    def __post_init__(self) -> None:
        check_positive(self, "n_mels", "dim", "intermediate_dim", "layers", "kernel_size")
        check_range(self, "max_log_magnitude", gt=0)
        if self.kernel_size % 2 == 0:
            from speech.config import field_error

            raise field_error(self, "kernel_size", f"must be odd, got {self.kernel_size}")


class ConvNeXtBlock(nn.Module):
    """Depthwise conv, LayerNorm, pointwise MLP (GELU) and a learned layer scale, with a residual."""

    def __init__(self, dim: int, intermediate_dim: int, kernel_size: int, layer_scale: float) -> None:
        super().__init__()
        self.depthwise = nn.Conv1d(dim, dim, kernel_size, padding=kernel_size // 2, groups=dim)
        self.norm = nn.LayerNorm(dim, eps=1e-6)
        self.up = nn.Linear(dim, intermediate_dim)
        self.down = nn.Linear(intermediate_dim, dim)
        self.scale = nn.Parameter(torch.full((dim,), layer_scale))

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """``x`` (B, T, C), ``mask`` (B, T, 1) with 0 at padded frames; returns (B, T, C)."""
        y = self.depthwise((x * mask).transpose(1, 2)).transpose(1, 2)
        y = self.down(F.gelu(self.up(self.norm(y))))
        return x + self.scale * y


class VocosGenerator(nn.Module):
    """Log-mel (B, T, F) to waveforms (B, (T - 1) * hop): ConvNeXt backbone and an inverse-STFT head.

    Args:
        config: Backbone size.
        features: The front end whose features it inverts (``n_fft``, ``win_length``, ``hop_length``).
    """

    window: torch.Tensor

    def __init__(self, config: VocosConfig, features: LogMelConfig) -> None:
        super().__init__()
        if config.n_mels != features.n_mels:
            raise ValueError(f"n_mels {config.n_mels} differs from the features' {features.n_mels}")
        self.config = config
        self.features = features
        self.embed = nn.Conv1d(config.n_mels, config.dim, config.kernel_size, padding=config.kernel_size // 2)
        self.norm = nn.LayerNorm(config.dim, eps=1e-6)
        scale = 1.0 / config.layers
        self.blocks = nn.ModuleList(
            ConvNeXtBlock(config.dim, config.intermediate_dim, config.kernel_size, scale)
            for _ in range(config.layers)
        )
        self.final_norm = nn.LayerNorm(config.dim, eps=1e-6)
        self.head = nn.Linear(config.dim, 2 * features.n_freqs)
        pad = features.n_fft - features.win_length
        window = F.pad(stft_window(features), (pad // 2, pad - pad // 2))  # centred in n_fft, as torch.stft
        self.register_buffer("window", window, persistent=False)
        self.apply(_init_weights)

    @property
    def sample_rate(self) -> int:
        """Sample rate of the output in Hz."""
        return self.features.sample_rate

    def forward(self, log_mel: torch.Tensor, frame_lengths: torch.Tensor | None = None) -> VocoderOutput:
        """Waveforms of a padded batch of natural-log mel frames.

        Args:
            log_mel: (B, T, F) natural-log mel features (as :class:`~speech.features.LogMel` makes them).
            frame_lengths: (B,) valid frames per item; ``None`` means all ``T``.

        Returns:
            ``VocoderOutput(waveforms (B, (T - 1) * hop), lengths (B,) = (frame_lengths - 1) * hop)``,
            0 beyond each item's length.
        """
        check_batch(log_mel, 3, "log_mel")
        B, T, _ = log_mel.shape
        frame_lengths = full_lengths(B, T, log_mel.device) if frame_lengths is None else frame_lengths
        frame_lengths = check_lengths(frame_lengths, B, T, "frame_lengths").to(log_mel.device)
        mask = valid_mask(frame_lengths, T)[..., None].to(log_mel.dtype)  # (B, T, 1)
        x = self.embed((log_mel * mask).transpose(1, 2)).transpose(1, 2)
        x = self.norm(x)
        for block in self.blocks:
            x = block(x, mask)
        spec = self.head(self.final_norm(x))  # (B, T, 2 * n_freqs)
        waveforms = self.inverse_stft(spec, mask[..., 0])
        lengths = (frame_lengths - 1).clamp(min=0) * self.features.hop_length
        return VocoderOutput(waveforms * valid_mask(lengths, waveforms.shape[1]), lengths)

    def inverse_stft(self, spec: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Overlap-add of the frames (B, T, 2 * n_freqs: log-magnitudes, then phases) in float32.

        The window-square envelope counts only valid frames (``mask`` (B, T)), which keeps
        batched synthesis equal to per-item synthesis at an item's end.
        """
        c = self.features
        n_freqs, n_fft, hop = c.n_freqs, c.n_fft, c.hop_length
        T = spec.shape[1]
        with torch.autocast(device_type=spec.device.type, enabled=False):
            spec, mask = spec.float(), mask.float()
            magnitude = spec[..., :n_freqs].clamp(max=self.config.max_log_magnitude).exp()
            phase = spec[..., n_freqs:]
            frames = torch.fft.irfft(torch.polar(magnitude, phase), n=n_fft, dim=-1)  # (B, T, n_fft)
            window = self.window.float()
            frames = frames * window * mask[..., None]
            size = (1, (T - 1) * hop + n_fft)
            out = F.fold(frames.transpose(1, 2), size, kernel_size=(1, n_fft), stride=(1, hop))
            envelope = (window.square()[None, :, None] * mask[:, None, :]).expand(-1, -1, T)
            envelope = F.fold(envelope, size, kernel_size=(1, n_fft), stride=(1, hop))
            start = n_fft // 2
            out = out[:, 0, 0, start : start + (T - 1) * hop]
            envelope = envelope[:, 0, 0, start : start + (T - 1) * hop]
            return out / envelope.clamp(min=1e-8)


def _init_weights(module: nn.Module) -> None:
    if isinstance(module, nn.Conv1d | nn.Linear):
        nn.init.trunc_normal_(module.weight, std=0.02)
        nn.init.zeros_(module.bias)
