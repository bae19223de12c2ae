"""Audio I/O: mono float32 waveforms via soundfile, resampling via torchaudio."""

from speech.audio.io import AudioInfo, available_formats, info, load, load_with_rate, resample, save
from speech.errors import AudioError

__all__ = [
    "AudioError",
    "AudioInfo",
    "available_formats",
    "info",
    "load",
    "load_with_rate",
    "resample",
    "save",
]
