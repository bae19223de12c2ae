from collections.abc import Callable

import numpy as np
import pytest
import torch


def _chirp_noise(sample_rate: int, seconds: float = 1.0, seed: int = 0) -> torch.Tensor:
    """Linear chirp from 100 Hz to 0.45 * sample_rate plus white noise, float32 (T,)."""
    n = int(sample_rate * seconds)
    t = np.arange(n) / sample_rate
    f1 = 0.45 * sample_rate
    phase = 2 * np.pi * (100.0 * t + (f1 - 100.0) * t**2 / (2 * seconds))
    noise = np.random.default_rng(seed).standard_normal(n)
    return torch.from_numpy((0.5 * np.sin(phase) + 0.05 * noise).astype(np.float32))


def _harmonic(sample_rate: int, seconds: float = 0.5, f0: float = 220.0) -> torch.Tensor:
    """Seven harmonics of f0 with 1/k amplitudes, float32 (T,)."""
    t = torch.arange(int(sample_rate * seconds), dtype=torch.float64) / sample_rate
    wave = sum(0.3 / k * torch.sin(2 * torch.pi * f0 * k * t) for k in range(1, 8))
    return wave.float()


@pytest.fixture
def chirp_noise() -> Callable[..., torch.Tensor]:
    return _chirp_noise


@pytest.fixture
def harmonic() -> Callable[..., torch.Tensor]:
    return _harmonic
