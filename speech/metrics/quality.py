"""Speech quality judged by independent models: DNSMOS naturalness and STOI intelligibility.

- **DNSMOS** (Reddy et al. 2021/2022, "DNSMOS P.835" and the P.808 model): Microsoft's
  non-intrusive MOS predictors, run with ONNX Runtime from the models the ``speechmos`` package
  ships (nothing is downloaded). P.808 is the overall MOS; OVRL, SIG and BAK are P.835's overall,
  signal and background scores. The models read 16 kHz audio, so the input is resampled, and it
  is peak-normalised first (synthesized and recorded audio differ in level; the scores should not).
- **STOI** (Taal et al. 2011, "An algorithm for intelligibility prediction of time-frequency
  weighted noisy speech"): an intrusive score in [0, 1] of a degraded signal against its clean
  reference, from ``pystoi``; here a vocoder's copy-synthesis against the recording.

Both are optional dependencies (``pip install 'speech[tts-score]'``); a missing one is a
one-line :class:`~speech.errors.SpeechError`.
"""

from __future__ import annotations

import importlib
from typing import NamedTuple

import numpy as np
import torch
import torchaudio

from speech.errors import SpeechError

DNSMOS_SAMPLE_RATE = 16000


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
    samples at the end); identical signals score 1.

    Args:
        reference: The clean recording.
        degraded: The signal judged (e.g. copy-synthesis from the recording's mels).
        sample_rate: Their sample rate (pystoi resamples to 10 kHz itself).
        extended: Extended STOI (Jensen and Taal 2016) instead.

    Raises:
        SpeechError: ``pystoi`` is missing, or the signals are not 1-D.
    """
    module = _require("pystoi", "STOI")
    for name, signal in (("reference", reference), ("degraded", degraded)):
        if signal.dim() != 1 or signal.numel() == 0:
            raise SpeechError(
                f"STOI: {name} must be a non-empty 1-D waveform, got shape {tuple(signal.shape)}"
            )
    n = min(reference.numel(), degraded.numel())
    clean = reference[:n].detach().double().cpu().numpy()
    judged = degraded[:n].detach().double().cpu().numpy()
    return float(module.stoi(clean, judged, sample_rate, extended=extended))
