import numpy as np
import pytest
import soundfile as sf
import torch

from speech.audio import AudioError, available_formats, info, load, load_with_rate, save
from tests.conftest import write_tone


def test_load_mono_float32_and_downmix(tmp_path):
    data = write_tone(tmp_path / "st.wav", 0.25, 16000, channels=2)
    wav = load(tmp_path / "st.wav")
    assert wav.dtype == torch.float32 and wav.shape == (4000,)
    np.testing.assert_allclose(wav.numpy(), data.mean(axis=1), atol=1e-4)
    assert info(tmp_path / "st.wav").channels == 2


def test_resample_on_load(tmp_path):
    write_tone(tmp_path / "a.wav", 0.5, 22050)
    wav = load(tmp_path / "a.wav", sample_rate=16000)
    assert abs(wav.shape[0] - 8000) <= 1
    same, rate = load_with_rate(tmp_path / "a.wav")
    assert rate == 22050 and same.shape == (11025,)


@pytest.mark.parametrize("ext", ["wav", "flac", "ogg"])
def test_save_load_round_trip(tmp_path, ext):
    t = torch.linspace(0, 1, 16000)
    wav = 0.5 * torch.sin(2 * torch.pi * 300 * t)
    save(tmp_path / f"x.{ext}", wav, 16000)
    back = load(tmp_path / f"x.{ext}")
    assert back.shape == wav.shape
    tolerance = 0.05 if ext == "ogg" else 1e-3
    assert (back - wav).abs().max() < tolerance
    assert [p.name for p in tmp_path.iterdir()] == [f"x.{ext}"]  # no temporary file left


def test_mp3_when_supported(tmp_path):
    if "MP3" not in available_formats():
        pytest.skip("this libsndfile has no MP3 support")
    save(tmp_path / "x.mp3", torch.zeros(1600) + 0.1, 16000)
    assert load(tmp_path / "x.mp3").numel() > 0


def test_bad_files_raise_audio_error_naming_path(tmp_path):
    cases = {}
    cases["missing"] = (tmp_path / "missing.wav", "no such file")
    (tmp_path / "empty.wav").write_bytes(b"")
    cases["empty"] = (tmp_path / "empty.wav", "empty file")
    (tmp_path / "text.wav").write_text("this is not audio at all, just text\n" * 10)
    cases["text"] = (tmp_path / "text.wav", "not a readable audio file")
    sf.write(str(tmp_path / "zero.wav"), np.zeros((0, 1), dtype=np.float32), 16000)
    cases["zero"] = (tmp_path / "zero.wav", "no samples")
    sf.write(
        str(tmp_path / "nan.wav"), np.array([0.0, np.nan, 0.1], dtype=np.float32), 16000, subtype="FLOAT"
    )
    cases["nan"] = (tmp_path / "nan.wav", "NaN or Inf")
    sf.write(str(tmp_path / "inf.wav"), np.array([0.0, np.inf], dtype=np.float32), 16000, subtype="FLOAT")
    cases["inf"] = (tmp_path / "inf.wav", "NaN or Inf")
    write_tone(tmp_path / "full.wav", 1.0)
    raw = (tmp_path / "full.wav").read_bytes()
    (tmp_path / "trunc.wav").write_bytes(raw[: len(raw) // 2])
    cases["trunc"] = (tmp_path / "trunc.wav", "truncated")
    (tmp_path / "dir.wav").mkdir()
    cases["dir"] = (tmp_path / "dir.wav", "not a file")
    for name, (path, problem) in cases.items():
        with pytest.raises(AudioError) as err:
            load(path)
        message = str(err.value)
        assert str(path) in message and problem in message, (name, message)
        assert "\n" not in message


def test_save_to_unwritable_place_raises(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(AudioError, match="cannot write audio"):
        save(tmp_path / "file" / "out.wav", torch.zeros(10), 16000)
