"""Sequence-level training of the speech-to-text models: minimum word error rate and minimum risk.

Models are trained on per-token cross-entropy but judged on WER or BLEU. Minimum risk training
(Shen et al. 2016, "Minimum risk training for neural machine translation"; for attention ASR,
Prabhavalkar et al. 2018, "Minimum word error rate training for attention-based
sequence-to-sequence models") minimises the expected cost of the model's own hypotheses instead:

1. without gradients, take N hypotheses per utterance: the beam search's N-best, or N samples
   drawn token by token (duplicates dropped);
2. cost each against the reference: word errors (MWER), or 1 - sentence BLEU or chrF (MRT);
3. with gradients, score each hypothesis by the speller, teacher-forced:
   ``log P(y | x)``, renormalised over the list: ``P'(y_i) = softmax_i log P(y_i | x)``;
4. the risk is ``sum_i P'(y_i) (cost_i - mean cost)``: the mean over the list is a baseline that
   reduces the variance without moving the gradient's expectation.

The training loss interpolates it with the model's own cross-entropy (and CTC) loss, which
keeps training stable: ``λ CE + (1 - λ) risk`` with λ = ``loss.ce_weight``, so λ = 1 is plain
cross-entropy training. :class:`LossConfig` is the YAML ``loss`` section.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import NamedTuple

import torch
from torch import nn

from speech.config import check_choice, check_positive, check_range, field_error
from speech.decoding import SearchConfig
from speech.metrics import sentence_costs
from speech.models.listener import ListenerOutput
from speech.models.s2t import SpeechToText

CRITERIA = ("ce", "mwer", "mrt")
HYPOTHESES = ("beam", "sample")
MRT_METRICS = ("bleu", "chrf")


@dataclass
class LossConfig:
    """The training criterion of a speech-to-text model.

    Attributes:
        criterion: ``"ce"``: the joint CTC-attention cross-entropy (the default); ``"mwer"``:
            minimum word error rate, the expected word errors of N hypotheses (recognition);
            ``"mrt"``: minimum risk with a sentence-level ``metric`` (translation).
        ce_weight: λ of ``λ CE + (1 - λ) risk``, in [0, 1]; 1 is plain cross-entropy.
        nbest: Hypotheses per utterance (N >= 2).
        hypotheses: ``"beam"``: the beam search's N-best (beam N); ``"sample"``: N samples
            drawn from the speller with a generator seeded by ``trainer.seed`` and the step,
            duplicates dropped.
        metric: The cost of ``mrt``: ``"bleu"`` (1 - smoothed sentence BLEU / 100) or ``"chrf"``.
        search_ctc_weight: Weight of the CTC prefix score in the N-best beam search (a CTC head
            over the target tokens only); 0, the default, searches with the speller alone.
    """

    criterion: str = "ce"
    ce_weight: float = 0.1
    nbest: int = 4
    hypotheses: str = "beam"
    metric: str = "bleu"
    search_ctc_weight: float = 0.0

    def __post_init__(self) -> None:
        check_choice(self, "criterion", CRITERIA)
        check_range(self, "ce_weight", ge=0, le=1)
        check_positive(self, "nbest")
        if self.nbest < 2:
            raise field_error(self, "nbest", f"must be at least 2 (a risk needs a list), got {self.nbest}")
        check_choice(self, "hypotheses", HYPOTHESES)
        check_choice(self, "metric", MRT_METRICS)
        check_range(self, "search_ctc_weight", ge=0, lt=1)

    @property
    def cost(self) -> str:
        """The :func:`~speech.metrics.sentence_costs` kind of this criterion."""
        return "errors" if self.criterion == "mwer" else self.metric


class Risk(NamedTuple):
    """The expected cost of a batch and what it was computed from.

    Attributes:
        risk: Mean over utterances of ``sum_i P'(y_i) (cost_i - mean cost)`` (differentiable).
        expected_cost: Mean over utterances of ``sum_i P'(y_i) cost_i`` (for logs).
        mean_cost: Mean cost of all hypotheses (for logs).
        hypotheses: Hypotheses scored.
    """

    risk: torch.Tensor
    expected_cost: torch.Tensor
    mean_cost: float
    hypotheses: int


def expected_risk(
    log_probs: torch.Tensor, costs: torch.Tensor, mask: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-utterance risk and expected cost over renormalised N-best lists.

    Args:
        log_probs: Hypothesis log-probabilities, shape (B, N); only the ``mask`` entries count.
        costs: Their costs, shape (B, N).
        mask: Which entries are hypotheses, shape (B, N), at least one per row.

    Returns:
        The risk ``sum_i P'_i (c_i - mean c)`` and the expected cost ``sum_i P'_i c_i``, each (B,),
        with ``P' = softmax`` of the log-probabilities over each row's hypotheses.
    """
    probs = torch.softmax(log_probs.masked_fill(~mask, float("-inf")), dim=-1)
    costs = costs.masked_fill(~mask, 0.0)
    mean = costs.sum(-1) / mask.sum(-1).clamp(min=1)
    expected = (probs * costs).sum(-1)
    return expected - mean * probs.sum(-1), expected


