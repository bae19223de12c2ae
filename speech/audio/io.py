"""Audio I/O through soundfile, resampling through torchaudio."""

from __future__ import annotations

import os
import re
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple

import numpy as np
import soundfile as sf
import torch
import torchaudio.functional as AF

from speech.errors import AudioError
from speech.io import atomic_path


class AudioInfo(NamedTuple):
    """Header facts of an audio file."""

    sample_rate: int
    frames: int
    channels: int

    @property
    def duration(self) -> float:
        """Duration in seconds."""
        return self.frames / self.sample_rate


def info(path: str | os.PathLike) -> AudioInfo:
    """Read an audio file's header.

    Raises:
        AudioError: The file is missing or not a readable audio file.
    """
    i = _sf_info(path)
    return AudioInfo(int(i.samplerate), int(i.frames), int(i.channels))


def _sf_info(path: str | os.PathLike) -> sf._SoundFileInfo:
    _check_exists(path)
    try:
        return sf.info(str(path))
    except (sf.LibsndfileError, RuntimeError, TypeError) as e:
        raise AudioError(f"{path}: not a readable audio file ({_reason(e)})") from None


def load(path: str | os.PathLike, sample_rate: int | None = None) -> torch.Tensor:
    """Load a file as a mono float32 waveform in [-1, 1].

    Args:
        path: wav, flac, ogg (and mp3 where libsndfile supports it).
        sample_rate: Resample to this rate; ``None`` keeps the file's rate.

    Returns:
        Waveform of shape (T,). Multi-channel audio is averaged to mono.

    Raises:
        AudioError: Naming the path and the problem: missing, not audio, truncated,
            zero-length, or containing NaN/Inf samples.
    """
    waveform, rate = load_with_rate(path)
    if sample_rate is not None and rate != sample_rate:
        waveform = resample(waveform, rate, sample_rate)
    return waveform


def load_with_rate(path: str | os.PathLike) -> tuple[torch.Tensor, int]:
    """Like :func:`load` without resampling; returns ``(waveform (T,), sample_rate)``."""
    header = _sf_info(path)
    try:
        data, rate = sf.read(str(path), dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError, TypeError, ValueError) as e:
        raise AudioError(f"{path}: corrupt or truncated audio data ({_reason(e)})") from None
    if data.shape[0] == 0:
        raise AudioError(f"{path}: audio file has no samples")
    _check_complete(path, data.shape[0], header)
    mono = data.mean(axis=1) if data.shape[1] > 1 else data[:, 0]
    if not np.isfinite(mono).all():
        raise AudioError(f"{path}: audio contains NaN or Inf samples")
    return torch.from_numpy(np.ascontiguousarray(mono)), int(rate)


def check_audio_format(path: str | os.PathLike) -> Path:
    """Make sure :func:`save` can write the format that ``path``'s extension names.

    Raises:
        AudioError: The extension is not an audio format libsndfile writes.
    """
    path = Path(path)
    fmt = path.suffix.lstrip(".").upper() or "WAV"
    if fmt not in sf.available_formats():
        known = ", ".join(
            sorted(f.lower() for f in ("WAV", "FLAC", "OGG", "MP3") if f in sf.available_formats())
        )
        raise AudioError(f"{path}: cannot write audio in the '{path.suffix}' format (use {known})")
    return path


def save(
    path: str | os.PathLike, waveform: torch.Tensor | np.ndarray, sample_rate: int, subtype: str = "PCM_16"
) -> None:
    """Write a mono waveform atomically (a temporary file renamed onto ``path``).

    Args:
        path: Destination; the format follows its extension (wav, flac, ogg).
        waveform: Shape (T,), float in [-1, 1]; values outside are clipped.
        sample_rate: Sample rate in Hz.
        subtype: soundfile subtype, e.g. ``"PCM_16"`` or ``"FLOAT"``.
    """
    if isinstance(waveform, torch.Tensor):
        waveform = waveform.detach().float().cpu().numpy()
    data = np.clip(np.asarray(waveform, dtype=np.float32).reshape(-1), -1.0, 1.0)
    path = Path(path)
    fmt = path.suffix.lstrip(".").upper() or "WAV"
    subtype = {"OGG": "VORBIS", "MP3": "MPEG_LAYER_III"}.get(fmt, subtype)
    try:
        with atomic_path(path) as tmp:
            sf.write(str(tmp), data, sample_rate, subtype=subtype, format=fmt)
    except (sf.LibsndfileError, RuntimeError, ValueError, TypeError) as e:
        raise AudioError(f"{path}: cannot write audio ({_reason(e)})") from None
    except OSError as e:
        raise AudioError(f"{path}: cannot write audio ({e.strerror or e})") from None


def resample(waveform: torch.Tensor, orig_rate: int, new_rate: int) -> torch.Tensor:
    """Band-limited resampling (torchaudio's windowed sinc); shape (..., T) -> (..., T')."""
    if orig_rate == new_rate:
        return waveform
    return AF.resample(waveform, orig_rate, new_rate)


@lru_cache(maxsize=1)
def available_formats() -> frozenset[str]:
    """Container formats this libsndfile build can read, e.g. ``{"WAV", "FLAC", "OGG", "MP3"}``."""
    return frozenset(sf.available_formats())


def _check_exists(path: str | os.PathLike) -> None:
    p = Path(path)
    if not p.exists():
        raise AudioError(f"{path}: no such file")
    if not p.is_file():
        raise AudioError(f"{path}: not a file")
    if p.stat().st_size == 0:
        raise AudioError(f"{path}: empty file")


_DATA_SIZE = re.compile(r"^data\s*:\s*(\d+)\s*\(should be (\d+)\)", re.MULTILINE)
_STREAMING_SIZES = {0, 0x7FFFFFFF, 0xFFFFFFFF}  # placeholders written by streaming WAV writers


def _check_complete(path: str | os.PathLike, frames_read: int, header: sf._SoundFileInfo) -> None:
    """Raise if fewer frames were read than the header promises (a truncated download or copy)."""
    if header.frames and frames_read < header.frames:
        raise AudioError(f"{path}: truncated audio ({frames_read} of {header.frames} frames)")
    match = _DATA_SIZE.search(header.extra_info)
    if match:
        declared, actual = int(match.group(1)), int(match.group(2))
        if declared not in _STREAMING_SIZES and declared > actual:
            raise AudioError(
                f"{path}: truncated audio (the header declares {declared} bytes, the file has {actual})"
            )


def _reason(e: Exception) -> str:
    text = str(e).strip().splitlines()[-1] if str(e).strip() else e.__class__.__name__
    return text.replace(str(getattr(e, "filename", "")), "").strip(" :") or e.__class__.__name__
