import pytest
import torch

from speech.models.speller import Speller, SpellerConfig
from tests.models.conftest import tiny_speller


def speller_and_memory(heads):
    torch.manual_seed(0)
    speller = Speller(SpellerConfig(vocab_size=10, memory_dim=6, **tiny_speller(heads)), never_emit=(0, 1))
    lengths = torch.tensor([9, 4, 7])
    memory = torch.randn(3, 9, 6) * (torch.arange(9)[None, :] < lengths[:, None])[..., None]
    return speller.eval(), memory, lengths


@pytest.mark.parametrize("heads", [1, 2])
def test_hypotheses_of_one_utterance_share_its_memory_row(heads):
    speller, memory, lengths = speller_and_memory(heads)
    rows = torch.tensor([0, 0, 2, 2])  # two hypotheses each of utterances 0 and 2: 1 drops out
    last = torch.tensor([4, 5, 6, 7])
    with torch.no_grad():
        shared = speller.select(speller.init_state(memory, lengths), rows)
        copied = speller.init_state(memory[rows], lengths[rows])  # one memory row per hypothesis
        assert shared.memory.shape[0] == 2 and copied.memory.shape[0] == 4
        for _ in range(3):
            a, shared = speller.score(last, shared)
            b, copied = speller.score(last, copied)
            torch.testing.assert_close(a, b)
        for kept, memory_rows in ((torch.tensor([3, 2]), 1), (torch.tensor([1, 0, 3]), 3)):
            # both hypotheses of utterance 2 (one memory row), or runs of unequal length (a row each)
            a, _ = speller.score(last[: len(kept)], speller.select(shared, kept))
            b, _ = speller.score(last[: len(kept)], speller.select(copied, kept))
            assert speller.select(shared, kept).memory.shape[0] == memory_rows
            torch.testing.assert_close(a, b)


@pytest.mark.parametrize("heads,layers", [(1, 1), (2, 2)])
def test_teacher_forced_pass_equals_stepping_the_cells_with_gradients(heads, layers):
    """The fast teacher-forced pass gives the step-by-step values and every parameter's gradient."""
    torch.manual_seed(0)
    config = SpellerConfig(vocab_size=10, memory_dim=6, **{**tiny_speller(heads), "n_layers": layers})
    speller = Speller(config, never_emit=(0, 1)).train()
    lengths = torch.tensor([9, 4, 7])
    memory = torch.randn(3, 9, 6).requires_grad_()
    inputs = torch.randint(2, 10, (3, 5))
    results = []
    for fast in (True, False):
        speller.zero_grad()
        memory.grad = None
        if fast:
            out = speller(memory, lengths, inputs)
            logits, weights = out.logits, out.attention
        else:  # Speller.step (nn.LSTMCell) at every step
            state, steps = speller.init_state(memory, lengths), []
            for u in range(inputs.shape[1]):
                step_logits, step_weights, state = speller.step(inputs[:, u], state)
                steps.append((step_logits, step_weights))
            logits, weights = (torch.stack(x, dim=1) for x in zip(*steps, strict=True))
        (logits.log_softmax(-1)[..., 3].sum() + weights.square().sum()).backward()
        grads = {k: p.grad.clone() for k, p in speller.named_parameters() if p.grad is not None}
        results.append((logits.detach(), weights.detach(), memory.grad.clone(), grads))
    (l1, w1, m1, g1), (l2, w2, m2, g2) = results
    torch.testing.assert_close(l1, l2, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(w1, w2, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(m1, m2, atol=1e-5, rtol=1e-4)
    assert g1.keys() == g2.keys() and "cells.0.weight_ih" in g1
    for name in g2:
        torch.testing.assert_close(g1[name], g2[name], atol=1e-5, rtol=1e-4, msg=name)
