"""Sequence-level training: the risk, its costs, N-best generation and the MWER/MRT criteria."""

import math

import pytest
import sacrebleu
import torch

from speech.decoding import SearchConfig
from speech.errors import ConfigError
from speech.metrics import sentence_costs
from speech.models.las import ListenAttendSpell
from speech.tasks.risk import LossConfig, expected_risk, hypotheses, list_risk, sequence_risk
from tests.models.test_las import batch, tiny_config


def test_risk_of_a_hand_computed_three_best_list():
    # log P = -1, -2, -3; word errors 0, 1, 2. Renormalised: e^-1, e^-2, e^-3 over their sum
    # 0.5530017 = 0.6652410, 0.2447285, 0.0900306. Mean errors 1, so the risk is
    # 0.6652410 * (0 - 1) + 0.2447285 * 0 + 0.0900306 * (2 - 1) = -0.5752104 and the expected
    # errors 0.2447285 + 2 * 0.0900306 = 0.4247896.
    log_probs = torch.tensor([[-1.0, -2.0, -3.0, 7.0]])  # the fourth entry is padding
    errors = torch.tensor([[0.0, 1.0, 2.0, 5.0]])
    mask = torch.tensor([[True, True, True, False]])
    risk, expected = expected_risk(log_probs, errors, mask)
    assert risk.item() == pytest.approx(-0.5752104, abs=1e-6)
    assert expected.item() == pytest.approx(0.4247896, abs=1e-6)
    # Shifting every log-probability (renormalisation) or every cost (the baseline) changes nothing.
    assert expected_risk(log_probs - 3, errors + 10, mask)[0].item() == pytest.approx(-0.5752104, abs=1e-6)


def test_the_risk_gradient_moves_probability_to_the_cheapest_hypothesis():
    errors = torch.tensor([[3.0, 0.0, 1.0, 2.0], [1.0, 4.0, 0.0, 0.0]])
    mask = torch.tensor([[True, True, True, True], [True, True, True, False]])
    logits = torch.zeros(2, 4, requires_grad=True)
    optimiser = torch.optim.SGD([logits], lr=0.5)
    before = expected_risk(logits, errors, mask)[1].detach()
    for _ in range(50):
        optimiser.zero_grad()
        expected_risk(logits, errors, mask)[0].sum().backward()
        optimiser.step()
    after = expected_risk(logits, errors, mask)[1].detach()
    assert (after < before - 0.5).all()
    assert torch.softmax(logits.detach().masked_fill(~mask, -1e9), -1)[:, 1:3].argmax(-1).tolist() == [0, 1]


def _toy():
    torch.manual_seed(0)
    model = ListenAttendSpell(tiny_config(ctc_weight=0.3))
    feats, lengths, targets, target_lengths = batch()
    return model, model.listener(feats, lengths), targets, target_lengths


def _decode(tokens):
    return " ".join(f"w{t}" for t in tokens)


def test_the_mwer_gradient_lowers_the_expected_word_errors_of_a_toy_model():
    model, _, targets, target_lengths = _toy()
    feats, lengths, _, _ = batch()
    refs = [_decode(targets[i, : target_lengths[i]].tolist()) for i in range(3)]
    config = LossConfig(criterion="mwer", ce_weight=0.0, nbest=4)
    search = SearchConfig(beam_size=4, max_length_ratio=1.0)
    lists = hypotheses(model, model.listener(feats, lengths), config, search, seed=0)
    texts = [_decode(h) for hyps in lists for h in hyps]
    costs = sentence_costs([refs[b] for b, hyps in enumerate(lists) for _ in hyps], texts, "errors")
    assert len(set(costs)) > 1  # the list has better and worse hypotheses
    best, i = [], 0  # the lowest expected errors reachable: all probability on each list's best
    for hyps in lists:
        best.append(min(costs[i : i + len(hyps)]))
        i += len(hyps)
    optimiser = torch.optim.Adam(model.parameters(), lr=0.05)
    expected = []
    for _ in range(20):
        risk = list_risk(model, model.listener(feats, lengths), lists, costs)
        expected.append(risk.expected_cost.item())
        optimiser.zero_grad()
        risk.risk.backward()
        optimiser.step()
    assert expected[0] > sum(best) / len(best) + 0.2
    assert all(b <= a + 1e-4 for a, b in zip(expected, expected[1:], strict=False)), expected
    assert expected[-1] == pytest.approx(sum(best) / len(best), abs=0.02)


def test_sequence_risk_trains_end_to_end_on_the_models_own_hypotheses():
    model, _, targets, target_lengths = _toy()
    feats, lengths, _, _ = batch()
    refs = [_decode(targets[i, : target_lengths[i]].tolist()) for i in range(3)]
    config = LossConfig(criterion="mwer", nbest=3, hypotheses="sample")
    risk = sequence_risk(model, model.listener(feats, lengths), refs, _decode, config, SearchConfig(), 0)
    assert risk.hypotheses >= 3 and torch.isfinite(risk.risk) and risk.mean_cost > 0
    risk.risk.backward()
    assert model.speller.output[2].weight.grad.abs().sum() > 0
    assert next(model.listener.parameters()).grad.abs().sum() > 0  # through the memory too


