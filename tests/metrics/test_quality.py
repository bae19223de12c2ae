"""DNSMOS, STOI and PESQ on known cases: identical signals, added noise, a missing package."""

from __future__ import annotations

import math
import sys

import pytest
import torch

from speech.audio import load, resample
from speech.errors import SpeechError
from speech.metrics.quality import PESQ_MAX, dnsmos, pesq_wb, stoi
from tests.metrics.flite import render


@pytest.fixture(scope="module")
def speech_wave(tmp_path_factory) -> tuple[torch.Tensor, int]:
    folder = render(tmp_path_factory.mktemp("flite"))
    return load(folder.parent / "fox.wav", 16000), 16000  # render() returns the manifest


def test_stoi_and_pesq_are_at_their_top_for_identical_signals_and_fall_with_noise(speech_wave):
    wave, sr = speech_wave
    assert stoi(wave, wave.clone(), sr) == pytest.approx(1.0, abs=1e-6)
    noise = torch.randn(wave.shape, generator=torch.Generator().manual_seed(0))
    noisy = wave + 0.5 * wave.abs().max() * noise
    score = stoi(wave, noisy, sr)
    assert 0.0 < score < 0.9
    assert stoi(wave, torch.cat([wave, torch.zeros(80)]), sr) == pytest.approx(1.0, abs=1e-6)  # cut to length
    pytest.importorskip("pesq")
    assert PESQ_MAX == pytest.approx(4.64, abs=0.01)
    assert pesq_wb(wave, wave.clone(), sr) == pytest.approx(PESQ_MAX, abs=1e-3)
    assert 1.0 < pesq_wb(wave, noisy, sr) < 1.5
    quieter_longer = 0.1 * torch.cat([wave, torch.zeros(80)])  # levels do not count; cut to length
    assert pesq_wb(wave, quieter_longer, sr) == pytest.approx(PESQ_MAX, abs=1e-3)
    wave22 = resample(wave, sr, 22050)  # resampled to 16 kHz
    assert pesq_wb(wave22, wave22.clone(), 22050) == pytest.approx(PESQ_MAX, abs=1e-3)


def test_dnsmos_scores_clean_speech_above_the_same_speech_in_noise(speech_wave):
    wave, sr = speech_wave
    clean = dnsmos(wave, sr)
    noise = torch.randn(wave.shape, generator=torch.Generator().manual_seed(0))
    noisy = dnsmos(wave + 0.3 * wave.abs().max() * noise, sr)
    assert all(1.0 <= v <= 5.0 for v in clean)
    assert noisy.p808 < clean.p808 and noisy.ovrl < clean.ovrl and noisy.bak < clean.bak
    assert dnsmos(0.1 * wave, sr) == pytest.approx(clean, abs=1e-4)  # peak-normalised: level does not count


def test_a_missing_package_or_a_bad_signal_is_one_line(monkeypatch, speech_wave):
    wave, sr = speech_wave
    monkeypatch.setitem(sys.modules, "pystoi", None)
    with pytest.raises(SpeechError, match=r"^STOI needs pystoi: pip install 'speech\[tts-score\]'$"):
        stoi(wave, wave, sr)
    monkeypatch.setitem(sys.modules, "pesq", None)
    with pytest.raises(SpeechError, match=r"^PESQ needs pesq: pip install 'speech\[tts-score\]'$"):
        pesq_wb(wave, wave, sr)
    with pytest.raises(SpeechError, match="1-D waveform"):
        dnsmos(wave[None], sr)


@pytest.mark.parametrize(
    ("reference", "degraded", "problem"),
    [
        ("speech", "silence", "PESQ: the degraded signal is silent"),
        ("silence", "speech", "PESQ: No utterances detected"),
        ("short", "short", "PESQ: Buffer needs to be at least 1/4 of a second long"),
        ("speech", "2-D", "PESQ: degraded must be a non-empty 1-D waveform, got shape (1, "),
    ],
)
def test_signals_pesq_cannot_score_are_one_line(speech_wave, reference, degraded, problem):
    pytest.importorskip("pesq")
    wave, sr = speech_wave
    signals = {"speech": wave, "silence": torch.zeros_like(wave), "short": wave[:1000], "2-D": wave[None]}
    with pytest.raises(SpeechError) as e:
        pesq_wb(signals[reference], signals[degraded], sr)
    assert str(e.value).startswith(problem) and "\n" not in str(e.value)


def test_stoi_is_nan_when_too_little_speech_is_left(speech_wave):
    wave, rate = speech_wave
    short = wave[: int(0.2 * rate)]  # under pystoi's 30 frames of 12.8 ms
    assert math.isnan(stoi(short, short, rate))
