"""Batched log-mel spectrogram with per-item lengths, matching librosa's Slaney filterbank.

Padding invariance: samples beyond an item's length are zeroed before the STFT, and the STFT
pads with zeros (``center=True, pad_mode="constant"``), so an item in a padded batch gets
exactly the frames it gets alone. Frames beyond ``frame_lengths`` are 0. Masks in this
package use True for *valid* positions. This is the reference computation, one batched pass
on any device; :class:`speech.kernels.logmel.CPULogMel` is a faster CPU schedule of it.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
import torchaudio.functional as AF
from torch import nn

from speech.features._masks import check_batch, check_lengths, full_lengths, valid_mask
from speech.features.config import LogMelConfig


class LogMelOutput(NamedTuple):
    """Output of :func:`log_mel` and :class:`LogMel`."""

    features: torch.Tensor
    """Log-mel features (B, T_frames, F), float32; 0 beyond each item's frame length."""
    frame_lengths: torch.Tensor
    """Valid frames per item (B,), int64: ``1 + lengths // hop_length``."""


def mel_filterbank(config: LogMelConfig) -> torch.Tensor:
    """Triangular mel filterbank (n_freqs, F) equal to ``librosa.filters.mel(...).T`` for Slaney settings."""
    return AF.melscale_fbanks(
        n_freqs=config.n_freqs,
        f_min=config.f_min,
        f_max=config.max_frequency,
        n_mels=config.n_mels,
        sample_rate=config.sample_rate,
        norm=config.mel_norm,
        mel_scale=config.mel_scale,
    )


def stft_window(config: LogMelConfig) -> torch.Tensor:
    """Periodic Hann window (win_length,), as ``scipy.signal.get_window("hann", win_length)``."""
    return torch.hann_window(config.win_length, periodic=True)


