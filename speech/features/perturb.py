"""Pure waveform perturbations of a zero-padded batch (B, T) with lengths (B,): the parts of augmentation.

Each function takes its random parameters (factors, gains, SNRs, impulse responses) as
arguments, so it is deterministic given them; :func:`speech.features.augment.augment` draws
them. Padding stays zero and lengths are exact. Masks are True for *valid* samples.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from fractions import Fraction
from typing import NamedTuple

import torch
import torch.nn.functional as F
import torchaudio.functional as AF

from speech.features._masks import check_batch, check_lengths, valid_mask

_COLOUR_FLOOR_HZ = 20.0  # coloured noise is flat below this frequency, and has no DC
_MAX_DENOMINATOR = 100  # a speed factor is used as the nearest ratio p / q with q <= this
_TINY = 1e-20


class Augmented(NamedTuple):
    """Output of :func:`speed_perturb` and of :func:`~speech.features.augment.augment`."""

    waveforms: torch.Tensor
    """(B, T') waveforms, zero beyond each item's length (T' differs from T only after speed changes)."""
    lengths: torch.Tensor
    """(B,) int64 valid samples per item."""


# Transforms (pure: parameters in, tensors out) ---------------------------------------------------
def speed_perturb(waveforms: torch.Tensor, lengths: torch.Tensor, factors: Sequence[float]) -> Augmented:
    """Play each item ``factor`` times faster by resampling (Ko et al., 2015); equal factors share one call.

    Factor f is used as the nearest ratio p / q (q <= 100): an item of n samples becomes
    ``ceil(n * q / p)`` samples long, exactly the samples ``torchaudio.functional.resample(x, p, q)``
    gives it alone.

    Args:
        waveforms: (B, T) float waveforms, zero-padded.
        lengths: (B,) valid samples per item.
        factors: B speed factors (> 0).

    Returns:
        Augmented: (B, T') waveforms, T' the longest new length, and the new lengths (B,).
    """
    check_batch(waveforms, 2, "waveforms")
    B, T = waveforms.shape
    lengths = check_lengths(lengths, B, T, "lengths")
    if len(factors) != B:
        raise ValueError(f"factors must hold {B} values, got {len(factors)}")
    ratios = [_ratio(f) for f in factors]
    host = lengths.cpu()
    new = [-(-n * q // p) for n, (p, q) in zip(host.tolist(), ratios, strict=True)]  # ceil(n * q / p)
    out = waveforms.new_zeros(B, max(new, default=0))
    for p, q in sorted(set(ratios)):
        rows = [i for i, r in enumerate(ratios) if r == (p, q)]
        longest = int(host[rows].max())
        if longest == 0:
            continue
        index = torch.tensor(rows, device=waveforms.device)
        group = waveforms[index, :longest]
        if p != q:
            group = AF.resample(group, p, q)
        width = min(group.shape[-1], out.shape[-1])
        out[index, :width] = group[:, :width]
    new_lengths = torch.tensor(new, dtype=torch.long, device=lengths.device)
    return Augmented(torch.where(valid_mask(new_lengths, out.shape[-1]), out, 0.0), new_lengths)


def apply_gain(waveforms: torch.Tensor, gain_db: torch.Tensor) -> torch.Tensor:
    """Scale each item by ``10^(gain_db / 20)``; no clipping (the log-mel front end needs none).

    Args:
        waveforms: (B, T) waveforms.
        gain_db: (B,) gains in dB.

    Returns:
        (B, T) scaled waveforms (padding stays zero).
    """
    return waveforms * torch.pow(10.0, gain_db.to(waveforms) / 20)[:, None]


def add_noise(
    waveforms: torch.Tensor, lengths: torch.Tensor, noise: torch.Tensor, snr_db: torch.Tensor
) -> torch.Tensor:
    """Add ``noise`` scaled so that each item's SNR over its valid samples is ``snr_db``.

    Like ``torchaudio.functional.add_noise``, but the noise is masked to each item's length (so
    padding stays zero), and an item whose noise is silent over its valid samples is left as is
    instead of turning into NaN.

    Args:
        waveforms: (B, T) clean waveforms, zero-padded.
        lengths: (B,) valid samples per item.
        noise: (B, T) noise, any level.
        snr_db: (B,) target signal-to-noise ratios in dB.

    Returns:
        (B, T) noisy waveforms.
    """
    mask = valid_mask(lengths.to(waveforms.device), waveforms.shape[-1])
    noise = torch.where(mask, noise, 0.0)
    signal_energy = _energy(waveforms)  # (B,), over valid samples since padding is zero
    noise_energy = _energy(noise)
    ratio = signal_energy / noise_energy.clamp_min(_TINY) * torch.pow(10.0, -snr_db.to(waveforms) / 10)
    scale = torch.where(noise_energy > 0, ratio.sqrt(), torch.zeros_like(ratio))
    return torch.addcmul(waveforms, scale[:, None], noise)


def coloured_noise(
    n: int,
    length: int,
    exponent: float,
    sample_rate: int,
    generator: torch.Generator | None = None,
    device: torch.device | None = None,
) -> torch.Tensor:
    """Gaussian noise with power spectral density ~ 1 / f^exponent: 0 white, 1 pink, 2 brown.

    White noise's spectrum is shaped by ``f^(-exponent / 2)``, flat below 20 Hz and zero at DC,
    and the result is scaled to unit variance on average.

    Args:
        n: Number of signals.
        length: Samples per signal.
        exponent: Spectral slope alpha (>= 0).
        sample_rate: Sample rate in Hz (places the 20 Hz floor).
        generator: Random source; its device is where the draws happen.
        device: Device of the result (default: the generator's, else the CPU).

    Returns:
        (n, length) float32 noise.
    """
    device = torch.device(device) if device is not None else _source(generator, torch.device("cpu"))
    size = _fft_size(length)
    white = _randn((n, size), generator, device)
    if exponent == 0:
        return white[:, :length]
    freqs = torch.fft.rfftfreq(size, d=1.0 / sample_rate, device=white.device)
    shape = freqs.clamp_min(_COLOUR_FLOOR_HZ).pow(-exponent / 2)
    shape[0] = 0.0
    shape = shape / shape.square().mean().sqrt()  # unit variance on average
    return torch.fft.irfft(torch.fft.rfft(white) * shape, n=size)[:, :length]


def babble_noise(waveforms: torch.Tensor, lengths: torch.Tensor, shifts: Sequence[int]) -> torch.Tensor:
    """Babble: item b gets the sum of items ``(b - s) mod B`` for ``s`` in ``shifts``, each at unit RMS.

    Args:
        waveforms: (B, T) waveforms, zero-padded.
        lengths: (B,) valid samples per item.
        shifts: Distinct shifts in [1, B - 1], so no item hears itself.

    Returns:
        (B, T) babble (silent where the summed items are).
    """
    rms = (_energy(waveforms) / lengths.to(waveforms).clamp_min(1)).sqrt()  # (B,), padding is zero
    unit = waveforms / rms.clamp_min(1e-8)[:, None]
    babble = torch.zeros_like(waveforms)
    for s in shifts:
        babble.add_(torch.roll(unit, int(s), dims=0))  # row b += unit[(b - s) mod B]
    return babble


def synthetic_rir(
    rt60: torch.Tensor, drr_db: torch.Tensor, sample_rate: int, generator: torch.Generator | None = None
) -> torch.Tensor:
    """Room impulse responses after Polack's statistical model: an impulse, then a decaying noise tail.

    ``h[0] = 1`` is the direct path; ``h[t] = e[t] 10^(-3 t / (RT60 fs))`` for t >= 1, with e
    Gaussian, so the level falls 60 dB in RT60 seconds; the tail is scaled so that direct over
    tail energy is ``drr_db``.

    Args:
        rt60: (N,) reverberation times in seconds (> 0).
        drr_db: (N,) direct-to-reverberant ratios in dB.
        sample_rate: Sample rate in Hz.
        generator: Random source (its device is where the draws happen).

    Returns:
        (N, L) float32 responses on ``rt60``'s device, L = ceil(max RT60 * sample_rate).
    """
    N, device = rt60.shape[0], rt60.device
    L = max(1, math.ceil(float(rt60.max()) * sample_rate)) if N else 1
    t = torch.arange(L, device=device, dtype=torch.float32)
    decay = torch.pow(10.0, -3 * t / (rt60.float()[:, None] * sample_rate))  # (N, L), -60 dB at RT60
    tail = _randn((N, L), generator, device) * decay
    tail[:, 0] = 0.0
    energy = tail.square().sum(-1, keepdim=True)
    tail = tail * (torch.pow(10.0, -drr_db.float()[:, None] / 10) / energy.clamp_min(_TINY)).sqrt()
    tail[:, 0] = 1.0
    return tail


def reverberate(waveforms: torch.Tensor, lengths: torch.Tensor, rirs: torch.Tensor) -> torch.Tensor:
    """Convolve each item with its RIR, keeping the first T samples and each item's energy.

    The direct path of :func:`synthetic_rir` sits at lag 0, so onsets do not move; the tail
    beyond an item's length is cut, so lengths do not change.

    Args:
        waveforms: (B, T) dry waveforms, zero-padded.
        lengths: (B,) valid samples per item.
        rirs: (B, L) impulse responses.

    Returns:
        (B, T) reverberant waveforms with the dry energy over the valid samples; padding zero.
    """
    B, T = waveforms.shape
    L = rirs.shape[-1]
    size = _fft_size(T + L - 1)
    padded = F.pad(waveforms, (0, size - L + 1 - T))  # the full convolution is then `size` long
    wet = AF.fftconvolve(padded, rirs.to(waveforms))[:, :T]
    mask = valid_mask(lengths.to(waveforms.device), T)
    wet = torch.where(mask, wet, 0.0)
    dry_energy = _energy(waveforms)  # padding is zero
    gain = (dry_energy / _energy(wet).clamp_min(_TINY)).sqrt()
    return wet * gain[:, None]


# Helpers ------------------------------------------------------------------------------------------
def _source(generator: torch.Generator | None, device: torch.device | None) -> torch.device | None:
    """Where draws happen: on the generator's device, else on ``device``."""
    return generator.device if generator is not None else device


def _randn(shape: tuple[int, ...], g: torch.Generator | None, device: torch.device | None) -> torch.Tensor:
    """Standard normal float32 draws, made on ``g``'s device (else ``device``) and moved to ``device``."""
    return torch.randn(shape, generator=g, device=_source(g, device)).to(device)


def _energy(x: torch.Tensor) -> torch.Tensor:
    """Sum of squares over the last axis: (B, T) -> (B,)."""
    return torch.linalg.vector_norm(x, dim=-1).square()


def _ratio(factor: float) -> tuple[int, int]:
    """A speed factor as (p, q) with p / q the nearest fraction whose denominator is at most 100."""
    if not factor > 0:
        raise ValueError(f"speed factors must be > 0, got {factor}")
    r = Fraction(factor).limit_denominator(_MAX_DENOMINATOR)
    return r.numerator, r.denominator


def _fft_size(n: int) -> int:
    """The smallest 2^a 3^b 5^c >= n (a size the FFT handles fast)."""
    best = 1 << max(n - 1, 0).bit_length()
    p5 = 1
    while p5 < best:
        p35 = p5
        while p35 < best:
            p = p35
            while p < n:
                p *= 2
            best = min(best, p)
            p35 *= 3
        p5 *= 5
    return best
