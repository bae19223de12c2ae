"""CTC prefix scoring for joint CTC/attention decoding.

Watanabe et al. 2017, "Hybrid CTC/attention architecture for end-to-end speech recognition".
The prefix probability recursions are linear recurrences in probability space, so instead of
a loop over frames they are solved in closed form with ``logcumsumexp``, in float64 by
default: the running sums of log-probabilities reach thousands, where float32 keeps only
about 1e-3 of absolute precision (``dtype`` selects).
"""

from __future__ import annotations

from typing import NamedTuple

import torch

NEG_INF = float("-inf")


class CTCPrefixState(NamedTuple):
    """Per-hypothesis prefix state.

    Attributes:
        log_probs: CTC log-posteriors, shape (N, T, V), -inf for c != blank past the end.
        lengths: Valid frames, shape (N,).
        r_nonblank: log P(prefix, ending in a non-blank at frame t), shape (N, T).
        r_blank: log P(prefix, ending in blank at frame t), shape (N, T).
        prefix_score: log P(prefix ...), shape (N,).
        empty: True while the prefix holds no token yet, shape (N,).
    """

    log_probs: torch.Tensor
    lengths: torch.Tensor
    r_nonblank: torch.Tensor
    r_blank: torch.Tensor
    prefix_score: torch.Tensor
    empty: torch.Tensor


def _shifted(x: torch.Tensor, first: float | torch.Tensor) -> torch.Tensor:
    """``y[..., t] = x[..., t - 1]`` with ``y[..., 0] = first``."""
    head = torch.as_tensor(first, dtype=x.dtype, device=x.device).expand(*x.shape[:-1], 1)
    return torch.cat([head, x[..., :-1]], dim=-1)


class CTCPrefixScorer:
    """A :class:`~speech.decoding.scorer.PartialScorer` over CTC log-posteriors.

    Args:
        ctc_log_probs: Function mapping ``(memory, memory_lengths)`` to CTC log-posteriors
            (B, T, V) and their lengths (B,); typically the recognizer's CTC head.
        blank_id: Index of the CTC blank.
        eos_id: Index of the end token; its score is the probability of the complete prefix.
        dtype: Precision of the recursions.
    """

    def __init__(self, ctc_log_probs, blank_id: int, eos_id: int, dtype: torch.dtype = torch.float64) -> None:
        self.ctc_log_probs = ctc_log_probs
        self.blank_id = blank_id
        self.eos_id = eos_id
        self.dtype = dtype

    def init_state(self, memory: torch.Tensor, memory_lengths: torch.Tensor) -> CTCPrefixState:
        """Start with the empty prefix for every utterance."""
        log_probs, lengths = self.ctc_log_probs(memory, memory_lengths)
        log_probs = log_probs.to(self.dtype)
        T = log_probs.shape[1]
        valid = torch.arange(T, device=log_probs.device)[None, :] < lengths[:, None]  # (N, T)
        log_probs = log_probs.masked_fill(~valid[..., None], NEG_INF)
        log_probs[..., self.blank_id] = log_probs[..., self.blank_id].masked_fill(~valid, 0.0)
        r_blank = torch.cumsum(log_probs[..., self.blank_id], dim=1)  # all blanks up to t
        N = log_probs.shape[0]
        return CTCPrefixState(
            log_probs=log_probs,
            lengths=lengths,
            r_nonblank=torch.full_like(r_blank, NEG_INF),
            r_blank=r_blank,
            prefix_score=torch.zeros(N, dtype=self.dtype, device=log_probs.device),
            empty=torch.ones(N, dtype=torch.bool, device=log_probs.device),
        )

    def score_partial(
        self, last_tokens: torch.Tensor, candidates: torch.Tensor, state: CTCPrefixState
    ) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor, torch.Tensor]]:
        """Prefix-score increments ``log P(h c ...) - log P(h ...)`` of candidates (N, K)."""
        x = torch.gather(state.log_probs, 2, candidates[:, None, :].expand(-1, state.log_probs.shape[1], -1))
        x = x.transpose(1, 2)  # (N, T, K) -> (N, K, T)
        r_total = torch.logaddexp(state.r_nonblank, state.r_blank)  # (N, T)
        repeat = (candidates == last_tokens[:, None]) & ~state.empty[:, None]  # (N, K)
        phi = torch.where(repeat[..., None], state.r_blank[:, None, :], r_total[:, None, :])  # (N, K, T)
        start = torch.where(state.empty, 0.0, NEG_INF).to(phi.dtype)[:, None, None]  # phi at t = -1
        phi_prev = torch.cat([start.expand(-1, phi.shape[1], 1), phi[..., :-1]], dim=-1)  # phi_{t-1}
        psi = torch.logsumexp(phi_prev + x, dim=-1)  # (N, K)
        # r_n(t) = (r_n(t-1) + phi(t-1)) * x(t): a linear recurrence, solved with cumulative sums.
        x_cum = torch.cumsum(x, dim=-1)
        r_nonblank = x_cum + torch.logcumsumexp(phi_prev - _shifted(x_cum, 0.0), dim=-1)
        blank = state.log_probs[..., self.blank_id][:, None, :]  # (N, 1, T)
        b_cum = torch.cumsum(blank, dim=-1)
        r_blank = b_cum + torch.logcumsumexp(_shifted(r_nonblank, NEG_INF) - _shifted(b_cum, 0.0), dim=-1)
        valid = torch.arange(x.shape[-1], device=x.device)[None, None, :] < state.lengths[:, None, None]
        r_nonblank = r_nonblank.masked_fill(~valid, NEG_INF)  # frames past the end would hold NaN
        r_blank = r_blank.masked_fill(~valid, NEG_INF)
        last = (state.lengths - 1).clamp(min=0)[:, None]
        complete = r_total.gather(1, last).squeeze(1)  # log P(h) exactly, at the last valid frame
        is_eos = candidates == self.eos_id
        psi = torch.where(is_eos, complete[:, None], psi)
        scores = (psi - state.prefix_score[:, None]).nan_to_num(nan=NEG_INF)
        return scores.float(), (r_nonblank, r_blank, psi)

    def extend(
        self, state: CTCPrefixState, candidate_state, rows: torch.Tensor, columns: torch.Tensor
    ) -> CTCPrefixState:
        """State of hypothesis ``rows[i]`` extended by its ``columns[i]``-th candidate."""
        r_nonblank, r_blank, psi = candidate_state
        return CTCPrefixState(
            log_probs=state.log_probs.index_select(0, rows),
            lengths=state.lengths.index_select(0, rows),
            r_nonblank=r_nonblank[rows, columns],
            r_blank=r_blank[rows, columns],
            prefix_score=psi[rows, columns],
            empty=torch.zeros_like(rows, dtype=torch.bool),
        )
