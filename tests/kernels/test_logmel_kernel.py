import pytest
import torch

import speech.kernels.logmel as kernel_module
from speech.features import LogMel, LogMelConfig, log_mel
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
