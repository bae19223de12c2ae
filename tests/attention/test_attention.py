import math

import pytest
import torch

from speech.attention import (
    AdditiveAttention,
    LocationAwareAttention,
    MonotonicWindow,
    MultiHeadLocationAwareAttention,
    guided_attention_loss,
    guided_attention_weights,
    selected_memory_rows,
)

MECHANISMS = [
    lambda: AdditiveAttention(6, 5, 8),
    lambda: LocationAwareAttention(6, 5, 8, n_filters=4, kernel_size=5),
]
# the tests that use only the shared interface (context, weights, select) also run it
WITH_MULTIHEAD = [
    *MECHANISMS,
    lambda: MultiHeadLocationAwareAttention(6, 5, 8, 2, n_filters=3, kernel_size=5),
]


def make_inputs(lengths=(7, 4, 2), query_dim=6, memory_dim=5, seed=0):
    g = torch.Generator().manual_seed(seed)
    S = max(lengths)
    memory = torch.randn(len(lengths), S, memory_dim, generator=g)
    mask = torch.arange(S)[None, :] < torch.tensor(lengths)[:, None]
    memory = memory * mask[..., None]
    query = torch.randn(len(lengths), query_dim, generator=g)
    return query, memory, mask


@pytest.mark.parametrize("make", MECHANISMS)
def test_shapes_normalisation_and_masking(make):
    torch.manual_seed(0)
    att = make()
    query, memory, mask = make_inputs()
    state = att.init_state(memory, mask)
    for _ in range(3):
        out = att(query, memory, mask, state)
        state = out.state
        assert out.context.shape == (3, 5) and out.weights.shape == (3, 7)
        torch.testing.assert_close(out.weights.sum(-1), torch.ones(3))
        assert torch.all(out.weights[~mask] == 0)
    torch.testing.assert_close(state.cumulative.sum(-1), torch.full((3,), 4.0))


@pytest.mark.parametrize("grad", [True, False])
@pytest.mark.parametrize("make", MECHANISMS)
def test_padding_invariance(make, grad):
    torch.manual_seed(0)
    att = make()
    query, memory, mask = make_inputs()
    with torch.set_grad_enabled(grad):
        batch_state = att.init_state(memory, mask)
        for i, n in enumerate((7, 4, 2)):
            single_state = att.init_state(memory[i : i + 1, :n], mask[i : i + 1, :n])
            bs = batch_state
            for _ in range(3):
                b_out = att(query, memory, mask, bs)
                s_out = att(query[i : i + 1], memory[i : i + 1, :n], mask[i : i + 1, :n], single_state)
                torch.testing.assert_close(b_out.context[i], s_out.context[0], atol=1e-6, rtol=1e-5)
                torch.testing.assert_close(b_out.weights[i, :n], s_out.weights[0], atol=1e-6, rtol=1e-5)
                bs, single_state = b_out.state, s_out.state


@pytest.mark.parametrize("make", WITH_MULTIHEAD)
def test_every_parameter_gets_a_gradient(make):
    torch.manual_seed(0)
    att = make()
    query, memory, mask = make_inputs()
    memory.requires_grad_(True)
    state = att.init_state(memory, mask)
    total = 0
    for _ in range(2):
        out = att(query, memory, mask, state)
        state = out.state
        total = total + out.context.pow(2).sum()
    total.backward()
    for name, p in att.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, name
    assert memory.grad.abs().sum() > 0


def test_state_select_reorders_rows():
    att = LocationAwareAttention(6, 5, 8, n_filters=4, kernel_size=5)
    _, memory, mask = make_inputs()
    state = att.init_state(memory, mask)
    picked = state.select(torch.tensor([2, 2, 0]))  # unequal runs: one key row per query
    torch.testing.assert_close(picked.keys, state.keys[[2, 2, 0]])
    torch.testing.assert_close(picked.weights, state.weights[[2, 2, 0]])


