import pytest
import torch

from speech.errors import ConfigError
from speech.features import SpecAugment, SpecAugmentConfig, spec_augment

LENGTHS = torch.tensor([200, 120, 37, 5])


def ones_batch(frames: int = 200, n_bins: int = 80) -> torch.Tensor:
    """Ones everywhere, padding included, so any masked cell (value 0) is visible."""
    return torch.ones(len(LENGTHS), frames, n_bins)


def test_identity_in_eval_mode():
    module = SpecAugment(SpecAugmentConfig(max_freq_width=80, max_time_width=200, max_time_ratio=1.0)).eval()
    x = torch.randn(2, 30, 80)
    assert module(x, torch.tensor([30, 20])) is x


def test_time_masks_stay_inside_valid_length_and_respect_caps():
    config = SpecAugmentConfig(n_freq_masks=0, n_time_masks=3, max_time_width=30, max_time_ratio=0.2)
    module = SpecAugment(config).train()
    g = torch.Generator().manual_seed(0)
    x = ones_batch()
    masked_any = False
    for _ in range(20):
        out = module(x, LENGTHS, generator=g)
        for i, n in enumerate(LENGTHS.tolist()):
            assert torch.all(out[i, n:] == 1), "padding was masked"
            masked_frames = (out[i, :n] == 0).all(dim=-1).sum().item()
            assert masked_frames <= 3 * min(30, int(0.2 * n))
            masked_any |= masked_frames > 0
        assert torch.all(x == 1), "input was modified"
    assert masked_any


def test_freq_masks_respect_width_and_cover_whole_valid_rows():
    config = SpecAugmentConfig(n_freq_masks=2, max_freq_width=10, n_time_masks=0)
    out = SpecAugment(config).train()(ones_batch(), LENGTHS, generator=torch.Generator().manual_seed(1))
    for i, n in enumerate(LENGTHS.tolist()):
        masked_bins = out[i, 0] == 0  # (F,)
        assert masked_bins.sum() <= 20
        assert torch.all((out[i, :n] == 0) == masked_bins)  # same bins masked in every frame
    assert (out == 0).any()


def test_deterministic_with_generator():
    module = SpecAugment().train()
    x = torch.randn(4, 200, 80)
    a = module(x, LENGTHS, generator=torch.Generator().manual_seed(7))
    b = module(x, LENGTHS, generator=torch.Generator().manual_seed(7))
    c = module(x, LENGTHS, generator=torch.Generator().manual_seed(8))
    assert torch.equal(a, b)
    assert not torch.equal(a, c)


def test_mask_value_and_no_lengths():
    config = SpecAugmentConfig(n_freq_masks=1, max_freq_width=80, n_time_masks=0, mask_value=-3.0)
    out = spec_augment(torch.zeros(2, 10, 80), config, generator=torch.Generator().manual_seed(3))
    assert set(out.unique().tolist()) <= {0.0, -3.0}


def test_time_warp_keeps_padding_and_is_deterministic():
    config = SpecAugmentConfig(n_freq_masks=0, n_time_masks=0, time_warp=5)
    module = SpecAugment(config).train()
    x = torch.randn(4, 200, 80).cumsum(dim=1)
    a = module(x, LENGTHS, generator=torch.Generator().manual_seed(0))
    b = module(x, LENGTHS, generator=torch.Generator().manual_seed(0))
    assert a.shape == x.shape
    assert torch.equal(a, b)
    assert not torch.equal(a[0], x[0])  # a long item is warped
    assert torch.equal(a[3], x[3])  # 5 frames is too short to warp with W=5
    for i, n in enumerate(LENGTHS.tolist()):
        assert torch.equal(a[i, n:], x[i, n:])


@pytest.mark.parametrize("bad", [{"n_freq_masks": -1}, {"max_time_ratio": 1.5}, {"time_warp": 2.0}])
def test_config_validation(bad):
    with pytest.raises(ConfigError, match="SpecAugmentConfig"):
        SpecAugmentConfig(**bad)
