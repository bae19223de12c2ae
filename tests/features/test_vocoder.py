import pytest
import torch

from speech.features import (
    LogMel,
    LogMelConfig,
    MelInverter,
    Vocoder,
    VocoderOutput,
    griffin_lim,
    mel_to_linear,
)
from speech.features.logmel import stft_window


def spectral_convergence(estimate: torch.Tensor, reference: torch.Tensor) -> float:
    """||exp(est) - exp(ref)|| / ||exp(ref)|| over log-mel features."""
    return (torch.linalg.norm(estimate.exp() - reference.exp()) / torch.linalg.norm(reference.exp())).item()


@pytest.mark.parametrize("config", [LogMelConfig.tts(), LogMelConfig.asr()], ids=["tts", "asr"])
def test_round_trip_on_harmonic_signal(config, harmonic):
    logmel = LogMel(config)
    features, frame_lengths = logmel(harmonic(config.sample_rate, 0.5)[None])
    inverter = MelInverter(config, n_iter=32)
    waveforms, lengths = inverter(features, frame_lengths, generator=torch.Generator().manual_seed(0))
    assert waveforms.shape == (1, (features.shape[1] - 1) * config.hop_length)
    assert lengths.tolist() == [(frame_lengths.item() - 1) * config.hop_length]
    again, again_lengths = logmel(waveforms, lengths)
    assert torch.equal(again_lengths, frame_lengths)
    # Measured: spectral convergence 0.08-0.11, mean |log-mel error| 0.39-0.54 (32 iterations).
    assert spectral_convergence(again, features) < 0.3
    assert (again - features).abs().mean() < 0.8


def test_more_iterations_help(harmonic):
    config = LogMelConfig.asr()
    logmel = LogMel(config)
    features, frame_lengths = logmel(harmonic(config.sample_rate, 0.3)[None])
    errors = []
    for n_iter in (0, 16):
        waves, lengths = MelInverter(config, n_iter=n_iter)(
            features, frame_lengths, generator=torch.Generator().manual_seed(0)
        )
        errors.append(spectral_convergence(logmel(waves, lengths).features, features))
    assert errors[1] < 0.5 * errors[0]


def test_padded_batch_lengths_and_silence(harmonic):
    config = LogMelConfig.asr()
    wave = harmonic(config.sample_rate, 0.3)
    batch = torch.zeros(2, len(wave))
    batch[0], batch[1, :2000] = wave, wave[:2000]
    features, frame_lengths = LogMel(config)(batch, torch.tensor([len(wave), 2000]))
    out = MelInverter(config, n_iter=4)(features, frame_lengths, generator=torch.Generator().manual_seed(0))
    assert isinstance(out, VocoderOutput)
    assert out.lengths.tolist() == [(n - 1) * config.hop_length for n in frame_lengths.tolist()]
    assert out.waveforms.shape == (2, (features.shape[1] - 1) * config.hop_length)
    assert torch.all(out.waveforms[1, out.lengths[1] :] == 0)
    assert out.waveforms[1, : out.lengths[1]].abs().max() > 0.01


def test_deterministic_with_generator_and_float32_under_autocast():
    config = LogMelConfig.asr()
    features = torch.randn(1, 20, 80) - 4
    inverter = MelInverter(config, n_iter=3)
    a = inverter(features, generator=torch.Generator().manual_seed(1)).waveforms
    with torch.autocast("cpu", dtype=torch.bfloat16):
        b = inverter(features.bfloat16(), generator=torch.Generator().manual_seed(1)).waveforms
    c = inverter(features, generator=torch.Generator().manual_seed(1)).waveforms
    assert b.dtype == torch.float32
    assert torch.equal(a, c)


def test_satisfies_vocoder_protocol():
    inverter = MelInverter(LogMelConfig.tts())
    assert isinstance(inverter, Vocoder)
    assert inverter.sample_rate == 22050


def test_mel_to_linear_is_nonnegative_and_approximately_inverts():
    config = LogMelConfig.asr()
    logmel = LogMel(config)
    inverse = MelInverter(config).inverse_fbank
    linear = torch.rand(2, 5, config.n_freqs)
    mel = linear @ logmel.mel_fbank
    back = mel_to_linear(mel, inverse)
    assert back.shape == linear.shape and torch.all(back >= 0)
    # Exact without the clamp (the pseudo-inverse is a right inverse); the clamp costs a little.
    torch.testing.assert_close(mel @ inverse @ logmel.mel_fbank, mel, atol=1e-4, rtol=1e-4)
    assert torch.linalg.norm(back @ logmel.mel_fbank - mel) < 0.01 * torch.linalg.norm(mel)


def test_griffin_lim_recovers_a_known_magnitude(harmonic):
    config = LogMelConfig.asr()
    window = stft_window(config)
    wave = harmonic(config.sample_rate, 0.3)[None]
    spec = (
        torch.stft(
            wave,
            config.n_fft,
            config.hop_length,
            config.win_length,
            window,
            center=True,
            pad_mode="constant",
            return_complex=True,
        )
        .abs()
        .transpose(1, 2)
    )
    lengths = torch.tensor([(spec.shape[1] - 1) * config.hop_length])
    out = griffin_lim(spec, config, window, lengths, n_iter=32, generator=torch.Generator().manual_seed(0))
    rebuilt = (
        torch.stft(
            out,
            config.n_fft,
            config.hop_length,
            config.win_length,
            window,
            center=True,
            pad_mode="constant",
            return_complex=True,
        )
        .abs()
        .transpose(1, 2)
    )
    assert (torch.linalg.norm(rebuilt - spec) / torch.linalg.norm(spec)).item() < 0.1


def test_invalid_arguments():
    with pytest.raises(ValueError):
        MelInverter(LogMelConfig.asr(), momentum=1.0)
    with pytest.raises(ValueError, match="3 dimensions"):
        MelInverter(LogMelConfig.asr())(torch.randn(10, 80))


def test_single_frame_and_double_module():
    inverter = MelInverter(LogMelConfig.asr(), n_iter=2).double()
    out = inverter(torch.randn(2, 1, 80))
    assert out.waveforms.shape == (2, 0) and out.lengths.tolist() == [0, 0]
    assert inverter(torch.randn(1, 3, 80, dtype=torch.float64)).waveforms.dtype == torch.float32
