"""A weighted set of full and partial scorers that the searches drive as one."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import torch

from speech.decoding.scorer import PartialScorer, Scorer

NEG_INF = float("-inf")


class StepScores(NamedTuple):
    """What one scoring step of every hypothesis gives.

    Attributes:
        total: Weighted next-token scores, shape (N, V); -inf outside the candidates when
            partial scorers take part.
        full: Each full scorer's log-probabilities, shape (N, V).
        candidates: The tokens the partial scorers scored, shape (N, K); None without them.
        partial: Each partial scorer's score increments of the candidates, shape (N, K).
        partial_states: Each partial scorer's per-candidate state.
    """

    total: torch.Tensor
    full: dict[str, torch.Tensor]
    candidates: torch.Tensor | None
    partial: dict[str, torch.Tensor]
    partial_states: dict[str, Any]


class WeightedScorers:
    """Full and partial scorers with their weights, scoring and selecting hypotheses together.

    Args:
        scorers: Name to a :class:`Scorer` (full) or :class:`PartialScorer` (e.g. CTC prefix).
        weights: Name to weight (default 1.0; a weight of 0 disables a scorer).
        pre_beam: Candidates per hypothesis that the partial scorers score, given the vocabulary
            size and the beam size.
        eos_id: End token, always a candidate.

    Raises:
        ValueError: Weights of unknown scorers, or no full scorer.
    """

    def __init__(
        self,
        scorers: dict[str, Any],
        weights: dict[str, float],
        pre_beam: Callable[[int, int], int],
        eos_id: int,
    ) -> None:
        unknown = set(weights) - set(scorers)
        if unknown:
            raise ValueError(f"weights given for unknown scorers: {sorted(unknown)}")
        active = {k: s for k, s in scorers.items() if weights.get(k, 1.0) != 0}
        self.full = {k: s for k, s in active.items() if isinstance(s, Scorer)}
        self.partial = {
            k: s for k, s in active.items() if isinstance(s, PartialScorer) and k not in self.full
        }
        if not self.full:
            raise ValueError("at least one full scorer (decoder or language model) is needed")
        self.weights = {k: weights.get(k, 1.0) for k in active}
        self.names = [*self.full, *self.partial]
        self.pre_beam, self.eos_id = pre_beam, eos_id

    def init(self, memory: torch.Tensor, lengths: torch.Tensor) -> dict[str, Any]:
        """One hypothesis (the empty one) per utterance."""
        return {name: s.init_state(memory, lengths) for name, s in {**self.full, **self.partial}.items()}

    def score(self, last: torch.Tensor, states: dict[str, Any], beam_size: int) -> StepScores:
        """Score every hypothesis after its last token ``last`` (N,); the full scorers' states advance."""
        total, full = None, {}
        for name, s in self.full.items():
            full[name], states[name] = s.score(last, states[name])
            log_probs, weight = full[name].float(), self.weights[name]
            weighted = log_probs if weight == 1 else weight * log_probs  # x 1 is exact: skip the op
            total = weighted if total is None else weighted + total
        if not self.partial:
            return StepScores(total, full, None, {}, {})
        candidates = total.topk(self.pre_beam(total.shape[1], beam_size), dim=-1).indices  # (N, K)
        # Ending is always a candidate, so a hypothesis can stop wherever the partial scorers allow it.
        has_eos = (candidates == self.eos_id).any(dim=1)
        candidates[:, -1] = torch.where(has_eos, candidates[:, -1], self.eos_id)
        partial_total = total.gather(1, candidates)
        partial, partial_states = {}, {}
        for name, s in self.partial.items():
            partial[name], partial_states[name] = s.score_partial(last, candidates, states[name])
            partial_total = partial_total + self.weights[name] * partial[name]
        masked = torch.full_like(total, NEG_INF).scatter(1, candidates, partial_total)
        return StepScores(masked, full, candidates, partial, partial_states)

    def parts(
        self, step: StepScores, rows: torch.Tensor, tokens: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Each scorer's unweighted score of ``tokens`` (M,) after the hypotheses ``rows`` (M,).

        Returns:
            The scores, shape (M, P), one column per scorer in the order of ``names``, and the
            place of each token among its row's candidates (M,) (None without partial scorers).
        """
        scores = [step.full[name][rows, tokens].float() for name in self.full]
        if step.candidates is None:
            return torch.stack(scores, dim=1), None
        match = step.candidates.index_select(0, rows) == tokens[:, None]  # (M, K), one True at most
        found, columns = match.max(dim=1)  # (M,) each
        for name in self.partial:
            scores.append(torch.where(found, step.partial[name][rows, columns], NEG_INF))
        return torch.stack(scores, dim=1), columns

    def select(
        self, states: dict[str, Any], step: StepScores, rows: torch.Tensor, columns: torch.Tensor | None
    ) -> None:
        """Keep the hypotheses ``rows`` (N',), each extended by its candidate ``columns`` (N',).

        ``columns`` are those of :meth:`parts` (None without partial scorers).
        """
        for name, s in self.full.items():
            states[name] = s.select(states[name], rows)
        for name, s in self.partial.items():
            states[name] = s.extend(states[name], step.partial_states[name], rows, columns)