@contextlib.contextmanager
def evaluating(module: nn.Module) -> Iterator[None]:
    """``module`` in eval mode (no dropout) inside the block, its own mode restored after it."""
    was_training = module.training
    module.eval()
    try:
        yield
    finally:
        module.train(was_training)


def hypotheses(
    model: SpeechToText, enc: ListenerOutput, config: LossConfig, search: SearchConfig, seed: int
) -> list[list[list[int]]]:
    """N token lists per utterance, without gradients, from the speller without dropout.

    Beam: the N-best of a beam-N search with ``search``'s length limits and no length penalty
    (it ranks lists, it does not pick one). Sample: N samples from a generator seeded with
    ``seed``, duplicates dropped. Either is the same for the same model, input and seed.
    """
    memory = ListenerOutput(*(t.detach() if isinstance(t, torch.Tensor) else t for t in enc))
    n = config.nbest
    with torch.no_grad(), evaluating(model.speller):
        if config.hypotheses == "beam":
            nbest = SearchConfig(
                beam_size=n,
                nbest=n,
                max_length_ratio=search.max_length_ratio,
                min_length_ratio=search.min_length_ratio,
                length_penalty=search.length_penalty,
            )
            found = model.search(memory, nbest, ctc_weight=config.search_ctc_weight)
            return [[h.tokens for h in hyps] for hyps in found]
        generator = torch.Generator(device=memory.memory.device).manual_seed(seed)
        drawn = model.sample(memory, n, generator, search)
        return [list(dict.fromkeys(map(tuple, seqs))) for seqs in drawn]


def sequence_risk(
    model: SpeechToText,
    enc: ListenerOutput,
    references: list[str],
    decode: Callable[[list[int]], str],
    config: LossConfig,
    search: SearchConfig,
    seed: int,
) -> Risk:
    """The batch's risk: hypotheses, their costs against ``references``, their teacher-forced scores.

    Args:
        model: The model being trained (its speller scores the hypotheses with gradients).
        enc: The listener's output for the batch (gradients flow through it).
        references: Reference sentences, one per utterance.
        decode: Token ids to text (the target tokenizer's ``decode``).
        config: The ``loss`` section.
        search: The task's search settings (length limits).
        seed: Seed of the sampler (with ``hypotheses: sample``).
    """
    lists = hypotheses(model, enc, config, search, seed)
    rows = [b for b, hyps in enumerate(lists) for _ in hyps]
    texts = [decode(list(h)) for hyps in lists for h in hyps]
    costs = sentence_costs([references[b] for b in rows], texts, config.cost)
    return list_risk(model, enc, lists, costs)


def list_risk(
    model: SpeechToText, enc: ListenerOutput, lists: list[list[list[int]]], costs: list[float]
) -> Risk:
    """The risk of given hypothesis lists with given costs (flat, list after list).

    The teacher-forced rescoring pass of :func:`sequence_risk`: gradients flow through the
    speller's scores of the hypotheses, not through the hypotheses or their costs.
    """
    device = enc.memory.device
    rows = [b for b, hyps in enumerate(lists) for _ in hyps]
    flat = [list(h) for hyps in lists for h in hyps]
    B, N = len(lists), max(len(hyps) for hyps in lists)
    column = [i for hyps in lists for i in range(len(hyps))]
    lengths = torch.tensor([len(h) for h in flat], device=device)
    tokens = torch.full((len(flat), max(int(lengths.max()), 1)), model.config.pad_id, device=device)
    for i, h in enumerate(flat):
        tokens[i, : len(h)] = torch.tensor(h, dtype=torch.long)
    index = torch.tensor(rows, device=device)
    log_probs = model.sequence_log_probs(enc, index, tokens, lengths)
    at = (index, torch.tensor(column, device=device))
    grid = torch.zeros(B, N, device=device).index_put(at, log_probs)
    cost_grid = torch.zeros(B, N, device=device).index_put(at, torch.tensor(costs, device=device))
    mask = torch.zeros(B, N, dtype=torch.bool, device=device).index_put(at, torch.tensor(True, device=device))
    risk, expected = expected_risk(grid, cost_grid, mask)
    return Risk(risk.mean(), expected.detach().mean(), sum(costs) / len(costs), len(flat))
