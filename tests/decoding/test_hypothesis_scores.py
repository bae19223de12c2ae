"""Each hypothesis carries every scorer's own score; weighted, they add up to its score."""

import pytest
import torch
import torch.nn.functional as F

from speech.decoding import BeamSearch, CTCPrefixScorer, SearchConfig, greedy_search
from tests.decoding.toy import BLANK, EOS, SOS, ToyDecoder, toy_ctc, toy_memory

LENGTHS = [7, 3, 5, 6, 2]
WEIGHTS = {"decoder": 0.6, "ctc": 0.4, "lm": 0.3}


def scorers():
    return {
        "decoder": ToyDecoder(),
        "ctc": CTCPrefixScorer(toy_ctc(), blank_id=BLANK, eos_id=EOS),
        "lm": ToyDecoder(seed=5, sharpness=1.0),  # a second full scorer standing for a language model
    }


def decoder_log_prob(decoder, memory, length, tokens, ended):
    """Teacher-forced log-probability of ``tokens`` (and eos when it ended) under a toy decoder."""
    state = decoder.init_state(memory[None, :length], torch.tensor([length]))
    last, total = torch.tensor([SOS]), 0.0
    for token in [*tokens, EOS] if ended else tokens:
        log_probs, state = decoder.score(last, state)
        total += log_probs[0, token].item()
        last = torch.tensor([token])
    return total


def ctc_log_prob(memory, length, tokens):
    """log P(tokens | memory) of the toy CTC head: the CTC score of a complete hypothesis."""
    log_probs, _ = toy_ctc()(memory[None, :length], torch.tensor([length]))
    targets, target_lengths = torch.tensor([tokens]), [len(tokens)]
    loss = F.ctc_loss(log_probs.transpose(0, 1), targets, [length], target_lengths, BLANK, reduction="sum")
    return -loss.item()


def check(hyp, scorer_set, memory, b, weights):
    assert set(hyp.scores) == {name for name, w in weights.items() if w != 0}
    assert sum(w * hyp.scores[name] for name, w in weights.items() if w) == pytest.approx(hyp.score, abs=1e-4)
    for name in ("decoder", "lm"):
        if weights[name]:
            expected = decoder_log_prob(scorer_set[name], memory[b], LENGTHS[b], hyp.tokens, hyp.ended)
            assert hyp.scores[name] == pytest.approx(expected, abs=1e-4)
    if weights["ctc"] and hyp.ended:
        assert hyp.scores["ctc"] == pytest.approx(ctc_log_prob(memory[b], LENGTHS[b], hyp.tokens), abs=1e-4)


@pytest.mark.parametrize("weights", [WEIGHTS, {**WEIGHTS, "lm": 0.0}, {**WEIGHTS, "ctc": 0.0}])
def test_beam_search_scores_per_scorer_add_up(weights):
    memory, lengths = toy_memory(LENGTHS)
    s = scorers()
    config = SearchConfig(beam_size=4, nbest=3, max_length_ratio=1.5)
    result = BeamSearch(s, weights, SOS, EOS, config)(memory, lengths)
    for b, hyps in enumerate(result):
        assert hyps
        for hyp in hyps:
            check(hyp, s, memory, b, weights)


@pytest.mark.parametrize("weights", [WEIGHTS, {**WEIGHTS, "ctc": 0.0}])
def test_greedy_search_scores_per_scorer_add_up(weights):
    memory, lengths = toy_memory(LENGTHS)
    s = scorers()
    for b, hyp in enumerate(greedy_search(s, weights, memory, lengths, SOS, EOS, SearchConfig(beam_size=1))):
        check(hyp, s, memory, b, weights)


def test_hypotheses_cut_at_the_length_limit_add_up_too():
    memory, lengths = toy_memory(LENGTHS)
    s = scorers()
    config = SearchConfig(beam_size=3, nbest=2, max_length_ratio=0.4, min_length_ratio=0.4)
    result = BeamSearch(s, WEIGHTS, SOS, EOS, config)(memory, lengths)
    cut = [(b, h) for b, hyps in enumerate(result) for h in hyps if not h.ended]
    assert cut
    for b, hyp in cut:
        check(hyp, s, memory, b, WEIGHTS)
