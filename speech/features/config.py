"""Feature configuration shared by ASR, TTS and speech translation: one dataclass, two presets."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from speech.config import check_choice, check_finite, check_positive, check_range, field_error
from speech.errors import ConfigError


@dataclass(frozen=True)
class LogMelConfig:
    """Parameters of the log-mel front end (:class:`speech.features.LogMel`).

    The defaults are the ASR preset. Filterbank defaults (Slaney mel scale, Slaney area
    normalisation) match ``librosa.feature.melspectrogram``; the STFT is centred with zero
    padding (``center=True, pad_mode="constant"``) and a periodic Hann window.

    Raises:
        speech.config.FieldError: From ``__post_init__`` when a value is out of range or of the
            wrong type (a :class:`ConfigError` naming the field, e.g. ``'LogMelConfig.n_fft'``).
    """

    sample_rate: int = 16000
    """Sample rate of the input waveforms in Hz."""
    n_fft: int = 512
    """FFT size; the spectrum has ``n_fft // 2 + 1`` bins."""
    win_length: int = 400
    """Hann window length in samples (zero-padded to ``n_fft``); at most ``n_fft``."""
    hop_length: int = 160
    """Frame shift in samples; an item of ``n`` samples gives ``1 + n // hop_length`` frames."""
    n_mels: int = 80
    """Number of mel bins F."""
    f_min: float = 0.0
    """Lowest filterbank frequency in Hz."""
    f_max: float | None = None
    """Highest filterbank frequency in Hz; ``None`` means ``sample_rate / 2``."""
    power: float = 2.0
    """Exponent of the magnitude spectrum: 1.0 (magnitude) or 2.0 (power)."""
    log_floor: float = 1e-5
    """Features are ``ln(max(mel, log_floor))``."""
    mel_norm: str | None = "slaney"
    """Filter normalisation: ``"slaney"`` (unit area, librosa's default) or ``None`` (unit peak)."""
    mel_scale: str = "slaney"
    """Mel scale: ``"slaney"`` (librosa's default) or ``"htk"``."""

    def __post_init__(self) -> None:
        check_positive(self, "sample_rate", "n_fft", "win_length", "hop_length", "n_mels", "log_floor")
        check_finite(self, "f_min", "f_max", "power")  # numbers, stored as floats
        if self.win_length > self.n_fft:
            raise field_error(self, "win_length", f"must be <= n_fft ({self.n_fft}), got {self.win_length}")
        if self.n_mels > self.n_freqs:
            raise field_error(self, "n_mels", f"must be <= the {self.n_freqs} FFT bins, got {self.n_mels}")
        check_range(self, "f_min", ge=0)
        nyquist = self.sample_rate / 2
        if self.f_max is not None and not self.f_min < self.f_max <= nyquist:
            problem = f"must be in (f_min, sample_rate / 2] = ({self.f_min:g}, {nyquist:g}]"
            problem += f", got {self.f_max:g}"
            raise field_error(self, "f_max", problem)
        if self.f_min >= self.max_frequency:
            raise field_error(self, "f_min", f"must be < sample_rate / 2 = {nyquist:g}, got {self.f_min:g}")
        check_choice(self, "power", (1.0, 2.0))
        check_choice(self, "mel_norm", ("slaney", None))
        check_choice(self, "mel_scale", ("slaney", "htk"))

    @property
    def n_freqs(self) -> int:
        """Number of linear-frequency bins, ``n_fft // 2 + 1``."""
        return self.n_fft // 2 + 1

    @property
    def max_frequency(self) -> float:
        """``f_max`` with ``None`` resolved to ``sample_rate / 2``."""
        return self.sample_rate / 2 if self.f_max is None else self.f_max

    def num_frames(self, n_samples: int) -> int:
        """Frames produced for ``n_samples`` samples: ``1 + n_samples // hop_length``."""
        return 1 + n_samples // self.hop_length

    @classmethod
    def asr(cls, **overrides: Any) -> LogMelConfig:
        """ASR / speech-translation preset: 16 kHz, 25 ms window, 10 ms hop, 80 mels, power spectrum."""
        base = cls(sample_rate=16000, n_fft=512, win_length=400, hop_length=160, n_mels=80, power=2.0)
        return dataclasses.replace(base, **overrides)

    @classmethod
    def tts(cls, **overrides: Any) -> LogMelConfig:
        """Tacotron2 preset: 22.05 kHz, 1024-point window, hop 256, 80 mels in 0-8 kHz, magnitude."""
        base = cls(
            sample_rate=22050,
            n_fft=1024,
            win_length=1024,
            hop_length=256,
            n_mels=80,
            f_min=0.0,
            f_max=8000.0,
            power=1.0,
        )
        return dataclasses.replace(base, **overrides)

    def to_dict(self) -> dict[str, Any]:
        """Plain dict of the fields (JSON/YAML serialisable), for checkpoints."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LogMelConfig:
        """Inverse of :meth:`to_dict`; missing fields take their defaults.

        Raises:
            ConfigError: ``data`` is not a mapping, has unknown keys, or holds invalid values.
        """
        if not isinstance(data, dict):
            raise ConfigError(f"LogMelConfig.from_dict expects a mapping, got {type(data).__name__}")
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ConfigError(f"LogMelConfig: unknown field(s) {', '.join(unknown)}")
        return cls(**data)
