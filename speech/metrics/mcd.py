"""Mel-cepstral distortion (MCD) between a reference and a synthesized waveform, DTW-aligned.

Kubichek 1993, "Mel-cepstral distance measure for objective speech quality assessment"; the
DTW-aligned form is the usual objective score of TTS papers. Both signals are turned into
mel-cepstra with librosa (``librosa.feature.mfcc``), aligned with ``librosa.sequence.dtw``
(Euclidean frame distance, c0 excluded so loudness does not count), and

    MCD = 10 / ln(10) * sqrt(2 * sum_{d=1}^{D} (c_d - c'_d)^2)

is averaged over the pairs of frames on the DTW path.

The formula assumes cepstra in the SPTK convention, ``ln A(w) = c_0 + 2 * sum_d c_d cos(d w)``
for the log *amplitude* spectrum ``A``. librosa's MFCCs are orthonormal DCT-II coefficients of
``10 * log10`` mel *power* over ``N_MELS`` bands, so they are multiplied by
``ln(10) / 20 / sqrt(2 * N_MELS)`` first (dB of power to natural log of amplitude, then the
orthonormal DCT scale to the cosine-series one). That puts the values on the usual scale
(a few dB between two voices), but they are not identical to SPTK ``mcep``-based figures of
other papers (filterbank instead of all-pass warping, ``n_mfcc - 1`` coefficients, no silence removal):
compare systems scored by this function. Trim leading and trailing silence before scoring.

STFT settings (:func:`stft_settings`): ``n_fft`` is the smallest power of two covering 30 ms
and ``hop_length = n_fft // 4``, i.e. 1024 / 256 samples (46.4 / 11.6 ms) at 22.05 kHz and
512 / 128 samples (32 / 8 ms) at 16 kHz; 40 mel bands from 0 Hz to Nyquist.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import TypeAlias

import numpy as np
import torch

Signal: TypeAlias = torch.Tensor | np.ndarray
"""A mono waveform ``(T,)``, float in [-1, 1]."""

N_MELS = 40
"""Mel bands behind the cepstra."""
_FRAME_S = 0.030
_TO_SPTK_SCALE = math.log(10.0) / 20.0 / math.sqrt(2 * N_MELS)
_MCD_SCALE = 10.0 / math.log(10.0)


def stft_settings(sample_rate: int) -> tuple[int, int]:
    """``(n_fft, hop_length)`` for a sample rate: the smallest power of two >= 30 ms, hop n_fft/4.

    Examples: 22050 Hz -> (1024, 256); 16000 Hz -> (512, 128); 24000 Hz -> (1024, 256).
    """
    if sample_rate <= 0:
        raise ValueError(f"sample_rate must be positive, got {sample_rate}")
    n_fft = 1 << math.ceil(math.log2(_FRAME_S * sample_rate))
    return n_fft, n_fft // 4


def mel_cepstra(waveform: Signal, sample_rate: int, n_mfcc: int = 13) -> np.ndarray:
    """Mel-cepstra ``c_1 .. c_{n_mfcc-1}`` (c0 dropped) on the SPTK log-amplitude scale.

    Args:
        waveform: Mono waveform ``(T,)``.
        sample_rate: Its sample rate in Hz.
        n_mfcc: Cepstra computed, c0 included (so ``n_mfcc - 1`` are returned).

    Returns:
        Array ``(n_mfcc - 1, N_frames)``, float64.
    """
    y = _as_numpy(waveform)
    n_fft, hop = stft_settings(sample_rate)
    import librosa  # the [tts-score] extra; imported here so the CLI loads without it

    mfcc = librosa.feature.mfcc(
        y=y, sr=sample_rate, n_mfcc=n_mfcc, n_fft=n_fft, hop_length=hop, n_mels=N_MELS
    )  # (n_mfcc, N)
    return mfcc[1:].astype(np.float64) * _TO_SPTK_SCALE


def mel_cepstral_distortion(
    reference: Signal, synthesized: Signal, sample_rate: int, n_mfcc: int = 13
) -> float:
    """DTW-aligned mel-cepstral distortion in dB (see the module docstring for the definition).

    Args:
        reference: Reference waveform ``(T,)``.
        synthesized: Synthesized waveform ``(T',)`` at the same sample rate; lengths may differ.
        sample_rate: Sample rate of both, in Hz.
        n_mfcc: Cepstra computed, c0 included and then excluded from the distance (>= 2).

    Returns:
        The mean MCD over the DTW path, in dB (0 for identical signals).

    Raises:
        ValueError: An empty or non-mono signal, or ``n_mfcc < 2``.
    """
    if n_mfcc < 2:
        raise ValueError(f"n_mfcc must be >= 2 (c0 is excluded), got {n_mfcc}")
    ref = mel_cepstra(reference, sample_rate, n_mfcc)  # (D, N)
    syn = mel_cepstra(synthesized, sample_rate, n_mfcc)  # (D, M)
    import librosa

    _, path = librosa.sequence.dtw(X=ref, Y=syn, metric="euclidean")  # path: (L, 2), end first
    diff = ref[:, path[:, 0]] - syn[:, path[:, 1]]  # (D, L)
    per_frame = _MCD_SCALE * np.sqrt(2.0 * (diff**2).sum(axis=0))  # (L,)
    return float(per_frame.mean())


def mean_mcd(pairs: Iterable[tuple[Signal, Signal]], sample_rate: int, n_mfcc: int = 13) -> float:
    """Mean over utterances of :func:`mel_cepstral_distortion` (each utterance weighs the same).

    Args:
        pairs: ``(reference, synthesized)`` waveforms, all at ``sample_rate``.
        sample_rate: Sample rate in Hz.
        n_mfcc: As for :func:`mel_cepstral_distortion`.

    Raises:
        ValueError: ``pairs`` is empty, or a signal is bad.
    """
    scores = [mel_cepstral_distortion(ref, syn, sample_rate, n_mfcc) for ref, syn in pairs]
    if not scores:
        raise ValueError("mean_mcd: no pairs to score")
    return float(np.mean(scores))


def _as_numpy(waveform: Signal) -> np.ndarray:
    if isinstance(waveform, torch.Tensor):
        waveform = waveform.detach().cpu().float().numpy()
    y = np.asarray(waveform, dtype=np.float32)
    if y.ndim != 1 or y.size == 0:
        raise ValueError(f"expected a non-empty mono waveform (T,), got shape {y.shape}")
    return y
