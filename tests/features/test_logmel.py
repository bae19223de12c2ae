import librosa
import numpy as np
import pytest
import torch

from speech.features import LogMel, LogMelConfig, LogMelOutput, log_mel, mel_filterbank

PRESETS = {"asr": LogMelConfig.asr(), "tts": LogMelConfig.tts()}


def librosa_log_mel(wave: np.ndarray, c: LogMelConfig) -> np.ndarray:
    mel = librosa.feature.melspectrogram(
        y=wave,
        sr=c.sample_rate,
        n_fft=c.n_fft,
        hop_length=c.hop_length,
        win_length=c.win_length,
        power=c.power,
        n_mels=c.n_mels,
        fmin=c.f_min,
        fmax=c.f_max,
        center=True,
        pad_mode="constant",
        htk=False,
        norm="slaney",
    )
    return np.log(np.maximum(mel, c.log_floor)).T  # (T, F)


def padded_batch(waves: list[torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
    lengths = torch.tensor([len(w) for w in waves])
    batch = torch.zeros(len(waves), int(lengths.max()))
    for i, w in enumerate(waves):
        batch[i, : len(w)] = w
    return batch, lengths


@pytest.mark.parametrize("name", PRESETS)
def test_matches_librosa(name, chirp_noise):
    c = PRESETS[name]
    wave = chirp_noise(c.sample_rate)
    out = LogMel(c)(wave[None])
    ref = librosa_log_mel(wave.numpy(), c)
    assert out.features.shape == (1, *ref.shape)
    assert np.abs(out.features[0].numpy() - ref).max() <= 1e-3


@pytest.mark.parametrize("name", PRESETS)
def test_filterbank_matches_librosa(name):
    c = PRESETS[name]
    ref = librosa.filters.mel(sr=c.sample_rate, n_fft=c.n_fft, n_mels=c.n_mels, fmin=c.f_min, fmax=c.f_max)
    np.testing.assert_allclose(mel_filterbank(c).T.numpy(), ref, atol=1e-6)


@pytest.mark.parametrize("name", PRESETS)
def test_padding_invariance(name, chirp_noise):
    c = PRESETS[name]
    full = chirp_noise(c.sample_rate)
    waves = [full, full[: c.sample_rate // 2 + 37], full[: 3 * c.hop_length + 5]]
    batch, lengths = padded_batch(waves)
    module = LogMel(c)
    out = module(batch, lengths)
    assert out.frame_lengths.tolist() == [1 + len(w) // c.hop_length for w in waves]
    for i, w in enumerate(waves):
        alone = module(w[None]).features[0]
        n = out.frame_lengths[i]
        assert alone.shape[0] == n
        torch.testing.assert_close(out.features[i, :n], alone, atol=1e-5, rtol=0)
        assert torch.all(out.features[i, n:] == 0)


def test_garbage_in_padding_is_ignored(chirp_noise):
    c = LogMelConfig.asr()
    wave = chirp_noise(c.sample_rate, 0.5)
    batch = torch.randn(2, len(wave) + 800)
    batch[0, : len(wave)] = wave
    out = LogMel(c)(batch, torch.tensor([len(wave), batch.shape[1]]))
    alone = LogMel(c)(wave[None]).features[0]
    torch.testing.assert_close(out.features[0, : alone.shape[0]], alone, atol=1e-5, rtol=0)


@pytest.mark.parametrize("batch_size", [1, 4])
def test_shapes_and_lengths(batch_size):
    c = LogMelConfig.asr()
    out = LogMel(c)(torch.randn(batch_size, 4000) * 0.1)
    assert isinstance(out, LogMelOutput)
    assert out.features.shape == (batch_size, 1 + 4000 // 160, 80)
    assert out.features.dtype == torch.float32
    assert out.frame_lengths.dtype == torch.int64
    assert out.frame_lengths.tolist() == [26] * batch_size
    assert torch.isfinite(out.features).all()


def test_lengths_none_means_full_length():
    x = torch.randn(3, 3000)
    module = LogMel()
    a = module(x)
    b = module(x, torch.full((3,), 3000))
    torch.testing.assert_close(a.features, b.features, atol=0, rtol=0)


def test_function_equals_module(chirp_noise):
    c = LogMelConfig.tts()
    wave = chirp_noise(c.sample_rate, 0.5)
    batch, lengths = padded_batch([wave, wave[:5000]])
    a, b = log_mel(batch, c, lengths), LogMel(c)(batch, lengths)
    assert torch.equal(a.features, b.features) and torch.equal(a.frame_lengths, b.frame_lengths)


def test_float32_under_bfloat16_autocast(chirp_noise):
    c = LogMelConfig.asr()
    wave = chirp_noise(c.sample_rate, 0.5)[None]
    module = LogMel(c)
    ref = module(wave).features
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out = module(wave.bfloat16()).features
        out_fp32_input = module(wave).features
    assert out.dtype == torch.float32 and out_fp32_input.dtype == torch.float32
    torch.testing.assert_close(out_fp32_input, ref, atol=1e-5, rtol=0)
    assert (out - ref).abs().mean() < 0.05  # only bf16 rounding of the input samples


def test_double_module_and_input_still_give_float32():
    module = LogMel().double()
    out = module(torch.randn(1, 2000, dtype=torch.float64))
    assert out.features.dtype == torch.float32


def test_buffers_not_in_state_dict():
    assert LogMel().state_dict() == {}


def test_empty_and_tiny_items():
    c = LogMelConfig.asr()
    out = LogMel(c)(torch.randn(3, 500), torch.tensor([500, 0, 1]))
    assert out.frame_lengths.tolist() == [4, 1, 1]
    assert torch.all(out.features[1, 0] == np.log(c.log_floor))
    assert LogMel(c)(torch.zeros(2, 0)).features.shape == (2, 1, 80)


def test_gradient_reaches_waveform():
    x = (0.1 * torch.randn(2, 2000)).requires_grad_()
    out = LogMel()(x, torch.tensor([2000, 1500]))
    out.features.sum().backward()
    assert x.grad is not None and torch.isfinite(x.grad).all()
    assert torch.all(x.grad[1, 1500:] == 0)


def test_bad_inputs_raise():
    module = LogMel()
    with pytest.raises(ValueError, match="2 dimensions"):
        module(torch.randn(1000))
    with pytest.raises(ValueError, match="lengths"):
        module(torch.randn(2, 1000), torch.tensor([1000, 1001]))
    with pytest.raises(ValueError, match="shape"):
        module(torch.randn(2, 1000), torch.tensor([1000]))
    with pytest.raises(ValueError, match="integer"):
        module(torch.randn(2, 1000), torch.tensor([1000.0, 10.0]))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_matches_cpu(chirp_noise):
    c = LogMelConfig.asr()
    waves = [chirp_noise(c.sample_rate, 0.5), chirp_noise(c.sample_rate, 0.3, seed=1)]
    batch, lengths = padded_batch(waves)
    cpu = LogMel(c)(batch, lengths)
    gpu = LogMel(c).cuda()(batch.cuda(), lengths.cuda())
    assert gpu.features.device.type == "cuda"
    torch.testing.assert_close(gpu.features.cpu(), cpu.features, atol=1e-3, rtol=0)
    assert gpu.frame_lengths.cpu().tolist() == cpu.frame_lengths.tolist()
