import pytest
import torch

from speech.attention import LocationAwareAttention, MultiHeadLocationAwareAttention


def make_inputs(lengths=(7, 4, 2), width=2, seed=0):
    g = torch.Generator().manual_seed(seed)
    S = max(lengths)
    memory = torch.randn(len(lengths), S, 5, generator=g)
    mask = torch.arange(S)[None, :] < torch.tensor(lengths)[:, None]
    query = torch.randn(len(lengths) * width, 6, generator=g)
    return query, memory * mask[..., None], mask


def make(heads=2):
    torch.manual_seed(0)
    return MultiHeadLocationAwareAttention(6, 5, 8, heads, n_filters=3, kernel_size=5)


def beams(n_memory, width):
    return torch.arange(n_memory).repeat_interleave(width)  # width queries per memory row


def test_shapes_heads_and_masking():
    att = make(heads=2)
    query, memory, mask = make_inputs()
    state = att.init_state(memory, mask).select(beams(3, 2))
    for _ in range(3):
        out = att(query, memory, mask, state)
        state = out.state
        assert out.context.shape == (6, 5) and out.weights.shape == (6, 7)
        assert len(state.heads) == 2 and all(h.weights.shape == (6, 7) for h in state.heads)
        torch.testing.assert_close(out.weights, (state.heads[0].weights + state.heads[1].weights) / 2)
        torch.testing.assert_close(out.weights.sum(-1), torch.ones(6))
        assert torch.all(out.weights.view(3, 2, 7)[~mask[:, None].expand(3, 2, 7)] == 0)
        query = query.flip(0)
    # the heads differ: their own projections and location filters
    assert not torch.allclose(state.heads[0].weights, state.heads[1].weights)


def test_one_head_is_a_location_aware_attention_with_an_output_projection():
    att = make(heads=1)
    single = LocationAwareAttention(6, 5, 8, n_filters=3, kernel_size=5)
    single.load_state_dict(
        {k.removeprefix("heads.0."): v for k, v in att.state_dict().items() if "heads" in k}
    )
    query, memory, mask = make_inputs(width=1)
    a = att(query, memory, mask, att.init_state(memory, mask))
    b = single(query, memory, mask, single.init_state(memory, mask))
    torch.testing.assert_close(a.weights, b.weights)
    torch.testing.assert_close(a.context, att.output(b.context))


@pytest.mark.parametrize("grad", [True, False])
def test_padding_invariance(grad):
    att = make(heads=2)
    query, memory, mask = make_inputs(width=1)
    with torch.set_grad_enabled(grad):
        batch_state = att.init_state(memory, mask)
        singles = [
            att.init_state(memory[i : i + 1, :n], mask[i : i + 1, :n]) for i, n in enumerate((7, 4, 2))
        ]
        for _ in range(3):
            out = att(query, memory, mask, batch_state)
            for i, n in enumerate((7, 4, 2)):
                alone = att(query[i : i + 1], memory[i : i + 1, :n], mask[i : i + 1, :n], singles[i])
                torch.testing.assert_close(out.context[i], alone.context[0], atol=1e-6, rtol=1e-5)
                torch.testing.assert_close(out.weights[i, :n], alone.weights[0], atol=1e-6, rtol=1e-5)
                singles[i] = alone.state
            batch_state = out.state


def test_selection_of_every_head():
    att = make(heads=2)
    query, memory, mask = make_inputs()
    state = att.init_state(memory, mask).select(beams(3, 2))
    with torch.no_grad():
        state = att(query, memory, mask, state).state
    picked = state.select(torch.tensor([1, 0, 5, 5]))  # memory row 1 drops out
    for head, before in zip(picked.heads, state.heads, strict=True):
        torch.testing.assert_close(head.keys, before.keys[[0, 2]])
        torch.testing.assert_close(head.cumulative, before.cumulative[[1, 0, 5, 5]])
    flat = state.select(torch.tensor([1, 0, 0, 5]))  # unequal runs: one key row per query
    for head, before in zip(flat.heads, state.heads, strict=True):
        torch.testing.assert_close(head.keys, before.keys[[0, 0, 0, 2]])


def test_heads_must_divide_the_attention_size():
    with pytest.raises(ValueError, match="multiple of n_heads"):
        MultiHeadLocationAwareAttention(6, 5, 8, 3)
