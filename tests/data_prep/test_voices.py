from __future__ import annotations

from pathlib import Path

import pytest
import torch

from data_prep import voices
from speech.errors import ConfigError


@pytest.mark.parametrize(
    "spec, engine, name, variant",
    [
        ("slt", "flite", "slt", None),
        ("kal16", "flite", "kal16", None),
        ("flite:awb", "flite", "awb", None),
        ("en-us+m3", "espeak", "en-us", "m3"),
        ("espeak:en-gb", "espeak", "en-gb", None),
        ("festival:ked_diphone", "festival", "ked_diphone", None),
        ("festival:ked", "festival", "ked_diphone", None),
        ("kal_diphone", "festival", "kal_diphone", None),
    ],
)
def test_parse_voice(spec: str, engine: str, name: str, variant: str | None) -> None:
    voice = voices.parse_voice(spec)
    assert (voice.engine, voice.name, voice.variant) == (engine, name, variant)
    if engine == "festival":
        assert voice.spec == f"festival:{name}" and voices.parse_voice(voice.spec) == voice
    else:
        assert voice.spec == spec.split(":")[-1]


@pytest.mark.parametrize("spec", ["kal", "", "nosuch:kal", "flite:", "festival:", "festival:Bad(voice)"])
def test_parse_voice_rejects(spec: str) -> None:
    with pytest.raises(ConfigError):
        voices.parse_voice(spec)


def test_festival_voice_needs_and_speaker() -> None:
    ked, kal = voices.parse_voice("festival:ked"), voices.parse_voice("festival:kal")
    assert ked.package["text2wave"] == "festival"
    assert "festvox-kdlpc16k" in ked.package.values() and "festvox-kallpc16k" in kal.package.values()
    assert kal.speaker_key == voices.parse_voice("kal16").speaker_key  # one recorded speaker
    assert ked.speaker_key != kal.speaker_key and ked.native_rate == 16000
    voices.check_voice(ked)


@pytest.mark.parametrize("spec", ["flite:nosuch", "en-xx+m3", "en-us+nosuch", "festival:nosuch"])
def test_check_voice_rejects_missing_voices(spec: str) -> None:
    with pytest.raises(ConfigError):
        voices.check_voice(voices.parse_voice(spec))


def test_normalize_words() -> None:
    assert voices.normalize_words("Twenty-one, he's!") == "twenty one hes"
    assert voices.normalize_words("twenty one he 's") == "twenty one hes"
    assert voices.normalize_words("Don't go.") == voices.normalize_words("dont go")


def test_spoken_mismatch() -> None:
    flite, espeak = voices.parse_voice("slt"), voices.parse_voice("en-us+m3")
    assert voices.spoken_mismatch(flite, "Mr. Smith came.", "mister smith came") is not None
    assert voices.spoken_mismatch(flite, "twenty-one", "twenty one") is None
    assert voices.spoken_mismatch(espeak, "one hundred and five", None) is None
    assert voices.spoken_mismatch(espeak, "It costs 5 dollars.", None) is not None
    assert voices.spoken_mismatch(espeak, "The USA is big.", None) is not None


def test_trim_silence() -> None:
    rate = 1000
    waveform = torch.cat([torch.zeros(500), torch.ones(300) * 0.5, torch.zeros(700)])
    trimmed = voices.trim_silence(waveform, rate, margin_s=0.1)
    assert trimmed.numel() == 300 + 2 * 100
    assert voices.trim_silence(torch.zeros(100), rate).numel() == 100


def test_source_rate_is_a_multiple_of_50() -> None:
    espeak = voices.parse_voice("en-us")
    assert voices.source_rate(espeak, 1.0) == 22050
    assert voices.source_rate(voices.parse_voice("slt"), 1.031) % 50 == 0


@pytest.mark.parametrize("spec", ["slt", "en-us+f3", "festival:ked"])
def test_render_and_finish(spec: str, tmp_path: Path) -> None:
    voice = voices.parse_voice(spec)
    plain = voices.render(voice, "twenty-one", 1.0, 1.0, tmp_path / "a.wav")
    fast = voices.render(voice, "twenty-one", 1.2, 1.0, tmp_path / "b.wav")
    assert not list(tmp_path.iterdir())
    assert plain.sample_rate == voice.native_rate
    assert fast.waveform.numel() < plain.waveform.numel()
    assert (plain.words == "twenty one") if voice.engine == "flite" else plain.words is None
    out = voices.finish(plain, voice, 1.05, 22050)
    assert out.abs().max().item() == pytest.approx(0.9, abs=1e-4)
    assert out.numel() < plain.waveform.numel() * 22050 / voice.native_rate


@pytest.mark.parametrize("spec", ["slt", "en-us+m3", "festival:ked"])
def test_prosody_changes_the_audio_deterministically(spec: str, tmp_path: Path) -> None:
    voice, text, path = voices.parse_voice(spec), "He settled down to work.", tmp_path / "x.wav"
    plain = voices.render(voice, text, 1.0, 1.0, path)
    lively = voices.render(voice, text, 1.0, 1.0, path, voices.Prosody(1.12, 1.25))
    again = voices.render(voice, text, 1.0, 1.0, path, voices.Prosody(1.12, 1.25))
    assert torch.equal(lively.waveform, again.waveform)
    assert not torch.equal(plain.waveform, lively.waveform)
    assert lively.words == plain.words


def test_espeak_pitch() -> None:
    assert voices.espeak_pitch(voices.NEUTRAL) == 50
    assert voices.espeak_pitch(voices.Prosody(1.15, 1.0)) == 65
    assert voices.espeak_pitch(voices.Prosody(0.2, 1.0)) == 0
    assert voices.espeak_pitch(voices.Prosody(1.9, 1.0)) == 99
