"""Vocoders: log-mel features back to waveforms.

:class:`Vocoder` is the interface TTS inference calls; :class:`MelInverter` (mel -> linear
spectrogram by a clamped pseudo-inverse, then fast Griffin-Lim) is the default implementation
and needs no training. A neural vocoder can fill the same protocol later.
"""

from __future__ import annotations

import math
from typing import NamedTuple, Protocol, runtime_checkable

import torch
from torch import nn

from speech.features._masks import check_batch, check_lengths, full_lengths, valid_mask
from speech.features.config import LogMelConfig
from speech.features.logmel import mel_filterbank, stft_window


class VocoderOutput(NamedTuple):
    """Waveforms produced by a :class:`Vocoder`."""

    waveforms: torch.Tensor
    """Padded waveforms (B, T_samples), float32; 0 beyond each item's length."""
    lengths: torch.Tensor
    """Valid samples per item (B,), int64."""


@runtime_checkable
class Vocoder(Protocol):
    """Anything that turns log-mel features (as :class:`speech.features.LogMel` makes them) into audio."""

    @property
    def sample_rate(self) -> int:
        """Sample rate of the produced waveforms in Hz."""
        ...

    def __call__(self, log_mel: torch.Tensor, frame_lengths: torch.Tensor | None = None) -> VocoderOutput:
        """Map log-mel (B, T, F) and frame lengths (B,) to waveforms (B, T_samples) and lengths (B,)."""
        ...


def mel_to_linear(mel: torch.Tensor, inverse_fbank: torch.Tensor) -> torch.Tensor:
    """Approximate non-negative least-squares inverse of the mel filterbank.

    Args:
        mel: Mel spectrogram (B, T, F) on the linear (not log) scale.
        inverse_fbank: Pseudo-inverse of the filterbank (F, n_freqs), e.g.
            ``torch.linalg.pinv(mel_filterbank(config))``.

    Returns:
        Linear-frequency spectrogram (B, T, n_freqs), clamped to be non-negative.
    """
    return torch.matmul(mel, inverse_fbank).clamp_(min=0.0)


