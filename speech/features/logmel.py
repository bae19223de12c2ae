"""Batched log-mel spectrogram with per-item lengths, matching librosa's Slaney filterbank.

Padding invariance: samples beyond an item's length are zeroed before the STFT, and the STFT
pads with zeros (``center=True, pad_mode="constant"``), so an item in a padded batch gets
exactly the frames it gets alone. Frames beyond ``frame_lengths`` are 0. Masks in this
package use True for *valid* positions.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
import torchaudio.functional as AF
from torch import nn

from speech.features._masks import check_batch, check_lengths, full_lengths, valid_mask
from speech.features.config import LogMelConfig

# On CPU the batch is processed in chunks of about this many samples: large STFT buffers
# (tens of MB) cost more in page faults and cache misses than the FFTs themselves.
_CPU_CHUNK_SAMPLES = 1 << 18
# The mel filterbank is banded; on CPU it is applied as this many dense blocks that skip
# the zero regions (about 4x fewer multiply-adds than one dense matmul).
_CPU_MEL_GROUPS = 4


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
    check_batch(waveforms, 2, "waveforms")
    B, T = waveforms.shape
    device = waveforms.device
    lengths = full_lengths(B, T, device) if lengths is None else check_lengths(lengths, B, T, "lengths")
    lengths = lengths.to(device)
    window = (stft_window(config) if window is None else window).to(device=device, dtype=torch.float32)
    mel_fbank = (mel_filterbank(config) if mel_fbank is None else mel_fbank).to(device, torch.float32)
    with torch.autocast(device_type=device.type, enabled=False):
        waveforms = waveforms.float()
        if device.type == "cpu":
            features = _log_mel_chunked(waveforms, lengths, config, window, mel_fbank)
        else:
            features = _log_mel_batch(waveforms, lengths, config, window, mel_fbank, padded=True)
    return LogMelOutput(features, 1 + lengths // config.hop_length)


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


def _log_mel_chunked(
    waveforms: torch.Tensor,
    lengths: torch.Tensor,
    config: LogMelConfig,
    window: torch.Tensor,
    mel_fbank: torch.Tensor,
) -> torch.Tensor:
    """CPU path: chunks of items, each trimmed to its longest item; (B, T) -> (B, T_frames, F)."""
    B, T = waveforms.shape
    out = waveforms.new_empty(B, config.num_frames(T), config.n_mels)
    bands = _mel_bands(mel_fbank, _CPU_MEL_GROUPS)
    length_list = lengths.tolist()
    step = max(1, _CPU_CHUNK_SAMPLES // max(T, 1))
    for start in range(0, B, step):
        chunk_lengths = length_list[start : start + step]
        n = max(chunk_lengths)
        chunk = waveforms[start : start + step, :n]
        padded = min(chunk_lengths) < n
        feats = _log_mel_batch(chunk, lengths[start : start + step], config, window, mel_fbank, padded, bands)
        out[start : start + step, : feats.shape[1]] = feats
        out[start : start + step, feats.shape[1] :] = 0.0
    return out


def _log_mel_batch(
    waveforms: torch.Tensor,
    lengths: torch.Tensor,
    config: LogMelConfig,
    window: torch.Tensor,
    mel_fbank: torch.Tensor,
    padded: bool,
    bands: list[tuple[int, int, int, int]] | None = None,
) -> torch.Tensor:
    """Whole-batch log-mel (B, T) -> (B, T_frames, F); ``padded`` masks samples and frames."""
    if padded:
        waveforms = waveforms.masked_fill(~valid_mask(lengths, waveforms.shape[1]), 0.0)
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
    parts = torch.view_as_real(spec.transpose(1, 2)).square_()  # (B, T_frames, n_freqs, 2), contiguous
    energy = parts[..., 0] + parts[..., 1]  # (B, T_frames, n_freqs) = |X|^2
    if config.power == 1.0:
        energy = energy.sqrt_()
    mel = _apply_fbank(energy, mel_fbank, bands)  # (B, T_frames, F)
    features = torch.log(mel.clamp_(min=config.log_floor))  # out-of-place log is faster than log_
    if padded:
        frame_mask = valid_mask(1 + lengths // config.hop_length, features.shape[1])  # (B, T_frames)
        features = features.masked_fill_(~frame_mask[..., None], 0.0)
    return features


def _apply_fbank(
    energy: torch.Tensor, mel_fbank: torch.Tensor, bands: list[tuple[int, int, int, int]] | None
) -> torch.Tensor:
    """(B, T, n_freqs) @ (n_freqs, F) -> (B, T, F), optionally as banded blocks."""
    if not bands:
        return torch.matmul(energy, mel_fbank)
    blocks = [torch.matmul(energy[..., lo:hi], mel_fbank[lo:hi, m0:m1]) for lo, hi, m0, m1 in bands]
    return torch.cat(blocks, dim=-1)


def _mel_bands(mel_fbank: torch.Tensor, n_groups: int) -> list[tuple[int, int, int, int]]:
    """Split the F filters into ``n_groups`` runs with the frequency-bin range each run covers.

    Returns:
        ``(bin_lo, bin_hi, mel_lo, mel_hi)`` per group; the filterbank is zero outside
        ``[bin_lo, bin_hi) x [mel_lo, mel_hi)`` within those mel columns.
    """
    n_mels = mel_fbank.shape[1]
    edges = [round(i * n_mels / n_groups) for i in range(n_groups + 1)]
    bands = []
    for m0, m1 in zip(edges[:-1], edges[1:], strict=True):
        if m1 <= m0:
            continue
        rows = torch.nonzero(mel_fbank[:, m0:m1].ne(0).any(dim=1)).flatten().tolist()
        lo, hi = (rows[0], rows[-1] + 1) if rows else (0, 0)
        bands.append((lo, hi, m0, m1))
    return bands
