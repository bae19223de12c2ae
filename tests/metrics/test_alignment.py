import pytest
import torch

from speech.metrics import AlignmentHealth, alignment_health


def _diagonal(steps: int, symbols: int) -> torch.Tensor:
    """One-hot rows whose peak walks from symbol 0 to the last one over the steps."""
    w = torch.zeros(steps, symbols)
    w[torch.arange(steps), (torch.arange(steps) * symbols) // steps] = 1.0
    return w


def _health(w: torch.Tensor) -> AlignmentHealth:
    steps, symbols = w.shape
    return alignment_health(w[None], torch.tensor([symbols]), torch.tensor([steps]))


@pytest.mark.parametrize(("steps", "symbols"), [(12, 12), (30, 10), (7, 20)])
def test_perfect_diagonal_is_healthy(steps, symbols):
    h = _health(_diagonal(steps, symbols))
    assert isinstance(h, AlignmentHealth)
    for value in h:
        assert value.shape == (1,)
        assert value.dtype == torch.float32
        assert value.item() == pytest.approx(1.0)


def test_uniform_attention_has_focus_one_over_s():
    S = 8
    h = _health(torch.full((20, S), 1.0 / S))
    assert h.focus_rate.item() == pytest.approx(1.0 / S)


def test_reversed_diagonal_has_low_diagonality_and_monotonicity():
    h = _health(_diagonal(20, 40).flip(1))  # the peak moves back two symbols a step
    assert h.focus_rate.item() == pytest.approx(1.0)
    assert h.diagonality.item() < 0.2
    assert h.monotonicity.item() == pytest.approx(0.0)
    assert _health(_diagonal(40, 40).flip(1)).monotonicity.item() == pytest.approx(1.0)  # one back


def test_small_backward_jitter_is_monotonic():
    w = torch.zeros(6, 6)
    w[torch.arange(6), torch.tensor([0, 1, 2, 1, 3, 4])] = 1.0
    assert _health(w).monotonicity.item() == pytest.approx(1.0)
    w = torch.zeros(6, 6)
    w[torch.arange(6), torch.tensor([0, 1, 4, 1, 4, 5])] = 1.0
    assert _health(w).monotonicity.item() == pytest.approx(4 / 5)


def test_padding_invariance_and_batching():
    torch.manual_seed(0)
    items = [torch.softmax(torch.randn(t, s) * 3, dim=-1) for t, s in [(9, 5), (16, 11), (4, 3)]]
    T, S = 20, 13
    batch = torch.rand(len(items), T, S)  # garbage in the padding must not count
    for i, w in enumerate(items):
        batch[i, : w.shape[0], : w.shape[1]] = w
    in_lengths = torch.tensor([w.shape[1] for w in items])
    out_lengths = torch.tensor([w.shape[0] for w in items])
    together = alignment_health(batch, in_lengths, out_lengths)
    for i, w in enumerate(items):
        alone = _health(w)
        for a, b in zip(together, alone, strict=True):
            assert a[i].item() == pytest.approx(b.item())


def test_single_step_and_half_precision():
    w = torch.zeros(1, 3, 4, dtype=torch.float16)
    w[0, 0, 0] = 1.0
    h = alignment_health(w, torch.tensor([4]), torch.tensor([1]))
    assert h.monotonicity.item() == 1.0
    assert h.focus_rate.dtype == torch.float32


def test_works_on_graph_tensors_without_grad():
    w = torch.softmax(torch.randn(2, 5, 4, requires_grad=True), -1)
    h = alignment_health(w, torch.tensor([4, 2]), torch.tensor([5, 3]))
    assert not h.focus_rate.requires_grad


@pytest.mark.parametrize(
    ("shape", "in_len", "out_len"),
    [((5, 4), [4], [5]), ((1, 5, 4), [0], [5]), ((1, 5, 4), [4], [6]), ((1, 5, 4), [4, 4], [5])],
)
def test_bad_inputs_raise(shape, in_len, out_len):
    with pytest.raises(ValueError):
        alignment_health(torch.rand(shape), torch.tensor(in_len), torch.tensor(out_len))