def griffin_lim(
    magnitude: torch.Tensor,
    config: LogMelConfig,
    window: torch.Tensor,
    lengths: torch.Tensor,
    n_iter: int = 32,
    momentum: float = 0.99,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Fast Griffin-Lim phase reconstruction (Perraudin et al., 2013) after torchaudio's ``griffinlim``.

    Differences from torchaudio: batch-first layout, phases initialised uniformly at random from
    ``generator``, zero-padded STFT (as :func:`speech.features.log_mel`), and samples beyond each
    item's length are zeroed at every iteration.

    Args:
        magnitude: STFT magnitudes (B, T_frames, n_freqs).
        config: STFT parameters (n_fft, win_length, hop_length).
        window: Window (win_length,) on the magnitudes' device.
        lengths: Valid samples per item (B,); the padded length is ``(T_frames - 1) * hop_length``.
        n_iter: Iterations.
        momentum: Fast Griffin-Lim momentum in [0, 1).
        generator: Random source for the initial phases.

    Returns:
        Waveforms (B, (T_frames - 1) * hop_length), 0 beyond ``lengths``.
    """
    if not 0.0 <= momentum < 1.0:
        raise ValueError(f"momentum must be in [0, 1), got {momentum}")
    specgram = magnitude.transpose(1, 2)  # (B, T, n_freqs) -> (B, n_freqs, T)
    length = (specgram.shape[-1] - 1) * config.hop_length
    if length == 0:  # a single frame reconstructs no samples
        return specgram.new_zeros(specgram.shape[0], 0)
    sample_mask = valid_mask(lengths, length)  # (B, T_samples), True = valid
    stft_args = {
        "n_fft": config.n_fft,
        "hop_length": config.hop_length,
        "win_length": config.win_length,
        "window": window,
    }
    source = generator.device if generator is not None else specgram.device
    phase = torch.rand(specgram.shape, generator=generator, device=source).to(specgram.device)
    angles = torch.polar(torch.ones_like(specgram), 2 * math.pi * phase)  # (B, n_freqs, T) complex
    alpha = momentum / (1 + momentum)
    previous = torch.zeros((), dtype=angles.dtype, device=specgram.device)
    for _ in range(n_iter):
        inverse = torch.istft(specgram * angles, length=length, **stft_args) * sample_mask
        rebuilt = torch.stft(inverse, center=True, pad_mode="constant", return_complex=True, **stft_args)
        angles = rebuilt - alpha * previous
        angles = angles / (angles.abs() + 1e-16)
        previous = rebuilt
    return torch.istft(specgram * angles, length=length, **stft_args) * sample_mask


class MelInverter(nn.Module):
    """Default :class:`Vocoder`: log-mel -> mel -> linear spectrogram -> fast Griffin-Lim waveform.

    The log is undone with ``exp``; the mel filterbank is inverted with its pseudo-inverse
    clamped at 0 (a cheap approximation of non-negative least squares); power spectra are
    turned into magnitudes per ``config.power``; phases come from fast Griffin-Lim
    (Griffin & Lim, 1984; Perraudin et al., 2013) with the same n_fft / window / hop as the
    features. Runs in float32 with autocast disabled, on the device of its buffers.

    Output lengths are ``(frame_lengths - 1) * hop_length``, so featurising the output again gives
    the same number of frames.

    Args:
        config: The front-end configuration the features were made with.
        n_iter: Griffin-Lim iterations (more is slower and cleaner).
        momentum: Fast Griffin-Lim momentum in [0, 1).
    """

    window: torch.Tensor
    inverse_fbank: torch.Tensor

    def __init__(self, config: LogMelConfig, n_iter: int = 32, momentum: float = 0.99) -> None:
        super().__init__()
        if n_iter < 0 or not 0.0 <= momentum < 1.0:
            raise ValueError(f"need n_iter >= 0 and 0 <= momentum < 1, got {n_iter} and {momentum}")
        self.config = config
        self.n_iter = n_iter
        self.momentum = momentum
        self.register_buffer("window", stft_window(config), persistent=False)
        inverse = torch.linalg.pinv(mel_filterbank(config).double()).float()  # (n_freqs, F) -> (F, n_freqs)
        self.register_buffer("inverse_fbank", inverse, persistent=False)

    @property
    def sample_rate(self) -> int:
        """Sample rate of the output in Hz."""
        return self.config.sample_rate

    def forward(
        self,
        log_mel: torch.Tensor,
        frame_lengths: torch.Tensor | None = None,
        generator: torch.Generator | None = None,
    ) -> VocoderOutput:
        """Invert a padded batch of log-mel features.

        Args:
            log_mel: (B, T_frames, F) natural-log mel features (without CMVN).
            frame_lengths: (B,) valid frames per item; ``None`` means all frames.
            generator: Random source for the initial phases.

        Returns:
            ``VocoderOutput(waveforms (B, (T_frames - 1) * hop_length), lengths (B,))``.
        """
        check_batch(log_mel, 3, "log_mel")
        B, T, _ = log_mel.shape
        device = log_mel.device
        frame_lengths = full_lengths(B, T, device) if frame_lengths is None else frame_lengths
        frame_lengths = check_lengths(frame_lengths, B, T, "frame_lengths").to(device)
        lengths = (frame_lengths - 1).clamp(min=0) * self.config.hop_length
        with torch.autocast(device_type=device.type, enabled=False):
            mel = log_mel.float().exp()  # (B, T, F)
            linear = mel_to_linear(mel, self.inverse_fbank.float())  # (B, T, n_freqs)
            magnitude = linear.sqrt_() if self.config.power == 2.0 else linear
            magnitude = magnitude.masked_fill_(~valid_mask(frame_lengths, T)[..., None], 0.0)
            waveforms = griffin_lim(
                magnitude, self.config, self.window.float(), lengths, self.n_iter, self.momentum, generator
            )
        return VocoderOutput(waveforms, lengths)

    def extra_repr(self) -> str:
        """Summary shown by ``repr(module)``."""
        return f"sample_rate={self.sample_rate}, n_iter={self.n_iter}, momentum={self.momentum}"
