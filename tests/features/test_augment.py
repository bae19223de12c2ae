import math

import pytest
import torch
import torchaudio.functional as AF

from speech.config import from_dict, to_dict
from speech.errors import ConfigError
from speech.features import (
    AugmentConfig,
    WaveAugment,
    add_noise,
    apply_gain,
    babble_noise,
    coloured_noise,
    reverberate,
    speed_perturb,
    synthetic_rir,
)
from speech.features.augment import augment

SR = 16000
LENGTHS = torch.tensor([8000, 5000, 1234, 1])
FULL = AugmentConfig(
    speed_factors=(0.9, 1.0, 1.1), gain_db=(-6.0, 6.0), noise_prob=1.0, reverb_prob=1.0, rt60=(0.2, 0.4)
)


def padded_noise(lengths: torch.Tensor = LENGTHS, seed: int = 0) -> torch.Tensor:
    """White noise (B, max length), zero beyond each item's length."""
    g = torch.Generator().manual_seed(seed)
    x = 0.1 * torch.randn(len(lengths), int(lengths.max()), generator=g)
    return x * (torch.arange(x.shape[1]) < lengths[:, None])


def snr_db(clean: torch.Tensor, noisy: torch.Tensor, n: int) -> float:
    noise = noisy[:n].double() - clean[:n].double()
    return 10 * math.log10(clean[:n].double().square().sum() / noise.square().sum())


def assert_zero_padding(x: torch.Tensor, lengths: torch.Tensor) -> None:
    for i, n in enumerate(lengths.tolist()):
        assert torch.all(x[i, n:] == 0), f"item {i} has non-zero padding"


# Speed ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("factor", [1.1, 0.9])
def test_speed_changes_lengths_exactly_and_keeps_padding_zero(factor):
    x = padded_noise()
    y, lengths = speed_perturb(x, LENGTHS, [factor] * len(LENGTHS))
    for n, m in zip(LENGTHS.tolist(), lengths.tolist(), strict=True):
        assert abs(m - n / factor) <= 1
    assert y.shape == (len(LENGTHS), int(lengths.max())) and lengths.dtype == torch.long
    assert_zero_padding(y, lengths)


def test_speed_groups_items_and_each_matches_resampling_it_alone():
    x = padded_noise()
    factors = [1.1, 0.9, 1.0, 1.1]
    y, lengths = speed_perturb(x, LENGTHS, factors)
    alone = [AF.resample(x[0, :8000], 11, 10), AF.resample(x[1, :5000], 9, 10), x[2, :1234]]
    for i, expected in enumerate(alone):
        assert lengths[i] == len(expected)
        torch.testing.assert_close(y[i, : lengths[i]], expected, atol=1e-6, rtol=0)
    assert lengths[3] == 1


# Gain and noise -------------------------------------------------------------------------------------
def test_gain_scales_in_db():
    x = padded_noise()
    y = apply_gain(x, torch.tensor([6.0, -6.0, 0.0, 20.0]))
    torch.testing.assert_close(y[0], x[0] * 10 ** (6 / 20))
    torch.testing.assert_close(y[3], x[3] * 10.0)


def test_add_noise_hits_the_snr_on_valid_samples_and_keeps_padding_zero():
    x = padded_noise()
    noise = torch.randn(x.shape, generator=torch.Generator().manual_seed(1))  # padding too
    target = torch.tensor([0.0, 7.5, 20.0, 30.0])
    y = add_noise(x, LENGTHS, noise, target)
    assert_zero_padding(y, LENGTHS)
    for i, n in enumerate(LENGTHS.tolist()):
        assert abs(snr_db(x[i], y[i], n) - target[i]) < 0.1


def test_silent_noise_leaves_the_item_unchanged():
    x = padded_noise()
    y = add_noise(x, LENGTHS, torch.zeros_like(x), torch.full((4,), 10.0))
    assert torch.equal(y, x)


@pytest.mark.parametrize("kind", ["white", "pink", "brown", "babble"])
def test_augment_adds_each_noise_type_at_the_drawn_snr(kind):
    config = AugmentConfig(noise_prob=1.0, snr_db=(12.0, 12.0), noise_types=(kind,))
    x = padded_noise()
    y, lengths = augment(x, LENGTHS, config, torch.Generator().manual_seed(0), sample_rate=SR)
    assert torch.equal(lengths, LENGTHS)
    assert_zero_padding(y, LENGTHS)
    for i, n in enumerate(LENGTHS.tolist()):
        assert abs(snr_db(x[i], y[i], n) - 12.0) < 0.1