def test_rescoring_gives_the_search_score_of_each_hypothesis():
    model, enc, _, _ = _toy()
    model.eval()
    with torch.no_grad():  # an untrained speller never ends: make eos likely, after 2 tokens at most
        model.speller.output[2].bias[2] += 1.0
    found = model.search(enc, SearchConfig(beam_size=3, nbest=3, min_length_ratio=0.2), ctc_weight=0.0)
    assert all(h.ended for hyps in found for h in hyps) and max(len(h.tokens) for h in found[0]) == 2
    rows = torch.tensor([b for b, hyps in enumerate(found) for _ in hyps])
    flat = [h.tokens for hyps in found for h in hyps]
    lengths = torch.tensor([len(t) for t in flat])
    tokens = torch.zeros(len(flat), max(1, max(lengths)), dtype=torch.long)
    for i, t in enumerate(flat):
        tokens[i, : len(t)] = torch.tensor(t, dtype=torch.long)
    scores = model.sequence_log_probs(enc, rows, tokens, lengths)
    expected = torch.tensor([h.scores["decoder"] for hyps in found for h in hyps])
    torch.testing.assert_close(scores, expected, atol=1e-4, rtol=1e-5)


@pytest.mark.parametrize("kind", ["beam", "sample"])
def test_nbest_generation_is_deterministic_under_a_seed(kind):
    model, enc, _, _ = _toy()
    model.train()  # hypotheses come from the speller without dropout, whatever the mode
    config = LossConfig(criterion="mwer", nbest=5, hypotheses=kind)
    search = SearchConfig(beam_size=5, max_length_ratio=1.0)
    first = hypotheses(model, enc, config, search, seed=7)
    assert hypotheses(model, enc, config, search, seed=7) == first
    assert model.speller.training
    assert all(1 <= len(h) <= 5 for h in first)
    if kind == "sample":
        assert all(len(set(map(tuple, h))) == len(h) for h in first)  # duplicates dropped
        assert any(hypotheses(model, enc, config, search, seed=s) != first for s in (8, 9, 10))


def test_samples_stop_at_the_length_limit_and_never_draw_the_banned_tokens():
    model, enc, _, _ = _toy()
    search = SearchConfig(max_length_ratio=0.3)
    drawn = model.sample(enc, 6, torch.Generator().manual_seed(0), search)
    limits, _ = search.length_limits(enc.memory_lengths.tolist())
    for samples, limit in zip(drawn, limits, strict=True):
        assert len(samples) == 6
        assert all(len(s) <= limit and not {0, 1, 2} & set(s) for s in samples)


def test_samples_are_the_same_when_the_end_is_checked_every_few_steps(monkeypatch):
    """The GPU schedule (one host sync every k steps) draws past the end: the same samples."""
    import speech.models.s2t as s2t

    model, enc, _, _ = _toy()
    search = SearchConfig(max_length_ratio=1.0)
    every_step = model.sample(enc, 6, torch.Generator().manual_seed(0), search)
    monkeypatch.setattr(s2t, "stop_check_every", lambda device: 5)
    assert model.sample(enc, 6, torch.Generator().manual_seed(0), search) == every_step
    assert len({len(s) for samples in every_step for s in samples}) > 1  # samples end at different steps


def test_sentence_costs_follow_sacrebleu_and_jiwer():
    refs = ["le chat est sur le tapis", "deux cent trois", "un"]
    hyps = ["le chat est sur un tapis", "deux cents trois", ""]
    bleu = sentence_costs(refs, hyps, "bleu")
    chrf = sentence_costs(refs, hyps, "chrf")
    for r, h, b, c in zip(refs, hyps, bleu, chrf, strict=True):
        assert b == pytest.approx(1 - sacrebleu.sentence_bleu(h, [r]).score / 100)
        assert c == pytest.approx(1 - sacrebleu.sentence_chrf(h, [r]).score / 100)
    assert bleu[2] == 1.0 and 0 < bleu[0] < bleu[1] < 1
    assert sentence_costs(refs, refs, "bleu") == [0.0, 0.0, 0.0]
    # "one two three four" -> "one too three four five": a substitution and an insertion.
    assert sentence_costs(
        ["one two three four", "", "a b"], ["one too three four five", "x y", ""], "errors"
    ) == [
        2.0,
        2.0,
        2.0,
    ]
    with pytest.raises(ValueError, match="unknown sentence cost"):
        sentence_costs(refs, hyps, "ter")


@pytest.mark.parametrize(
    ("fields", "key"),
    [
        ({"criterion": "mbr"}, "loss.criterion"),
        ({"nbest": 1}, "loss.nbest"),
        ({"ce_weight": 1.5}, "loss.ce_weight"),
        ({"hypotheses": "topk"}, "loss.hypotheses"),
        ({"metric": "ter"}, "loss.metric"),
    ],
)
def test_loss_config_is_checked(fields, key):
    from speech.config import from_dict
    from speech.tasks.s2t import ASRConfig

    with pytest.raises(ConfigError, match=f"'{key}'"):
        from_dict(ASRConfig, {"loss": fields})


def test_risk_is_finite_when_every_hypothesis_is_empty():
    log_probs = torch.tensor([[-0.5, -math.inf]])
    risk, expected = expected_risk(log_probs, torch.tensor([[2.0, 0.0]]), torch.tensor([[True, False]]))
    assert risk.item() == 0.0 and expected.item() == 2.0
