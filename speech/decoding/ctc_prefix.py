"""CTC prefix scoring for joint CTC/attention decoding.

Watanabe et al. 2017, "Hybrid CTC/attention architecture for end-to-end speech recognition".
The prefix probability recursions are linear recurrences in probability space, so instead of
a loop over frames they are solved in closed form with ``logcumsumexp``, in float64 by
default: the running sums of log-probabilities reach thousands, where float32 keeps only
about 1e-3 of absolute precision (``dtype`` selects). A candidate's prefix probability is one
sum over frames, taken as a dot product of probabilities scaled by the prefix's largest term.
"""

from __future__ import annotations

from typing import NamedTuple

import torch

NEG_INF = float("-inf")


class CTCPrefixState(NamedTuple):
    """Prefix state: per-utterance posteriors, per-hypothesis recursions.

    Attributes:
        log_probs: CTC log-posteriors per utterance, token-major, shape (B, V, T): -inf for
            c != blank and 0 for the blank past the end, so padding changes nothing.
        probs: ``log_probs.exp()``, shape (B, V, T).
        lengths: Valid frames per utterance, shape (B,).
        utterance: The utterance (row of ``log_probs``) of each hypothesis, shape (N,).
        r_nonblank: log P(prefix, ending in a non-blank at frame t), shape (N, T).
        r_blank: log P(prefix, ending in blank at frame t), shape (N, T).
        prefix_score: log P(prefix ...), shape (N,).
        empty: True while the prefix holds no token yet, shape (N,).
    """

    log_probs: torch.Tensor
    probs: torch.Tensor
    lengths: torch.Tensor
    utterance: torch.Tensor
    r_nonblank: torch.Tensor
    r_blank: torch.Tensor
    prefix_score: torch.Tensor
    empty: torch.Tensor

    def frames(
        self, utterance: torch.Tensor, tokens: torch.Tensor, table: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Log-posteriors over time of ``tokens`` (N, ...) in ``utterance`` (N,): shape (N, ..., T).

        ``table`` (B, V, T) replaces ``log_probs`` as the source (e.g. ``probs``).
        """
        table = self.log_probs if table is None else table
        B, V, T = table.shape
        index = utterance.view(-1, *([1] * (tokens.dim() - 1))) * V + tokens  # (N, ...)
        return table.view(B * V, T).index_select(0, index.reshape(-1)).view(*tokens.shape, T)


class _Candidates(NamedTuple):
    """What :meth:`CTCPrefixScorer.extend` needs of a scoring step.

    Attributes:
        last_tokens: Shape (N,).
        candidates: Shape (N, K).
        prefix_score: ``log P(h c ...)`` of each candidate, shape (N, K).
        r_total: ``log P(h)`` at each frame, shape (N, T).
    """

    last_tokens: torch.Tensor
    candidates: torch.Tensor
    prefix_score: torch.Tensor
    r_total: torch.Tensor


def _shifted(x: torch.Tensor, first: float | torch.Tensor) -> torch.Tensor:
    """``y[..., t] = x[..., t - 1]`` with ``y[..., 0] = first``."""
    head = torch.as_tensor(first, dtype=x.dtype, device=x.device).expand(*x.shape[:-1], 1)
    return torch.cat([head, x[..., :-1]], dim=-1)


def _start(empty: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """``phi`` before the first frame: log 1 for the empty prefix, else log 0; shape (N, 1)."""
    return empty.to(dtype).log_()[:, None]  # log 1 = 0, log 0 = -inf


class CTCPrefixScorer:
    """A :class:`~speech.decoding.scorer.PartialScorer` over CTC log-posteriors.

    Scoring a candidate only needs ``log P(h c ...)``, one sum over frames; the frame-wise
    recursions of the extended prefixes are solved in :meth:`extend`, for the few candidates
    the search keeps.

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
        B, T, _ = log_probs.shape
        device = log_probs.device
        valid = torch.arange(T, device=device)[None, :] < lengths[:, None]  # (B, T)
        log_probs = log_probs.masked_fill(~valid[..., None], NEG_INF)
        log_probs[..., self.blank_id] = log_probs[..., self.blank_id].masked_fill(~valid, 0.0)
        r_blank = torch.cumsum(log_probs[..., self.blank_id], dim=1)  # all blanks up to t
        log_probs = log_probs.transpose(1, 2).contiguous()  # (B, T, V) -> (B, V, T)
        return CTCPrefixState(
            log_probs=log_probs,
            probs=log_probs.exp(),
            lengths=lengths,
            utterance=torch.arange(B, device=device),
            r_nonblank=torch.full_like(r_blank, NEG_INF),
            r_blank=r_blank,
            prefix_score=torch.zeros(B, dtype=self.dtype, device=device),
            empty=torch.ones(B, dtype=torch.bool, device=device),
        )

    def score_partial(
        self, last_tokens: torch.Tensor, candidates: torch.Tensor, state: CTCPrefixState
    ) -> tuple[torch.Tensor, _Candidates]:
        """Prefix-score increments ``log P(h c ...) - log P(h ...)`` of candidates (N, K)."""
        r_total = torch.logaddexp(state.r_nonblank, state.r_blank)  # (N, T)
        # log P(h c ...) = log sum_t phi(t - 1) x_c(t), with phi = r_blank when c repeats the
        # last token (it must follow a blank) and r_total otherwise.
        start = _start(state.empty, r_total.dtype)
        phi_total, phi_blank = _shifted(r_total, start), _shifted(state.r_blank, start)  # (N, T)
        scale = phi_total.amax(dim=1, keepdim=True)  # (N, 1); r_total >= r_blank
        scale = torch.where(torch.isfinite(scale), scale, 0.0)
        x = state.frames(state.utterance, candidates, state.probs)  # (N, K, T), probabilities
        sums = (x * (phi_total - scale).exp_()[:, None, :]).sum(dim=-1)  # (N, K)
        x_last = state.frames(state.utterance, last_tokens, state.probs)  # (N, T)
        repeat_sums = (x_last * (phi_blank - scale).exp_()).sum(dim=-1)  # (N,)
        repeat = (candidates == last_tokens[:, None]) & ~state.empty[:, None]  # (N, K)
        psi = torch.where(repeat, repeat_sums[:, None], sums).log_() + scale
        last = (state.lengths.index_select(0, state.utterance) - 1).clamp(min=0)[:, None]
        complete = r_total.gather(1, last).squeeze(1)  # log P(h) exactly, at the last valid frame
        psi = torch.where(candidates == self.eos_id, complete[:, None], psi)
        scores = (psi - state.prefix_score[:, None]).nan_to_num(nan=NEG_INF)
        return scores.float(), _Candidates(last_tokens, candidates, psi, r_total)

    def extend(
        self, state: CTCPrefixState, candidate_state: _Candidates, rows: torch.Tensor, columns: torch.Tensor
    ) -> CTCPrefixState:
        """State of hypothesis ``rows[i]`` extended by its ``columns[i]``-th candidate."""
        tokens = candidate_state.candidates[rows, columns]  # (N',)
        utterance = state.utterance.index_select(0, rows)
        empty = state.empty.index_select(0, rows)
        r_blank_prev = state.r_blank.index_select(0, rows)
        r_total = candidate_state.r_total.index_select(0, rows)  # (N', T)
        repeat = (tokens == candidate_state.last_tokens.index_select(0, rows)) & ~empty
        phi_prev = _shifted(torch.where(repeat[:, None], r_blank_prev, r_total), _start(empty, r_total.dtype))
        # r_n(t) = (r_n(t-1) + phi(t-1)) * x(t): a linear recurrence, solved with cumulative sums.
        x_cum = torch.cumsum(state.frames(utterance, tokens), dim=-1)
        r_nonblank = x_cum + torch.logcumsumexp(phi_prev - _shifted(x_cum, 0.0), dim=-1)
        b_cum = torch.cumsum(state.frames(utterance, torch.full_like(tokens, self.blank_id)), dim=-1)
        r_blank = b_cum + torch.logcumsumexp(_shifted(r_nonblank, NEG_INF) - _shifted(b_cum, 0.0), dim=-1)
        lengths = state.lengths.index_select(0, utterance)
        invalid = torch.arange(r_blank.shape[-1], device=rows.device)[None, :] >= lengths[:, None]
        return CTCPrefixState(
            log_probs=state.log_probs,
            probs=state.probs,
            lengths=state.lengths,
            utterance=utterance,
            r_nonblank=r_nonblank.masked_fill(invalid, NEG_INF),  # frames past the end would hold NaN
            r_blank=r_blank.masked_fill(invalid, NEG_INF),
            prefix_score=candidate_state.prefix_score[rows, columns],
            empty=torch.zeros_like(empty),
        )
