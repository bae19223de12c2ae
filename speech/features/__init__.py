"""Feature extraction shared by ASR, TTS and speech translation.

Log-mel front end (:class:`LogMel`), global CMVN (:class:`GlobalCMVN`), SpecAugment
(:class:`SpecAugment`) and the default Griffin-Lim vocoder (:class:`MelInverter`). Tensors are
batch-first (B, T, F) with per-item ``*_lengths``; masks use True for valid positions.
"""

from speech.features.cmvn import CMVNStats, GlobalCMVN, compute_cmvn_stats
from speech.features.config import LogMelConfig
from speech.features.logmel import LogMel, LogMelOutput, log_mel, mel_filterbank, stft_window
from speech.features.specaugment import SpecAugment, SpecAugmentConfig, spec_augment
from speech.features.vocoder import MelInverter, Vocoder, VocoderOutput, griffin_lim, mel_to_linear

__all__ = [
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
    "compute_cmvn_stats",
    "griffin_lim",
    "log_mel",
    "mel_filterbank",
    "mel_to_linear",
    "spec_augment",
    "stft_window",
]
