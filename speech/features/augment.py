"""Waveform-level training augmentation: speed, reverberation, additive noise and gain.

Applied on the training device, batched, before the log-mel front end (see
:class:`speech.tasks.asr.ASRTask`), so that a recognizer meets voices, tempos, levels, noises
and rooms it has not heard. Each transform is a pure function in :mod:`speech.features.perturb`
of a zero-padded batch (B, T), its per-item lengths (B,) and its random parameters;
:func:`augment` draws them from one ``torch.Generator`` and applies the enabled transforms in
the order speed -> reverberation -> noise -> gain. Padding stays zero, lengths are exact, and
the maths runs in float32 with autocast disabled. Masks are True for *valid* samples.

Reverberation uses a statistical room impulse response of our own (Polack's model: a
direct-path impulse at lag 0 followed by a Gaussian tail whose level falls 60 dB in RT60),
not pyroomacoustics. pyroomacoustics 0.10.1 does have a cp311 wheel, but its image-source
method runs on the CPU in NumPy: 45 ms per RIR at RT60 = 0.3 s and 1.2 s at RT60 = 0.8 s
(6 x 5 x 3 m room, one core), seconds per batch of 16 if done per utterance per step. It
would also draw outside the torch generator and add a compiled dependency. The statistical
model hits the drawn RT60 by construction, runs batched on any device (about 2 ms per 5 s
utterance on one CPU thread, the FFT convolution included), and is what a room's late
reverberation looks like on average; what it lacks (the discrete early reflections of one
geometry) matters little for robustness.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn

from speech.config import FieldError, check_list, check_positive, check_probability, field_error
from speech.features._masks import check_batch, check_lengths
from speech.features.perturb import (
    Augmented,
    _source,
    add_noise,
    apply_gain,
    babble_noise,
    coloured_noise,
    reverberate,
    speed_perturb,
    synthetic_rir,
)

NOISE_TYPES = ("white", "pink", "brown", "babble")
"""Noise types :class:`AugmentConfig` accepts."""
_EXPONENTS = {"white": 0.0, "pink": 1.0, "brown": 2.0}  # power spectral density ~ 1 / f^exponent


@dataclass(frozen=True)
class AugmentConfig:
    """Waveform augmentation policy; the defaults switch every transform off.

    Speed perturbation follows Ko et al. (2015, "Audio augmentation for speech recognition"),
    reverberation Ko et al. (2017, "A study on data augmentation of reverberant speech for
    robust speech recognition") with Polack's statistical RIR model instead of measured RIRs.

    Raises:
        speech.config.FieldError: From ``__post_init__`` (a ConfigError naming the field) for a
            factor, probability or range out of bounds, a range with low > high, or an unknown
            noise type.
    """

    speed_factors: tuple[float, ...] = (1.0,)
    """Speed factors in [0.5, 2], one drawn uniformly per utterance (Ko et al. 2015 use 0.9, 1.0, 1.1);
    factor f resamples n samples to ceil(n / f), changing tempo and pitch. (1.0,) is off."""
    gain_db: tuple[float, float] = (0.0, 0.0)
    """[low, high] of the per-utterance gain in dB, within [-40, 40]; (0, 0) is off."""
    noise_prob: float = 0.0
    """Probability that an utterance gets additive noise; 0 is off."""
    snr_db: tuple[float, float] = (5.0, 25.0)
    """[low, high] of the signal-to-noise ratio in dB, drawn uniformly per noisy utterance."""
    noise_types: tuple[str, ...] = NOISE_TYPES
    """Noises drawn uniformly per noisy utterance: ``white``, ``pink`` (1/f), ``brown`` (1/f^2),
    ``babble`` (other utterances of the batch; left out of the draw when the batch has one item)."""
    babble_speakers: int = 3
    """Other utterances summed into babble noise (at most B - 1)."""
    reverb_prob: float = 0.0
    """Probability that an utterance is reverberated; 0 is off."""
    rt60: tuple[float, float] = (0.2, 0.8)
    """[low, high] of the reverberation time in seconds, within (0, 2]."""
    drr_db: tuple[float, float] = (0.0, 10.0)
    """[low, high] of the direct-to-reverberant energy ratio of the simulated RIR in dB."""

    def __post_init__(self) -> None:
        check_list(self, "speed_factors", min_items=1, ge=0.5, le=2.0)
        _check_interval(self, "gain_db", ge=-40.0, le=40.0)
        _check_interval(self, "snr_db")
        _check_interval(self, "rt60", gt=0.0, le=2.0)
        _check_interval(self, "drr_db")
        check_probability(self, "noise_prob", "reverb_prob")
        check_positive(self, "babble_speakers")
        types = self.noise_types
        if not isinstance(types, list | tuple) or not types:
            raise field_error(self, "noise_types", f"must be a non-empty list of {', '.join(NOISE_TYPES)}")
        for i, name in enumerate(types):
            if name not in NOISE_TYPES:
                problem = f"must be one of {', '.join(NOISE_TYPES)}, got {name!r}"
                raise FieldError(f"noise_types[{i}]", problem, type(self).__name__)
        for name in ("speed_factors", "gain_db", "snr_db", "rt60", "drr_db"):
            object.__setattr__(self, name, tuple(float(v) for v in getattr(self, name)))
        object.__setattr__(self, "noise_types", tuple(types))

    @property
    def enabled(self) -> bool:
        """Whether any transform is on."""
        speed = any(f != 1.0 for f in self.speed_factors)
        return speed or self.gain_db != (0.0, 0.0) or self.noise_prob > 0 or self.reverb_prob > 0


def _check_interval(obj: AugmentConfig, name: str, **bounds: float) -> None:
    """Field ``name`` must be ``[low, high]``: two numbers within ``bounds`` with low <= high."""
    check_list(obj, name, min_items=2, **bounds)
    value = getattr(obj, name)
    if len(value) != 2 or value[0] > value[1]:
        raise field_error(obj, name, f"must be [low, high] with low <= high, got {list(value)}")


# The random policy ---------------------------------------------------------------------------------
def augment(
    waveforms: torch.Tensor,
    lengths: torch.Tensor,
    config: AugmentConfig,
    generator: torch.Generator | None = None,
    *,
    sample_rate: int,
) -> Augmented:
    """Apply the transforms ``config`` enables: speed, reverberation, noise, then gain.

    Per-utterance parameters are drawn on the generator's device (the CPU when ``generator`` is
    None, with noise tensors then drawn from the waveforms' device's default generator), so a
    seeded generator gives the same result on every call.

    Args:
        waveforms: (B, T) waveforms, zero-padded; any float dtype (the maths runs in float32).
        lengths: (B,) valid samples per item.
        config: The policy; when nothing is enabled the inputs come back unchanged.
        generator: Random source; None uses torch's default generators.
        sample_rate: Sample rate in Hz (RT60 and the coloured-noise floor are in seconds and Hz).

    Returns:
        Augmented: (B, T') waveforms in the input dtype, and (B,) lengths.
    """
    check_batch(waveforms, 2, "waveforms")
    B, T = waveforms.shape
    lengths = check_lengths(lengths, B, T, "lengths").to(waveforms.device)
    if not config.enabled or B == 0:
        return Augmented(waveforms, lengths)
    cpu = torch.device("cpu")
    with torch.autocast(waveforms.device.type, enabled=False):
        x = waveforms.float()
        if any(f != 1.0 for f in config.speed_factors):
            picks = _choices(B, len(config.speed_factors), generator)
            x, lengths = speed_perturb(x, lengths, [config.speed_factors[i] for i in picks])
        if config.reverb_prob > 0:
            x = _random_reverb(x, lengths, config, sample_rate, generator)
        if config.noise_prob > 0:
            x = _random_noise(x, lengths, config, sample_rate, generator)
        if config.gain_db != (0.0, 0.0):
            x = apply_gain(x, _uniform((B,), *config.gain_db, generator, cpu))
    return Augmented(x.to(waveforms.dtype), lengths)


class WaveAugment(nn.Module):
    """Waveform augmentation (:func:`augment`), active only in training mode.

    In eval mode, or when the config enables nothing, ``forward`` returns its inputs unchanged.

    Args:
        config: The policy; None switches everything off.
        sample_rate: Sample rate of the waveforms in Hz.
    """

    def __init__(self, config: AugmentConfig | None, sample_rate: int) -> None:
        super().__init__()
        self.config = config if config is not None else AugmentConfig()
        self.sample_rate = sample_rate

    def forward(
        self, waveforms: torch.Tensor, lengths: torch.Tensor, generator: torch.Generator | None = None
    ) -> Augmented:
        """Augment a padded batch (B, T) with lengths (B,) in training mode; identity otherwise."""
        if not self.training or not self.config.enabled:
            return Augmented(waveforms, lengths)
        return augment(waveforms, lengths, self.config, generator, sample_rate=self.sample_rate)

    def extra_repr(self) -> str:
        """Summary shown by ``repr(module)``."""
        return f"sample_rate={self.sample_rate}, {self.config!r}"


def _random_reverb(
    x: torch.Tensor, lengths: torch.Tensor, config: AugmentConfig, sample_rate: int, g: torch.Generator | None
) -> torch.Tensor:
    """Reverberate a random subset (probability ``reverb_prob``) with drawn RT60 and DRR."""
    rows = _bernoulli_rows(x.shape[0], config.reverb_prob, g)
    if not rows:
        return x
    cpu = torch.device("cpu")
    rt60 = _uniform((len(rows),), *config.rt60, g, cpu)
    drr = _uniform((len(rows),), *config.drr_db, g, cpu)
    rirs = synthetic_rir(rt60.to(x.device), drr.to(x.device), sample_rate, g)
    return _on_rows(x, lengths, rows, lambda sub, sub_lengths: reverberate(sub, sub_lengths, rirs))


def _random_noise(
    x: torch.Tensor, lengths: torch.Tensor, config: AugmentConfig, sample_rate: int, g: torch.Generator | None
) -> torch.Tensor:
    """Add noise of a drawn type at a drawn SNR to a random subset (probability ``noise_prob``)."""
    B, T = x.shape
    types = [t for t in config.noise_types if t != "babble" or B > 1]
    rows = _bernoulli_rows(B, config.noise_prob, g)
    if not rows or not types:
        return x
    kinds = _choices(len(rows), len(types), g)
    snr = _uniform((len(rows),), *config.snr_db, g, torch.device("cpu")).to(x.device)
    noise = x.new_empty(len(rows), T)  # every row gets a type below
    for k, name in enumerate(types):
        members = [j for j, kind in enumerate(kinds) if kind == k]
        if not members:
            continue
        if name == "babble":
            shifts = (_randperm(B - 1, g) + 1)[: config.babble_speakers].tolist()
            sources = torch.tensor([rows[j] for j in members], device=x.device)
            part = babble_noise(x, lengths, shifts)[sources]
        else:
            part = coloured_noise(len(members), T, _EXPONENTS[name], sample_rate, g, x.device)
        if len(members) == len(rows):
            noise = part
        else:
            noise[torch.tensor(members, device=x.device)] = part
    return _on_rows(x, lengths, rows, lambda sub, sub_lengths: add_noise(sub, sub_lengths, noise, snr))


# Helpers --------------------------------------------------------------------------------------------
def _on_rows(
    x: torch.Tensor,
    lengths: torch.Tensor,
    rows: list[int],
    fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
) -> torch.Tensor:
    """``x`` with ``fn(x[rows], lengths[rows])`` in those rows (no copies when every row is picked)."""
    if len(rows) == x.shape[0]:
        return fn(x, lengths)
    index = torch.tensor(rows, device=x.device)
    return x.index_copy(0, index, fn(x[index], lengths[index]))


def _uniform(
    shape: tuple[int, ...], low: float, high: float, g: torch.Generator | None, device: torch.device
) -> torch.Tensor:
    """Uniform [low, high) float32 draws, made on ``g``'s device (else ``device``) and moved to ``device``."""
    u = torch.rand(shape, generator=g, device=_source(g, device), dtype=torch.float64)
    return (low + (high - low) * u).float().to(device)


def _randperm(n: int, g: torch.Generator | None) -> torch.Tensor:
    """A random permutation of range(n) on the CPU."""
    return torch.randperm(n, generator=g, device=_source(g, torch.device("cpu"))).cpu()


def _choices(n: int, k: int, g: torch.Generator | None) -> list[int]:
    """``n`` indices drawn uniformly from range(k)."""
    u = _uniform((n,), 0.0, 1.0, g, torch.device("cpu"))
    return (u * k).long().clamp(max=k - 1).tolist()


def _bernoulli_rows(n: int, p: float, g: torch.Generator | None) -> list[int]:
    """The rows of range(n) picked, each with probability ``p``."""
    u = _uniform((n,), 0.0, 1.0, g, torch.device("cpu"))
    return [i for i, picked in enumerate((u < p).tolist()) if picked]
