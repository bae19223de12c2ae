"""Speech quality judged by independent models: DNSMOS naturalness, STOI and PESQ fidelity.

- **DNSMOS** (Reddy et al. 2021/2022, "DNSMOS P.835" and the P.808 model): Microsoft's
  non-intrusive MOS predictors, run with ONNX Runtime from the models the ``speechmos`` package
  ships (nothing is downloaded). P.808 is the overall MOS; OVRL, SIG and BAK are P.835's overall,
  signal and background scores. The models read 16 kHz audio, so the input is resampled, and it
  is peak-normalised first (synthesized and recorded audio differ in level; the scores should not).
- **STOI** (Taal et al. 2011, "An algorithm for intelligibility prediction of time-frequency
  weighted noisy speech"): an intrusive score in [0, 1] of a degraded signal against its clean
  reference, from ``pystoi``; here a vocoder's copy-synthesis against the recording.
- **PESQ** (ITU-T P.862.2, the wide-band extension of P.862): an intrusive MOS-LQO of a degraded
  signal against its reference, from 1.04 to 4.64 (identical signals), from the ``pesq`` package
  at 16 kHz (both signals are resampled and peak-normalised as for DNSMOS; PESQ aligns levels
  and delays itself).

All three are optional dependencies (``pip install 'speech[tts-score]'``; ``pesq`` is built from
source and needs a C compiler); a missing one is a one-line :class:`~speech.errors.SpeechError`.
STOI and PESQ compare time-aligned signals, so they are defined for copy-synthesis (the
recording's own mels turned back into audio), not for speech synthesized from text.
"""

from __future__ import annotations

import importlib
import math
import warnings
from typing import NamedTuple

import numpy as np
import torch
import torchaudio

from speech.errors import SpeechError

DNSMOS_SAMPLE_RATE = 16000
PESQ_SAMPLE_RATE = 16000
"""Wide-band PESQ's rate (P.862.2 is defined at 16 kHz)."""
PESQ_MAX = 4.643888
"""Wide-band PESQ of identical signals (the top of its MOS-LQO mapping)."""


class DNSMOSScores(NamedTuple):
    """DNSMOS predictions of one recording (1 = bad, 5 = excellent)."""

    p808: float
    ovrl: float
    sig: float
    bak: float


def _require(module: str, what: str):
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as e:
        raise SpeechError(f"{what} needs {e.name}: pip install 'speech[tts-score]'") from None


def _peak_normalized(waveform: torch.Tensor, sample_rate: int, target_rate: int) -> np.ndarray:
    """``waveform`` (T,) resampled to ``target_rate`` and scaled to a peak of 0.99, as float32 NumPy."""
    if waveform.dim() != 1 or waveform.numel() == 0:
        raise SpeechError(f"expected a non-empty 1-D waveform, got shape {tuple(waveform.shape)}")
    waveform = waveform.detach().float().cpu()
    if sample_rate != target_rate:
        waveform = torchaudio.functional.resample(waveform, sample_rate, target_rate)
    peak = waveform.abs().max()
    if peak > 0:
        waveform = waveform * (0.99 / peak)
    return waveform.numpy()


def dnsmos(waveform: torch.Tensor, sample_rate: int) -> DNSMOSScores:
    """DNSMOS P.808 and P.835 (OVRL, SIG, BAK) of one waveform (T,) at ``sample_rate``.

    Inputs shorter than the models' 9 s window are repeated to fill it, as DNSMOS does.

    Raises:
        SpeechError: ``speechmos`` or ``onnxruntime`` is missing, or the waveform is not 1-D.
    """
    module = _require("speechmos.dnsmos", "DNSMOS")
    audio = _peak_normalized(waveform, sample_rate, DNSMOS_SAMPLE_RATE)
    scores = module.run(audio, DNSMOS_SAMPLE_RATE)
    return DNSMOSScores(
        p808=float(scores["p808_mos"]),
        ovrl=float(scores["ovrl_mos"]),
        sig=float(scores["sig_mos"]),
        bak=float(scores["bak_mos"]),
    )


def stoi(reference: torch.Tensor, degraded: torch.Tensor, sample_rate: int, extended: bool = False) -> float:
    """STOI of ``degraded`` against ``reference`` (both (T,) at ``sample_rate``), in [0, 1].

    The longer signal is cut to the shorter one's length (a vocoder may add or drop a few
    samples at the end); identical signals score 1. A pair with too little speech left after
    pystoi drops the silent frames (fewer than its 30 frames of 384 ms) has no STOI: NaN, where
    pystoi would warn and return 1e-5 as if the signal were unintelligible.

    Args:
        reference: The clean recording.
        degraded: The signal judged (e.g. copy-synthesis from the recording's mels).
        sample_rate: Their sample rate (pystoi resamples to 10 kHz itself).
        extended: Extended STOI (Jensen and Taal 2016) instead.

    Raises:
        SpeechError: ``pystoi`` is missing, or the signals are not 1-D.
    """
    module = _require("pystoi", "STOI")
    _check_pair("STOI", reference, degraded)
    n = min(reference.numel(), degraded.numel())
    clean = reference[:n].detach().double().cpu().numpy()
    judged = degraded[:n].detach().double().cpu().numpy()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        value = float(module.stoi(clean, judged, sample_rate, extended=extended))
    if any("Not enough STFT frames" in str(w.message) for w in caught):
        return math.nan
    return value


def pesq_available() -> bool:
    """Whether the ``pesq`` package can be imported (it is built from source)."""
    try:
        importlib.import_module("pesq")
    except ImportError:
        return False
    return True


def pesq_wb(reference: torch.Tensor, degraded: torch.Tensor, sample_rate: int) -> float:
    """Wide-band PESQ (P.862.2) of ``degraded`` against ``reference`` (both (T,) at ``sample_rate``).

    Both are resampled to 16 kHz and peak-normalised, and the longer one is cut to the shorter
    one's length, as for :func:`stoi`; identical signals score :data:`PESQ_MAX`.

    Args:
        reference: The clean recording.
        degraded: The signal judged (e.g. copy-synthesis from the recording's mels).
        sample_rate: Their sample rate.

    Returns:
        MOS-LQO from 1.04 (bad) to 4.64.

    Raises:
        SpeechError: ``pesq`` is missing; the signals are not 1-D, are shorter than PESQ's
            0.25 s, the reference holds no speech PESQ detects, or the degraded one is silent.
    """
    module = _require("pesq", "PESQ")
    _check_pair("PESQ", reference, degraded)
    n = min(reference.numel(), degraded.numel())
    clean = _peak_normalized(reference[:n], sample_rate, PESQ_SAMPLE_RATE)
    judged = _peak_normalized(degraded[:n], sample_rate, PESQ_SAMPLE_RATE)
    if not np.any(judged):
        raise SpeechError("PESQ: the degraded signal is silent")
    try:
        return float(module.pesq(PESQ_SAMPLE_RATE, clean, judged, "wb"))
    except module.PesqError as e:  # the C library's reason, as bytes
        reason = e.args[0].decode(errors="replace") if e.args and isinstance(e.args[0], bytes) else str(e)
        raise SpeechError(f"PESQ: {reason}") from None


def _check_pair(what: str, reference: torch.Tensor, degraded: torch.Tensor) -> None:
    for name, signal in (("reference", reference), ("degraded", degraded)):
        if signal.dim() != 1 or signal.numel() == 0:
            raise SpeechError(
                f"{what}: {name} must be a non-empty 1-D waveform, got shape {tuple(signal.shape)}"
            )