def test_selected_memory_rows():
    rows = selected_memory_rows
    assert rows(torch.arange(6), 6, 3) is None  # the same rows
    assert rows(torch.tensor([0, 0, 1, 1, 2, 2]), 3, 3) is None  # every memory row gains a query
    assert rows(torch.tensor([1, 0, 2, 3, 5, 4]), 6, 3) is None  # queries reorder within their memory row
    assert rows(torch.tensor([3, 2, 3]), 4, 1) is None  # one memory row serves every query
    assert rows(torch.tensor([0, 1, 4, 5]), 6, 3).tolist() == [0, 2]  # memory row 1 drops out
    assert rows(torch.tensor([4, 5, 0, 1]), 6, 3).tolist() == [2, 0]  # runs reordered
    assert rows(torch.tensor([0, 0, 0, 4]), 6, 3).tolist() == [0, 0, 0, 2]  # unequal runs: one each
    assert rows(torch.tensor([2, 0]), 3, 3).tolist() == [2, 0]


def test_monotonic_window_limits_attention_in_eval_only():
    torch.manual_seed(0)
    inner = LocationAwareAttention(6, 5, 8, n_filters=4, kernel_size=5, skip_padding=False)
    window = MonotonicWindow(inner, backward=1, forward=2)
    query, memory, mask = make_inputs(lengths=(7, 7, 7))
    state = window.init_state(memory, mask)  # peak at frame 0
    window.eval()
    out = window(query, memory, mask, state)
    assert torch.all(out.weights[:, 3:] == 0)
    window.train()
    out = window(query, memory, mask, state)
    assert torch.all(out.weights[:, 3:] > 0)


def test_monotonic_window_needs_an_attention_that_keeps_padding():
    with pytest.raises(ValueError, match="skip_padding=False"):
        MonotonicWindow(LocationAwareAttention(6, 5, 8, n_filters=4, kernel_size=5))


def test_guided_attention_weights_match_formula():
    W = guided_attention_weights(torch.tensor([4, 3]), torch.tensor([5, 2]), sigma=0.3)
    assert W.shape == (2, 5, 4)
    for b, (S, T) in enumerate([(4, 5), (3, 2)]):
        for t in range(5):
            for s in range(4):
                expected = 1 - math.exp(-((s / S - t / T) ** 2) / (2 * 0.3**2)) if (s < S and t < T) else 0.0
                assert W[b, t, s].item() == pytest.approx(expected, abs=1e-6)


def test_guided_attention_loss_prefers_diagonal():
    S, T = 10, 20
    lengths_in, lengths_out = torch.tensor([S]), torch.tensor([T])
    diagonal = torch.zeros(1, T, S)
    diagonal[0, torch.arange(T), (torch.arange(T) * S) // T] = 1.0
    flat = torch.full((1, T, S), 1.0 / S)
    backwards = diagonal.flip(-1)
    d, f, b = (guided_attention_loss(w, lengths_in, lengths_out) for w in (diagonal, flat, backwards))
    assert d < 0.05 and d < f < b
    manual = (diagonal * guided_attention_weights(lengths_in, lengths_out)).sum() / (S * T)
    assert d.item() == pytest.approx(manual.item())


@pytest.mark.parametrize("make", MECHANISMS)
def test_queries_sharing_a_memory_row_match_a_repeated_memory(make):
    torch.manual_seed(0)
    att = make()
    _, memory, mask = make_inputs()
    W = 3
    rows = torch.arange(3).repeat_interleave(W)  # three queries (a beam) per memory row
    query = torch.randn(3 * W, 6, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        shared = att.init_state(memory, mask).select(rows)
        repeated = att.init_state(memory[rows], mask[rows])
        assert shared.keys.shape[0] == 3 and shared.weights.shape[0] == 9
        for _ in range(3):
            a = att(query, memory, mask, shared)
            b = att(query, memory[rows], mask[rows], repeated)
            torch.testing.assert_close(a.context, b.context)
            torch.testing.assert_close(a.weights, b.weights)
            shared, repeated = a.state, b.state
    kept = torch.tensor([2, 2, 0, 8, 6, 7])  # rows of memory rows 0 and 2: row 1 drops out
    picked = shared.select(kept)
    torch.testing.assert_close(picked.keys, shared.keys[[0, 2]])
    torch.testing.assert_close(picked.weights, shared.weights[kept])
    flat = shared.select(torch.tensor([2, 8, 6]))  # unequal runs: one key row per query
    torch.testing.assert_close(flat.keys, shared.keys[[0, 2, 2]])