def test_drawn_snrs_stay_in_range():
    config = AugmentConfig(noise_prob=1.0, snr_db=(5.0, 25.0))
    x = padded_noise()
    g = torch.Generator().manual_seed(3)
    for _ in range(3):
        y, _ = augment(x, LENGTHS, config, g, sample_rate=SR)
        for i, n in enumerate(LENGTHS.tolist()[:3]):
            assert 4.9 < snr_db(x[i], y[i], n) < 25.1


@pytest.mark.parametrize(
    "kind,exponent,slope", [("white", 0.0, 0.0), ("pink", 1.0, -1.0), ("brown", 2.0, -2.0)]
)
def test_coloured_noise_has_the_spectral_slope(kind, exponent, slope):
    noise = coloured_noise(8, 1 << 15, exponent, SR, torch.Generator().manual_seed(0))
    assert noise.shape == (8, 1 << 15)
    frames = noise.reshape(-1, 1024) * torch.hann_window(1024)
    power = torch.fft.rfft(frames).abs().square().mean(0)  # (513,) Welch average
    freqs = torch.fft.rfftfreq(1024, 1 / SR)
    band = (freqs >= 100) & (freqs <= 6000)
    logf, logp = freqs[band].log10(), power[band].log10()
    fitted = ((logf - logf.mean()) * (logp - logp.mean())).sum() / (logf - logf.mean()).square().sum()
    assert abs(float(fitted) - slope) < 0.15


def test_babble_sums_other_items_only():
    x = torch.zeros(3, 10)
    x[0, 0], x[1, 1], x[2, 2] = 1.0, 2.0, 3.0
    babble = babble_noise(x, torch.full((3,), 10), [1, 2])
    assert torch.all(babble.diagonal()[:3] == 0)  # item b is silent at its own impulse
    assert torch.all(babble[:, :3].sum(1) > 0)


# Reverberation --------------------------------------------------------------------------------------
def test_reverb_keeps_length_onset_energy_and_zero_padding():
    lengths = torch.tensor([8000, 5000])
    dry = padded_noise(lengths)
    rirs = synthetic_rir(
        torch.tensor([0.3, 0.6]), torch.tensor([0.0, 0.0]), SR, torch.Generator().manual_seed(0)
    )
    wet = reverberate(dry, lengths, rirs)
    assert wet.shape == dry.shape and not torch.allclose(wet, dry, atol=1e-3)
    assert_zero_padding(wet, lengths)
    alone = reverberate(dry[1:, :5000], lengths[1:], rirs[1:])  # padding invariance
    torch.testing.assert_close(wet[1, :5000], alone[0], atol=1e-6, rtol=0)
    for i, n in enumerate(lengths.tolist()):
        torch.testing.assert_close(wet[i, :n].square().sum(), dry[i, :n].square().sum())
        xcorr = AF.fftconvolve(wet[i, :n], dry[i, :n].flip(0))  # lag k at index n - 1 + k
        assert int(xcorr.argmax()) == n - 1


@pytest.mark.parametrize("rt60", [0.25, 0.5, 0.8])
def test_rir_energy_decay_matches_rt60(rt60):
    rir = synthetic_rir(torch.tensor([rt60]), torch.tensor([5.0]), SR, torch.Generator().manual_seed(0))[0]
    assert rir[0] == 1 and abs(10 * math.log10(1 / rir[1:].square().sum()) - 5.0) < 1e-3
    # A dry impulse comes back as the (renormalised) response.
    wet = reverberate(torch.eye(1, len(rir)), torch.tensor([len(rir)]), rir[None])[0]
    torch.testing.assert_close(wet / wet[0], rir)
    edc = rir[1:].double().square().flip(0).cumsum(0).flip(0)  # Schroeder backward integral
    edc_db = 10 * torch.log10(edc / edc[0])
    band = (edc_db <= -5) & (edc_db >= -25)
    t = torch.arange(len(edc_db), dtype=torch.float64)[band] / SR
    y = edc_db[band]
    slope = ((t - t.mean()) * (y - y.mean())).sum() / (t - t.mean()).square().sum()  # dB per second
    assert abs(-60 / float(slope) - rt60) < 0.1 * rt60


