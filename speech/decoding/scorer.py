"""The Scorer protocols a search drives (the ESPnet pattern).

A *full* scorer gives log-probabilities over the whole vocabulary for every hypothesis
(attention decoders, language models). A *partial* scorer scores only a few candidate
tokens per hypothesis (the CTC prefix scorer, whose cost grows with the candidates).

Rows of every tensor are hypotheses. The search owns the beam structure (which rows belong
to which utterance, which utterances are still running); a scorer only learns, through
``select(state, indices)``, which rows to keep. The searches keep the rows of an utterance
consecutive and equally many per remaining utterance, so a scorer may keep per-utterance
tensors once per utterance (the speller does, see :meth:`SpellerState.select
<speech.models.speller.SpellerState.select>`), but nothing in the protocol depends on it.
"""

from __future__ import annotations

from typing import Any, NamedTuple, Protocol, runtime_checkable

import torch


@runtime_checkable
class Scorer(Protocol):
    """Scores every vocabulary entry as the next token of every hypothesis."""

    def init_state(self, memory: torch.Tensor, memory_lengths: torch.Tensor) -> Any:
        """State for one hypothesis per utterance; memory (B, S, D), lengths (B,)."""

    def score(self, last_tokens: torch.Tensor, state: Any) -> tuple[torch.Tensor, Any]:
        """Consume ``last_tokens`` (N,); return next-token log-probs (N, V) and the new state."""

    def select(self, state: Any, indices: torch.Tensor) -> Any:
        """Keep (and repeat or reorder) the rows ``indices`` (N',) of ``state``."""


@runtime_checkable
class PartialScorer(Protocol):
    """Scores a few candidate next tokens per hypothesis."""

    def init_state(self, memory: torch.Tensor, memory_lengths: torch.Tensor) -> Any:
        """State for one hypothesis per utterance."""

    def score_partial(
        self, last_tokens: torch.Tensor, candidates: torch.Tensor, state: Any
    ) -> tuple[torch.Tensor, Any]:
        """Log-score increments (N, K) of ``candidates`` (N, K) and a per-candidate state."""

    def extend(self, state: Any, candidate_state: Any, rows: torch.Tensor, columns: torch.Tensor) -> Any:
        """The state after extending hypothesis ``rows[i]`` with its candidate ``columns[i]``."""


class Hypothesis(NamedTuple):
    """A finished hypothesis.

    Attributes:
        tokens: Token ids without sos and eos.
        score: Weighted log-score sum (eos included when it ended by eos).
        normalized_score: ``score`` divided by ``length ** length_penalty`` (the ranking key).
        ended: True when the hypothesis emitted eos; False when cut at the length limit.
        scores: Each scorer's own (unweighted) log-score sum, by scorer name, for the scorers
            with a non-zero weight (ESPnet's per-scorer scores): ``score`` is
            ``sum(weights[name] * scores[name])`` up to float rounding.
    """

    tokens: list[int]
    score: float
    normalized_score: float
    ended: bool
    scores: dict[str, float]
