"""Feature extraction shared by ASR, TTS and speech translation.

Log-mel front end (:class:`LogMel`), global CMVN (:class:`GlobalCMVN`), SpecAugment
(:class:`SpecAugment`), waveform augmentation (:class:`WaveAugment`: speed, reverberation,
noise, gain) and the default Griffin-Lim vocoder (:class:`MelInverter`). Tensors are
batch-first (B, T, F) with per-item ``*_lengths``; masks use True for valid positions.

The waveform policy function is ``speech.features.augment.augment`` (not re-exported here, where
the name would hide its module).
"""

from speech.features.augment import NOISE_TYPES, AugmentConfig, WaveAugment
from speech.features.cmvn import CMVNStats, GlobalCMVN, compute_cmvn_stats
from speech.features.config import LogMelConfig
from speech.features.logmel import LogMel, LogMelOutput, log_mel, mel_filterbank, stft_window
from speech.features.perturb import (
    Augmented,
    add_noise,
    apply_gain,
    babble_noise,
    coloured_noise,
    reverberate,
    speed_perturb,
    synthetic_rir,
)
from speech.features.specaugment import SpecAugment, SpecAugmentConfig, spec_augment
from speech.features.vocoder import MelInverter, Vocoder, VocoderOutput, griffin_lim, mel_to_linear

__all__ = [
    "NOISE_TYPES",
    "AugmentConfig",
    "Augmented",
    "CMVNStats",
    "GlobalCMVN",
    "LogMel",
    "LogMelConfig",
    "LogMelOutput",
    "MelInverter",
    "SpecAugment",
    "SpecAugmentConfig",
    "Vocoder",
    "VocoderOutput",
    "WaveAugment",
    "add_noise",
    "apply_gain",
    "babble_noise",
    "coloured_noise",
    "compute_cmvn_stats",
    "griffin_lim",
    "log_mel",
    "mel_filterbank",
    "mel_to_linear",
    "reverberate",
    "spec_augment",
    "speed_perturb",
    "stft_window",
    "synthetic_rir",
]
