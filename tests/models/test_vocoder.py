"""The Vocos-style generator, the discriminators and the GAN losses."""

from __future__ import annotations

import math

import pytest
import torch

from speech.config import FieldError
from speech.features import LogMel, LogMelConfig
from speech.models.discriminators import (
    DiscriminatorConfig,
    Discriminators,
    discriminator_loss,
    feature_matching_loss,
    generator_loss,
)
from speech.models.vocoder import VocosConfig, VocosGenerator

FEATURES = LogMelConfig.tts()
TINY = VocosConfig(dim=32, intermediate_dim=64, layers=2)
TINY_D = DiscriminatorConfig(
    periods=(2, 3), period_channels=(4, 8, 8, 8), resolutions=((512, 128, 512),), resolution_channels=4
)


def generator(seed: int = 0) -> VocosGenerator:
    torch.manual_seed(seed)
    return VocosGenerator(TINY, FEATURES)


def test_output_is_hop_times_frames_minus_one_samples_and_refeaturises_to_the_same_frames():
    g = generator()
    mel = torch.randn(3, 20, 80)
    out = g(mel, torch.tensor([20, 11, 2]))
    hop = FEATURES.hop_length
    assert out.waveforms.shape == (3, 19 * hop)
    assert out.lengths.tolist() == [19 * hop, 10 * hop, 1 * hop]
    assert torch.all(out.waveforms[1, 10 * hop :] == 0) and torch.all(out.waveforms[2, hop:] == 0)
    assert out.waveforms[1, : 10 * hop].abs().sum() > 0
    assert FEATURES.num_frames(int(out.lengths[0])) == 20  # featurising the output gives the input's frames


def test_batched_synthesis_equals_per_item_synthesis():
    g = generator().eval()
    lengths = [17, 9, 4]
    mels = [torch.randn(n, 80) for n in lengths]
    batch = torch.nn.utils.rnn.pad_sequence(
        mels, batch_first=True, padding_value=-3.0
    )  # padding must not leak
    with torch.no_grad():
        out = g(batch, torch.tensor(lengths))
        for i, mel in enumerate(mels):
            alone = g(mel[None]).waveforms[0]
            assert alone.shape[0] == int(out.lengths[i])
            torch.testing.assert_close(out.waveforms[i, : alone.shape[0]], alone, atol=1e-5, rtol=1e-4)


def test_every_generator_and_discriminator_parameter_gets_a_gradient():
    g, d = generator(), Discriminators(TINY_D)
    real = torch.randn(2, 15 * FEATURES.hop_length) * 0.1
    mel = LogMel(FEATURES)(real).features
    fake = g(mel).waveforms
    real_scores, real_features = d(real)
    fake_scores, fake_features = d(fake)
    loss = (
        discriminator_loss(real_scores, [s.detach() for s in fake_scores])
        + generator_loss(fake_scores)
        + feature_matching_loss(real_features, fake_features)
    )
    loss.backward()
    for name, p in [*g.named_parameters(), *d.named_parameters()]:
        assert p.grad is not None and p.grad.abs().sum() > 0, name


def test_least_squares_and_feature_matching_losses_on_known_values():
    real, fake = [torch.ones(2, 3), torch.full((1, 4), 0.5)], [torch.zeros(2, 3), torch.full((1, 4), 0.5)]
    assert discriminator_loss(real, fake).item() == pytest.approx(0 + 0 + 0.25 + 0.25)
    assert generator_loss(fake).item() == pytest.approx(1.0 + 0.25)
    features = [[torch.zeros(2, 2), torch.ones(3)]]
    assert feature_matching_loss(features, [[torch.ones(2, 2), torch.ones(3)]]).item() == pytest.approx(1.0)


def test_overfits_one_clip():
    torch.manual_seed(0)
    t = torch.arange(24 * FEATURES.hop_length) / FEATURES.sample_rate
    tone = 0.3 * torch.sin(2 * math.pi * 220 * t) * (1 + 0.5 * torch.sin(2 * math.pi * 3 * t))
    clip = tone + 0.01 * torch.randn(len(t))  # no bin at the log floor
    logmel = LogMel(FEATURES)
    mel = logmel(clip[None]).features
    g = generator()
    opt = torch.optim.Adam(g.parameters(), lr=3e-3)

    def loss() -> torch.Tensor:
        out = g(mel).waveforms
        return (logmel(out).features - logmel(clip[None, : out.shape[1]]).features).abs().mean()

    start = loss().item()
    for _ in range(200):
        opt.zero_grad()
        value = loss()
        value.backward()
        opt.step()
    assert loss().item() < 0.25 < 1.0 < start, (start, loss().item())


@pytest.mark.parametrize(
    ("cls", "kwargs", "field"),
    [
        (VocosConfig, {"kernel_size": 6}, "kernel_size"),
        (VocosConfig, {"layers": 0}, "layers"),
        (DiscriminatorConfig, {"periods": (), "resolutions": ()}, "periods"),
        (DiscriminatorConfig, {"period_channels": (4, 8)}, "period_channels"),
        (DiscriminatorConfig, {"resolutions": ((512, 128, 1024),)}, "resolutions"),
    ],
)
def test_bad_sizes_name_the_field(cls, kwargs, field):
    with pytest.raises(FieldError, match=field):
        cls(**kwargs)


def test_generator_refuses_features_of_another_size():
    with pytest.raises(ValueError, match="n_mels"):
        VocosGenerator(VocosConfig(n_mels=64), FEATURES)
