import pytest
import torch

import speech.kernels.logmel as kernel_module
from speech.features import LogMel, LogMelConfig, log_mel, mel_filterbank
from speech.kernels import CPULogMel, log_mel_cpu, use_inference_kernels
from tests.features.test_logmel import padded_batch


def chirp_noise(sample_rate: int, seconds: float) -> torch.Tensor:
    """A rising chirp plus noise, float32 (T,)."""
    t = torch.arange(int(sample_rate * seconds), dtype=torch.float64) / sample_rate
    chirp = torch.sin(2 * torch.pi * (100 * t + 0.2 * sample_rate * t**2 / seconds))
    noise = torch.randn(t.shape, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    return (0.5 * chirp + 0.05 * noise).float()


@pytest.mark.parametrize("chunk", [1 << 18, 6000])  # 6000 samples: one item per chunk
@pytest.mark.parametrize("preset", ["asr", "tts"])
def test_chunked_banded_kernel_equals_the_reference(monkeypatch, preset, chunk):
    monkeypatch.setattr(kernel_module, "_CHUNK_SAMPLES", chunk)
    c = getattr(LogMelConfig, preset)()
    wave = chirp_noise(c.sample_rate, 0.5)
    for waves in ([wave, wave[:5000], wave[:9000], wave[:100]], [wave[:3000]]):  # batch > 1 and 1
        batch, lengths = padded_batch(waves)
        fast, slow = log_mel_cpu(batch, c, lengths), log_mel(batch, c, lengths)
        torch.testing.assert_close(fast.features, slow.features, atol=1e-5, rtol=0)
        assert torch.equal(fast.frame_lengths, slow.frame_lengths)


def test_module_kernel_and_its_gradient():
    c = LogMelConfig.asr()
    reference = LogMel(c)
    kernel = use_inference_kernels(LogMel(c), "cpu")
    assert type(kernel) is CPULogMel and type(reference) is LogMel
    x = chirp_noise(c.sample_rate, 0.3)[None].repeat(2, 1).requires_grad_()
    lengths = torch.tensor([x.shape[1], 3000])
    torch.testing.assert_close(kernel(x, lengths).features, reference(x, lengths).features, atol=1e-5, rtol=0)
    kernel(x, lengths).features.sum().backward()
    assert torch.isfinite(x.grad).all() and torch.all(x.grad[1, 3000:] == 0)


@pytest.mark.parametrize("preset", ["asr", "tts"])
def test_padded_chunk_shorter_than_the_batch(monkeypatch, preset):
    # two items per chunk; the second chunk's items are both shorter than the batch, so its
    # output slice is not contiguous and the features go through a buffer
    c = getattr(LogMelConfig, preset)()
    wave = chirp_noise(c.sample_rate, 0.5)
    monkeypatch.setattr(kernel_module, "_CHUNK_SAMPLES", 2 * len(wave))
    batch, lengths = padded_batch([wave, wave[:7000], wave[:5000], wave[:4000], wave[:4000]])
    fast, slow = log_mel_cpu(batch, c, lengths), log_mel(batch, c, lengths)
    torch.testing.assert_close(fast.features, slow.features, atol=1e-5, rtol=0)
    assert torch.all(fast.features[2:, 1 + 5000 // c.hop_length :] == 0)  # past the chunk's frames


def test_single_full_length_item_and_equal_lengths():
    # the unchunked path: the STFT runs on the input and the matmuls write into the output
    c = LogMelConfig.asr()
    wave = chirp_noise(c.sample_rate, 2.0)
    for waves in (wave[None], torch.stack([wave, wave.flip(0)])):
        for lengths in (None, torch.full((waves.shape[0],), waves.shape[1])):
            fast, slow = log_mel_cpu(waves, c, lengths), log_mel(waves, c, lengths)
            torch.testing.assert_close(fast.features, slow.features, atol=1e-5, rtol=0)


@pytest.mark.filterwarnings("ignore:At least one mel filterbank has all zero values")
def test_filters_without_weights_and_odd_block_sizes():
    # 100 mels over 129 bins: some filters fall between bins (all-zero columns) and the
    # blocks are of 14 and 15 filters
    c = LogMelConfig.asr(n_fft=256, win_length=256, n_mels=100)
    assert (mel_filterbank(c).abs().sum(0) == 0).any()
    batch, lengths = padded_batch([chirp_noise(c.sample_rate, 0.3), chirp_noise(c.sample_rate, 0.2)])
    fast, slow = log_mel_cpu(batch, c, lengths), log_mel(batch, c, lengths)
    torch.testing.assert_close(fast.features, slow.features, atol=1e-5, rtol=0)
    fbank = mel_filterbank(c)
    fbank[:, :20] = 0.0  # a whole block of empty filters: log_floor there
    fast = log_mel_cpu(batch, c, lengths, mel_fbank=fbank)
    torch.testing.assert_close(
        fast.features, log_mel(batch, c, lengths, mel_fbank=fbank).features, atol=1e-5, rtol=0
    )


def test_cached_blocks_follow_the_filterbank():
    c = LogMelConfig.asr()
    kernel = use_inference_kernels(LogMel(c), "cpu")
    x = chirp_noise(c.sample_rate, 0.3)[None]
    before = kernel(x).features
    with torch.no_grad():
        kernel.mel_fbank.mul_(2.0)  # in place: the cached blocks must be rebuilt
    torch.testing.assert_close(kernel(x).features, before + torch.log(torch.tensor(2.0)), atol=1e-5, rtol=0)
    with torch.inference_mode():  # inference tensors have no version counter: nothing is cached
        inference_kernel = use_inference_kernels(LogMel(c), "cpu")
        first = inference_kernel(x).features
        inference_kernel.mel_fbank.mul_(2.0)
        torch.testing.assert_close(
            inference_kernel(x).features, first + torch.log(torch.tensor(2.0)), atol=1e-5, rtol=0
        )


def test_float32_under_autocast():
    c = LogMelConfig.asr()
    x = chirp_noise(c.sample_rate, 0.3)[None]
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out = log_mel_cpu(x, c).features
    assert out.dtype == torch.float32
    torch.testing.assert_close(out, log_mel(x, c).features, atol=1e-5, rtol=0)
