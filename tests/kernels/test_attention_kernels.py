import copy

import pytest
import torch

from speech.attention import AdditiveAttention, LocationAwareAttention, MultiHeadLocationAwareAttention
from speech.decoding import BeamSearch, CTCPrefixScorer, SearchConfig, greedy_search
from speech.kernels import use_inference_kernels
from speech.models.speller import Speller, SpellerConfig
from speech.models.tacotron2_decoder import Decoder

MECHANISMS = {
    "additive": lambda: AdditiveAttention(6, 5, 8),
    "location": lambda: LocationAwareAttention(6, 5, 8, n_filters=4, kernel_size=5),
    "location, padding kept": lambda: LocationAwareAttention(
        6, 5, 8, n_filters=4, kernel_size=5, skip_padding=False
    ),
    "multi-head": lambda: MultiHeadLocationAwareAttention(6, 5, 8, 2, n_filters=3, kernel_size=5),
}


def reference_and_kernel(make):
    torch.manual_seed(0)
    reference = make()
    return reference, use_inference_kernels(copy.deepcopy(reference), "cpu")


def make_inputs(lengths, width, seed=0):
    g = torch.Generator().manual_seed(seed)
    S = max(lengths)
    mask = torch.arange(S)[None, :] < torch.tensor(lengths)[:, None]
    memory = torch.randn(len(lengths), S, 5, generator=g) * mask[..., None]
    queries = torch.randn(4, len(lengths) * width, 6, generator=g)  # one (N, D) query per step
    return queries, memory, mask


@pytest.mark.parametrize("width", [1, 3])  # queries per memory row
@pytest.mark.parametrize("lengths", [(7, 4, 2), (6,)])
@pytest.mark.parametrize("name", MECHANISMS)
def test_kernel_agrees_with_the_reference(name, lengths, width):
    reference, kernel = reference_and_kernel(MECHANISMS[name])
    queries, memory, mask = make_inputs(lengths, width)
    rows = torch.arange(len(lengths)).repeat_interleave(width)
    with torch.no_grad():
        a = b = reference.init_state(memory, mask).select(rows)
        for query in queries:
            a, b = reference(query, memory, mask, a), kernel(query, memory, mask, b)
            torch.testing.assert_close(b.context, a.context, atol=1e-6, rtol=1e-5)
            torch.testing.assert_close(b.weights, a.weights, atol=1e-6, rtol=1e-5)
            assert torch.all(b.weights[~mask[rows]] == 0)
            a, b = a.state, b.state


def test_each_new_mask_gets_its_own_padding_runs():
    reference, kernel = reference_and_kernel(MECHANISMS["location"])
    for lengths in ((7, 4, 2), (7, 7, 3), (2, 7, 7)):  # one shape, three paddings
        queries, memory, mask = make_inputs(lengths, 1)
        with torch.no_grad():
            a = reference(queries[0], memory, mask, reference.init_state(memory, mask))
            b = kernel(queries[0], memory, mask, reference.init_state(memory, mask))
        torch.testing.assert_close(b.weights, a.weights, atol=1e-6, rtol=1e-5)


@pytest.mark.parametrize("name", MECHANISMS)
def test_with_gradients_the_kernel_is_the_reference(name):
    reference, kernel = reference_and_kernel(MECHANISMS[name])
    queries, memory, mask = make_inputs((7, 4, 2), 1)
    a, b = reference.init_state(memory, mask), kernel.init_state(memory, mask)
    for query in queries[:2]:
        out_a, out_b = reference(query, memory, mask, a), kernel(query, memory, mask, b)
        assert torch.equal(out_a.context, out_b.context) and torch.equal(out_a.weights, out_b.weights)
        a, b = out_a.state, out_b.state
    (out_b.context.pow(2).sum() + out_b.weights.pow(2).sum()).backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in kernel.parameters() if p.dim() > 1)


def tiny_speller(heads):
    torch.manual_seed(heads)
    config = SpellerConfig(
        vocab_size=12, memory_dim=6, embed_dim=8, hidden_size=16, attention_dim=8,
        attention_heads=heads, location_filters=4, location_kernel=5, dropout=0.0,
    )  # fmt: skip
    return Speller(config, never_emit=(0, 1)).eval()


def decode(speller, memory, lengths, beam):
    ctc = torch.randn(6, 12, generator=torch.Generator().manual_seed(1))
    scorers = {
        "decoder": speller,
        "ctc": CTCPrefixScorer(lambda m, n: (torch.log_softmax(m @ ctc, dim=-1), n), blank_id=0, eos_id=2),
    }
    weights, config = {"decoder": 0.7, "ctc": 0.3}, SearchConfig(beam_size=beam, max_length_ratio=1.0)
    if beam == 1:
        return [h.tokens for h in greedy_search(scorers, weights, memory, lengths, 1, 2, config)]
    return [h[0].tokens for h in BeamSearch(scorers, weights, 1, 2, config)(memory, lengths)]


@pytest.mark.parametrize("beam", [1, 4])
@pytest.mark.parametrize("heads", [1, 2])
def test_a_whole_decode_gives_the_same_tokens(heads, beam):
    speller = tiny_speller(heads)
    lengths = torch.tensor([14, 9, 5, 12])
    memory = torch.randn(4, 14, 6, generator=torch.Generator().manual_seed(2))
    memory = memory * (torch.arange(14)[None, :] < lengths[:, None])[..., None]
    reference = decode(speller, memory, lengths, beam)
    kernel = decode(use_inference_kernels(copy.deepcopy(speller), "cpu"), memory, lengths, beam)
    assert kernel == reference
    assert sum(len(t) for t in reference) >= 8  # a decode worth comparing


def test_tacotron2_synthesis_with_the_window_agrees():
    torch.manual_seed(0)
    reference = Decoder(4, 5, 2, [6], 0.5, 6, 6, 8, 3, 5, 0.1).eval()
    kernel = use_inference_kernels(copy.deepcopy(reference), "cpu")
    lengths = torch.tensor([7, 3])
    memory = torch.randn(2, 7, 5, generator=torch.Generator().manual_seed(1))
    mask = torch.arange(7)[None, :] < lengths[:, None]
    outputs = []
    for decoder in (reference, kernel):
        generators = [torch.Generator().manual_seed(b) for b in range(2)]
        outputs.append(decoder.infer(memory, mask, torch.tensor([12, 12]), generators, stop_threshold=1.0))
    (a, steps_a, _), (b, steps_b, _) = outputs
    assert torch.equal(steps_a, steps_b)
    torch.testing.assert_close(b.mel, a.mel, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(b.attention, a.attention, atol=1e-5, rtol=1e-5)
