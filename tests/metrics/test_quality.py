"""DNSMOS and STOI on known cases: identical signals, added noise, a missing package."""

from __future__ import annotations

import sys

import pytest
import torch

from speech.audio import load
from speech.errors import SpeechError
from speech.metrics.quality import dnsmos, stoi
from tests.metrics.flite import render


@pytest.fixture(scope="module")
def speech_wave(tmp_path_factory) -> tuple[torch.Tensor, int]:
    folder = render(tmp_path_factory.mktemp("flite"))
    return load(folder.parent / "fox.wav", 16000), 16000  # render() returns the manifest


def test_stoi_is_one_for_identical_signals_and_falls_with_noise(speech_wave):
    wave, sr = speech_wave
    assert stoi(wave, wave.clone(), sr) == pytest.approx(1.0, abs=1e-6)
    noise = torch.randn(wave.shape, generator=torch.Generator().manual_seed(0))
    noisy = wave + 0.5 * wave.abs().max() * noise
    score = stoi(wave, noisy, sr)
    assert 0.0 < score < 0.9
    assert stoi(wave, torch.cat([wave, torch.zeros(80)]), sr) == pytest.approx(1.0, abs=1e-6)  # cut to length


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
    with pytest.raises(SpeechError, match="1-D waveform"):
        dnsmos(wave[None], sr)
