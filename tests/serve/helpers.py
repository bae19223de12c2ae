"""WAV bytes for the serve tests."""

from __future__ import annotations

import io

import numpy as np
import soundfile as sf


def wav_bytes(seconds: float = 1.0, rate: int = 16000, fmt: str = "WAV", seed: int = 0) -> bytes:
    """Quiet noise as an audio file's bytes."""
    buf = io.BytesIO()
    samples = np.random.default_rng(seed).uniform(-0.3, 0.3, int(seconds * rate)).astype(np.float32)
    sf.write(buf, samples, rate, format=fmt, subtype="PCM_16")
    return buf.getvalue()
