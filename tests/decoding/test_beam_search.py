import itertools

import pytest
import torch

from speech.decoding import BeamSearch, CTCPrefixScorer, SearchConfig, greedy_search
from tests.decoding.toy import BLANK, EOS, SOS, ToyDecoder, toy_ctc, toy_memory

LENGTHS = [7, 3, 5, 6, 2]


def scorers(with_ctc):
    s = {"decoder": ToyDecoder()}
    if with_ctc:
        s["ctc"] = CTCPrefixScorer(toy_ctc(), blank_id=BLANK, eos_id=EOS)
    return s


@pytest.mark.parametrize("with_ctc", [False, True])
def test_beam_one_equals_greedy(with_ctc):
    memory, lengths = toy_memory(LENGTHS)
    weights = {"ctc": 0.3} if with_ctc else {}
    config = SearchConfig(beam_size=1, max_length_ratio=1.5)
    beam = BeamSearch(scorers(with_ctc), weights, SOS, EOS, config)(memory, lengths)
    greedy = greedy_search(scorers(with_ctc), weights, memory, lengths, SOS, EOS, config)
    for b in range(len(LENGTHS)):
        assert beam[b][0].tokens == greedy[b].tokens
        assert beam[b][0].score == pytest.approx(greedy[b].score, abs=1e-5)


@pytest.mark.parametrize("with_ctc", [False, True])
def test_batched_equals_one_at_a_time(with_ctc):
    memory, lengths = toy_memory(LENGTHS)
    weights = {"ctc": 0.5} if with_ctc else {}
    search = BeamSearch(scorers(with_ctc), weights, SOS, EOS, SearchConfig(beam_size=4, max_length_ratio=1.5))
    batched = search(memory, lengths)
    for b, n in enumerate(LENGTHS):
        single = search(memory[b : b + 1, :n], lengths[b : b + 1])
        assert batched[b][0].tokens == single[0][0].tokens
        assert batched[b][0].score == pytest.approx(single[0][0].score, abs=1e-4)


def test_wide_beam_finds_the_exhaustive_optimum():
    memory, lengths = toy_memory([3])
    decoder = ToyDecoder(vocab_size=5)
    config = SearchConfig(beam_size=50, nbest=3, max_length_ratio=1.4)
    result = BeamSearch({"decoder": decoder}, {}, SOS, EOS, config)(memory, lengths)
    best = None
    symbols = [3, 4]
    for n in range(5):  # max_len = ceil(1.4 * 3) = 5 steps: up to 4 tokens, then eos
        for seq in itertools.product(symbols, repeat=n):
            state = decoder.init_state(memory, lengths)
            last, score = torch.tensor([SOS]), 0.0
            for tok in (*seq, EOS):
                lp, state = decoder.score(last, state)
                score += lp[0, tok].item()
                last = torch.tensor([tok])
            normalized = score / (n + 1)
            if best is None or normalized > best[0]:
                best = (normalized, list(seq))
    assert result[0][0].tokens == best[1]
    assert result[0][0].normalized_score == pytest.approx(best[0], abs=1e-5)
    assert len(result[0]) == 3 and result[0][0].normalized_score >= result[0][1].normalized_score


def test_length_limits_and_ctc_weight_changes_result():
    memory, lengths = toy_memory(LENGTHS)
    config = SearchConfig(beam_size=3, max_length_ratio=0.5, min_length_ratio=0.3)
    result = BeamSearch(scorers(False), {}, SOS, EOS, config)(memory, lengths)
    for b, n in enumerate(LENGTHS):
        hyp = result[b][0]
        assert len(hyp.tokens) <= max(1, -(-n // 2))
        if hyp.ended:
            assert len(hyp.tokens) >= int(0.3 * n)
    no_ctc = BeamSearch(scorers(True), {"ctc": 0.0}, SOS, EOS, SearchConfig(beam_size=4))(memory, lengths)
    plain = BeamSearch(scorers(False), {}, SOS, EOS, SearchConfig(beam_size=4))(memory, lengths)
    assert [h[0].tokens for h in no_ctc] == [h[0].tokens for h in plain]
    heavy = BeamSearch(scorers(True), {"ctc": 3.0}, SOS, EOS, SearchConfig(beam_size=4))(memory, lengths)
    assert [h[0].tokens for h in heavy] != [h[0].tokens for h in plain]


def test_bad_configuration():
    with pytest.raises(ValueError):
        SearchConfig(beam_size=2, nbest=3)
    with pytest.raises(ValueError):
        BeamSearch(scorers(False), {"lm": 0.5}, SOS, EOS)
    with pytest.raises(ValueError):
        BeamSearch({"ctc": CTCPrefixScorer(toy_ctc(), BLANK, EOS)}, {}, SOS, EOS)


@pytest.mark.parametrize("with_ctc", [False, True])
def test_greedy_checking_for_the_end_every_few_steps_gives_the_same_hypotheses(with_ctc):
    """The GPU schedule (one host sync every k steps) runs past the end: same tokens and scores."""
    memory, lengths = toy_memory(LENGTHS)
    weights = {"ctc": 0.3} if with_ctc else {}
    config = SearchConfig(beam_size=1, max_length_ratio=1.5, min_length_ratio=0.3)
    results = [
        greedy_search(scorers(with_ctc), weights, memory, lengths, SOS, EOS, config, check_every=k)
        for k in (1, 4, 100)
    ]
    assert {h.ended for h in results[0]} == {True, False} or with_ctc  # eos and the length limit both met
    for other in results[1:]:
        assert [h.tokens for h in other] == [h.tokens for h in results[0]]
        assert [h.ended for h in other] == [h.ended for h in results[0]]
        assert [h.score for h in other] == pytest.approx([h.score for h in results[0]], abs=1e-6)
