import librosa
import numpy as np
import pytest
import torch

from speech.metrics import mean_mcd, mel_cepstral_distortion
from speech.metrics.mcd import stft_settings

_VOWELS = [(730, 1090, 2440), (270, 2290, 3010), (300, 870, 2240), (530, 1840, 2480)]  # a i u e


def _speech_like(sample_rate: int, seconds: float = 1.2, f0: float = 120.0) -> np.ndarray:
    """A harmonic signal whose formants move through four vowels, with a little noise."""
    t = np.arange(int(seconds * sample_rate)) / sample_rate
    segment = np.minimum((t / seconds * len(_VOWELS)).astype(int), len(_VOWELS) - 1)
    y = np.zeros_like(t)
    for k in range(1, int(sample_rate / 2 / f0)):
        freq = k * f0 * (1 + 0.03 * np.sin(2 * np.pi * 3 * t))
        amp = np.zeros_like(t)
        for i, formants in enumerate(_VOWELS):
            gain = sum(1.0 / (1.0 + ((k * f0 - f) / 80.0) ** 2) for f in formants) / k**0.5
            amp[segment == i] = gain
        y += amp * np.sin(2 * np.pi * np.cumsum(freq) / sample_rate)
    y += 0.001 * np.random.default_rng(0).standard_normal(len(t))
    return (0.5 * y / np.abs(y).max()).astype(np.float32)


@pytest.mark.parametrize(("sample_rate", "expected"), [(22050, (1024, 256)), (16000, (512, 128))])
def test_stft_settings(sample_rate, expected):
    assert stft_settings(sample_rate) == expected


@pytest.mark.parametrize("sample_rate", [16000, 22050])
def test_identical_signals_score_zero(sample_rate):
    y = _speech_like(sample_rate)
    assert mel_cepstral_distortion(y, y.copy(), sample_rate) == pytest.approx(0.0, abs=1e-9)
    assert mel_cepstral_distortion(torch.from_numpy(y), y, sample_rate) == pytest.approx(0.0, abs=1e-9)


def test_time_stretched_copy_is_close_and_noise_is_far():
    sr = 22050
    y = _speech_like(sr)
    stretched = librosa.effects.time_stretch(y, rate=0.8)
    noise = (0.1 * np.random.default_rng(1).standard_normal(len(y))).astype(np.float32)
    near = mel_cepstral_distortion(y, stretched, sr)
    far = mel_cepstral_distortion(y, noise, sr)
    assert near < 2.0
    assert far > 3 * near
    assert far > 4.0


def test_roughly_symmetric():
    sr = 16000
    y = _speech_like(sr)
    other = _speech_like(sr, seconds=1.0, f0=150.0)
    ab, ba = mel_cepstral_distortion(y, other, sr), mel_cepstral_distortion(other, y, sr)
    assert ab > 0
    assert ab == pytest.approx(ba, rel=0.1)


def test_mean_mcd():
    sr = 16000
    y = _speech_like(sr)
    other = _speech_like(sr, f0=150.0)
    pairs = [(y, y), (y, other)]
    assert mean_mcd(pairs, sr) == pytest.approx(mel_cepstral_distortion(y, other, sr) / 2)
    with pytest.raises(ValueError):
        mean_mcd([], sr)


@pytest.mark.parametrize("bad", [np.zeros(0, np.float32), np.zeros((2, 100), np.float32)])
def test_bad_signals_raise(bad):
    with pytest.raises(ValueError):
        mel_cepstral_distortion(bad, np.ones(1000, np.float32), 16000)
