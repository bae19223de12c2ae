import itertools
import math

import pytest
import torch

from speech.decoding import CTCPrefixScorer

BLANK, EOS = 0, 3


def collapse(path):
    out, prev = [], None
    for p in path:
        if p != prev and p != BLANK:
            out.append(p)
        prev = p
    return tuple(out)


def brute_force(log_probs, prefix, exact=False):
    """Sum of path probabilities whose collapse starts with (or equals) prefix."""
    T, V = log_probs.shape
    total = 0.0
    for path in itertools.product(range(V), repeat=T):
        c = collapse(path)
        if (c == prefix) if exact else (c[: len(prefix)] == prefix):
            total += math.exp(sum(log_probs[t, p].item() for t, p in enumerate(path)))
    return total


@pytest.mark.parametrize("seed", [0, 1])
def test_prefix_scores_match_brute_force_with_padding(seed):
    g = torch.Generator().manual_seed(seed)
    V, lengths = 4, [5, 3]
    log_probs = torch.log_softmax(torch.randn(2, 5, V, generator=g) * 1.5, dim=-1)
    scorer = CTCPrefixScorer(lambda m, n: (m, n), blank_id=BLANK, eos_id=EOS)
    state = scorer.init_state(log_probs, torch.tensor(lengths))
    candidates = torch.tensor([[1, 2, 3]] * 2)
    prefixes = [(), ()]
    last = torch.tensor([1, 1])  # sos stands in for the last token of the empty prefix
    for extension in ([1, 2], [1, 1]):
        scores, cand_state = scorer.score_partial(last, candidates, state)
        for b in range(2):
            lp = log_probs[b, : lengths[b]]
            base = brute_force(lp, prefixes[b])
            for k, c in enumerate(candidates[b].tolist()):
                if c == EOS:
                    expected = brute_force(lp, prefixes[b], exact=True) / base
                else:
                    expected = brute_force(lp, prefixes[b] + (c,)) / base
                assert math.exp(scores[b, k].item()) == pytest.approx(expected, rel=1e-4, abs=1e-9)
        columns = torch.tensor([candidates[b].tolist().index(extension[b]) for b in range(2)])
        state = scorer.extend(state, cand_state, torch.tensor([0, 1]), columns)
        prefixes = [prefixes[b] + (extension[b],) for b in range(2)]
        last = torch.tensor(extension)


def test_impossible_prefix_scores_minus_infinity():
    # Two frames cannot hold the prefix (1, 1), which needs a blank between the repeats.
    log_probs = torch.log_softmax(torch.zeros(1, 2, 4), dim=-1)
    scorer = CTCPrefixScorer(lambda m, n: (m, n), blank_id=BLANK, eos_id=EOS)
    state = scorer.init_state(log_probs, torch.tensor([2]))
    scores, cand = scorer.score_partial(torch.tensor([1]), torch.tensor([[1]]), state)
    state = scorer.extend(state, cand, torch.tensor([0]), torch.tensor([0]))
    scores, _ = scorer.score_partial(torch.tensor([1]), torch.tensor([[1, 2]]), state)
    assert scores[0, 0] == float("-inf") and torch.isfinite(scores[0, 1])