# The policy ------------------------------------------------------------------------------------------
def test_same_seed_same_result_other_seed_other_result():
    x = padded_noise()
    a = augment(x, LENGTHS, FULL, torch.Generator().manual_seed(7), sample_rate=SR)
    b = augment(x, LENGTHS, FULL, torch.Generator().manual_seed(7), sample_rate=SR)
    c = augment(x, LENGTHS, FULL, torch.Generator().manual_seed(8), sample_rate=SR)
    assert torch.equal(a.waveforms, b.waveforms) and torch.equal(a.lengths, b.lengths)
    assert a.waveforms.shape != c.waveforms.shape or not torch.equal(a.waveforms, c.waveforms)
    assert_zero_padding(a.waveforms, a.lengths)
    assert torch.isfinite(a.waveforms).all()


def test_default_generators_are_reproducible_under_manual_seed():
    x = padded_noise()
    torch.manual_seed(3)
    a = augment(x, LENGTHS, FULL, sample_rate=SR)
    torch.manual_seed(3)
    b = augment(x, LENGTHS, FULL, sample_rate=SR)
    assert torch.equal(a.waveforms, b.waveforms) and torch.equal(a.lengths, b.lengths)


def test_off_is_identity_and_the_module_is_identity_in_eval_mode():
    x = padded_noise()
    assert not AugmentConfig().enabled and FULL.enabled
    out = augment(x, LENGTHS, AugmentConfig(), sample_rate=SR)
    assert out.waveforms is x and torch.equal(out.lengths, LENGTHS)
    module = WaveAugment(FULL, SR).eval()
    assert module(x, LENGTHS).waveforms is x
    assert module.train()(x, LENGTHS).waveforms is not x


def test_batch_of_one_and_bf16_autocast():
    x = padded_noise()[:1]
    for dtype in (torch.float32, torch.bfloat16):
        with torch.autocast("cpu", dtype=torch.bfloat16):
            y, lengths = augment(
                x.to(dtype), LENGTHS[:1], FULL, torch.Generator().manual_seed(0), sample_rate=SR
            )
        assert y.dtype == dtype and y.shape == (1, int(lengths[0])) and torch.isfinite(y).all()


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_with_and_without_a_generator():
    x, lengths = padded_noise().cuda(), LENGTHS.cuda()
    g = torch.Generator("cuda").manual_seed(0)
    a = augment(x, lengths, FULL, g, sample_rate=SR)
    b = augment(x, lengths, FULL, torch.Generator("cuda").manual_seed(0), sample_rate=SR)
    assert a.waveforms.is_cuda and torch.equal(a.lengths, b.lengths)
    torch.testing.assert_close(a.waveforms, b.waveforms)
    with torch.autocast("cuda", dtype=torch.bfloat16):
        y, new = augment(x, lengths, FULL, sample_rate=SR)
    assert y.dtype == torch.float32 and torch.isfinite(y).all()
    assert_zero_padding(y.cpu(), new.cpu())


# Config ----------------------------------------------------------------------------------------------
def test_config_round_trips_through_plain_dicts():
    assert from_dict(AugmentConfig, to_dict(FULL)) == FULL
    c = from_dict(AugmentConfig, {"gain_db": [-6, 6], "speed_factors": [0.9, 1, 1.1]})
    assert c.gain_db == (-6.0, 6.0) and c.speed_factors == (0.9, 1.0, 1.1) and c.enabled


@pytest.mark.parametrize(
    "data,message",
    [
        ({"noise_prob": 1.5}, "'noise_prob' must be in [0, 1], got 1.5"),
        ({"snr_db": [20, 5]}, "'snr_db' must be [low, high] with low <= high"),
        ({"rt60": [0.0, 0.5]}, "'rt60[0]' must be in (0, 2]"),
        ({"rt60": [0.2]}, "'rt60' must have 2 items"),
        ({"speed_factors": [0.9, 3.0]}, "'speed_factors[1]' must be in [0.5, 2]"),
        ({"speed_factors": []}, "'speed_factors' must be a list of at least 1 number"),
        ({"gain_db": [-60, 0]}, "'gain_db[0]' must be in [-40, 40]"),
        ({"noise_types": ["white", "pinky"]}, "'noise_types[1]' must be one of white, pink, brown, babble"),
        ({"noise_types": []}, "'noise_types' must be a non-empty list"),
        ({"babble_speakers": 0}, "'babble_speakers' must be >= 1"),
        ({"reverb": 0.5}, "unknown key 'reverb'"),
    ],
)
def test_bad_values_are_one_line_errors(data, message):
    with pytest.raises(ConfigError) as info:
        from_dict(AugmentConfig, data, "c.yaml")
    text = str(info.value)
    assert text.startswith("c.yaml: ") and message in text and "\n" not in text