def log_mel(
    waveforms: torch.Tensor,
    config: LogMelConfig,
    lengths: torch.Tensor | None = None,
    *,
    window: torch.Tensor | None = None,
    mel_fbank: torch.Tensor | None = None,
) -> LogMelOutput:
    """Compute ``ln(max(mel_spectrogram, log_floor))`` of a padded batch, always in float32.

    Args:
        waveforms: Padded waveforms (B, T_samples), any float dtype; computed in float32 with
            autocast disabled.
        config: Front-end parameters.
        lengths: Valid samples per item (B,), integer; ``None`` means every item is full length.
        window: Precomputed :func:`stft_window` on the waveforms' device (built when ``None``).
        mel_fbank: Precomputed :func:`mel_filterbank` (n_freqs, F) on the device (built when ``None``).

    Returns:
        ``LogMelOutput(features (B, T_frames, F), frame_lengths (B,))`` with
        ``T_frames = 1 + T_samples // hop_length``.

    Raises:
        ValueError: ``waveforms`` is not 2-D, or ``lengths`` has the wrong shape or range.
    """
    lengths, window, mel_fbank = log_mel_inputs(waveforms, config, lengths, window, mel_fbank)
    with torch.autocast(device_type=waveforms.device.type, enabled=False):
        waveforms = waveforms.float()
        mel = torch.matmul(spectrogram(waveforms, lengths, config, window), mel_fbank)  # (B, T_frames, F)
        features = log_compress(mel, lengths, config)
    return LogMelOutput(features, 1 + lengths // config.hop_length)


def log_mel_inputs(
    waveforms: torch.Tensor,
    config: LogMelConfig,
    lengths: torch.Tensor | None,
    window: torch.Tensor | None,
    mel_fbank: torch.Tensor | None,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Checked lengths (B,), window and filterbank on the waveforms' device; see :func:`log_mel`.

    Raises:
        ValueError: ``waveforms`` is not 2-D, or ``lengths`` has the wrong shape or range.
    """
    check_batch(waveforms, 2, "waveforms")
    B, T = waveforms.shape
    device = waveforms.device
    lengths = full_lengths(B, T, device) if lengths is None else check_lengths(lengths, B, T, "lengths")
    window = (stft_window(config) if window is None else window).to(device=device, dtype=torch.float32)
    mel_fbank = (mel_filterbank(config) if mel_fbank is None else mel_fbank).to(device, torch.float32)
    return lengths.to(device), window, mel_fbank


class LogMel(nn.Module):
    """Log-mel front end: padded waveforms (B, T_samples) + lengths -> features (B, T_frames, F).

    The Hann window and mel filterbank are non-persistent buffers derived from ``config`` (they
    follow ``.to(device)`` and are not stored in state dicts; store ``config.to_dict()`` instead).

    Args:
        config: Front-end parameters; defaults to :meth:`LogMelConfig.asr`.
    """

    window: torch.Tensor
    mel_fbank: torch.Tensor

    def __init__(self, config: LogMelConfig | None = None) -> None:
        super().__init__()
        self.config = config if config is not None else LogMelConfig.asr()
        self.register_buffer("window", stft_window(self.config), persistent=False)
        self.register_buffer("mel_fbank", mel_filterbank(self.config), persistent=False)

    @property
    def n_mels(self) -> int:
        """Feature size F."""
        return self.config.n_mels

    def forward(self, waveforms: torch.Tensor, lengths: torch.Tensor | None = None) -> LogMelOutput:
        """Featurise a padded batch.

        Args:
            waveforms: (B, T_samples) float waveforms.
            lengths: (B,) valid samples per item; ``None`` means full length.

        Returns:
            ``LogMelOutput(features (B, T_frames, F) float32, frame_lengths (B,))``.
        """
        return log_mel(waveforms, self.config, lengths, window=self.window, mel_fbank=self.mel_fbank)

    def extra_repr(self) -> str:
        """Summary shown by ``repr(module)``."""
        c = self.config
        return f"sample_rate={c.sample_rate}, n_fft={c.n_fft}, hop_length={c.hop_length}, n_mels={c.n_mels}"


def spectrogram(
    waveforms: torch.Tensor,
    lengths: torch.Tensor,
    config: LogMelConfig,
    window: torch.Tensor,
    padded: bool = True,
) -> torch.Tensor:
    """``|STFT|^power`` of float32 waveforms (B, T) -> (B, T_frames, n_freqs).

    With ``padded``, samples past ``lengths`` are zeroed first.
    """
    if padded:
        waveforms = waveforms.masked_fill(~valid_mask(lengths, waveforms.shape[1]), 0.0)
    parts = torch.view_as_real(complex_stft(waveforms, config, window)).square_()  # (B, T_frames, n_freqs, 2)
    energy = parts[..., 0] + parts[..., 1]  # (B, T_frames, n_freqs) = |X|^2
    return energy.sqrt_() if config.power == 1.0 else energy


def complex_stft(waveforms: torch.Tensor, config: LogMelConfig, window: torch.Tensor) -> torch.Tensor:
    """The STFT of float32 waveforms (B, T) as complex (B, T_frames, n_freqs), contiguous.

    Centred with zero padding; ``torch.stft`` returns (B, n_freqs, T_frames) as a transposed view
    of frame-major memory, so the transpose back is free.
    """
    spec = torch.stft(
        waveforms,
        config.n_fft,
        config.hop_length,
        config.win_length,
        window,
        center=True,
        pad_mode="constant",
        return_complex=True,
    )  # (B, n_freqs, T_frames) complex
    return spec.transpose(1, 2)


def log_compress(
    mel: torch.Tensor, lengths: torch.Tensor, config: LogMelConfig, padded: bool = True
) -> torch.Tensor:
    """``ln(max(mel, log_floor))`` of (B, T_frames, F), in place; ``padded`` zeroes frames past lengths."""
    features = torch.log(mel.clamp_(min=config.log_floor))  # out-of-place log is faster than log_
    if padded:
        frame_mask = valid_mask(1 + lengths // config.hop_length, features.shape[1])  # (B, T_frames)
        features = features.masked_fill_(~frame_mask[..., None], 0.0)
    return features
