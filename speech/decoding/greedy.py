"""Greedy search: the best-scoring token at every step, for a whole batch at once."""

from __future__ import annotations

from typing import Any

import torch

from speech.decoding.beam_search import SearchConfig
from speech.decoding.scorer import Hypothesis
from speech.decoding.weighted import NEG_INF, WeightedScorers
from speech.kernels import stop_check_every


@torch.no_grad()
def greedy_search(
    scorers: dict[str, Any],
    weights: dict[str, float],
    memory: torch.Tensor,
    memory_lengths: torch.Tensor,
    sos_id: int,
    eos_id: int,
    config: SearchConfig | None = None,
    check_every: int | None = None,
) -> list[Hypothesis]:
    """Pick the best-scoring token at every step, for a whole batch at once.

    Uses the same weighted scorers and length limits as :class:`~speech.decoding.BeamSearch`
    (with beam 1).

    Args:
        scorers: Name to a full or partial scorer.
        weights: Name to weight (default 1.0; 0 disables a scorer).
        memory: Encoder output, shape (B, S, D).
        memory_lengths: Valid frames per utterance, shape (B,).
        sos_id: Start token.
        eos_id: End token.
        config: Length limits and length penalty.
        check_every: Steps between the checks whether every utterance has ended, each a host
            sync off the CPU (steps past the end only append eos, so any value gives the same
            result); default :func:`speech.kernels.stop_check_every`.

    Returns:
        One hypothesis per utterance.
    """
    config = config or SearchConfig(beam_size=1)
    group = WeightedScorers(scorers, weights, config.pre_beam, eos_id)
    B, device = memory.shape[0], memory.device
    check_every = check_every or stop_check_every(device)
    max_len, min_len = config.length_limits(memory_lengths.tolist())
    min_len, limit = torch.tensor(min_len, device=device), torch.tensor(max_len, device=device)
    rows = torch.arange(B, device=device)  # one hypothesis per utterance
    states = group.init(memory, memory_lengths)
    last = torch.full((B,), sos_id, dtype=torch.long, device=device)
    score, parts = torch.zeros(B, device=device), torch.zeros(B, len(group.names), device=device)
    out = torch.zeros(B, 0, dtype=torch.long, device=device)
    ended = torch.zeros(B, dtype=torch.bool, device=device)
    for step in range(max(max_len)):
        scored = group.score(last, states, 1)
        scored.total[:, eos_id].masked_fill_(step < min_len, NEG_INF)  # no host sync, unlike indexing
        best_score, best = scored.total.max(dim=1)
        best_parts, columns = group.parts(scored, rows, best)  # (B, P), (B,)
        running = ~ended & (step < limit)
        score = score + torch.where(running, best_score, 0.0)
        parts = parts + torch.where(running[:, None], best_parts, 0.0)
        ended = ended | (running & (best == eos_id))
        out = torch.cat([out, torch.where(running, best, eos_id)[:, None]], dim=1)
        if (step + 1) % check_every == 0 and bool((ended | (step + 1 >= limit)).all()):
            break
        group.select(states, scored, rows, columns)
        last = best
    parts_by_name = [dict(zip(group.names, p, strict=True)) for p in parts.tolist()]
    return [
        _hypothesis(seq, s, p, e, eos_id, config)
        for seq, s, p, e in zip(out.tolist(), score.tolist(), parts_by_name, ended.tolist(), strict=True)
    ]


def _hypothesis(
    seq: list[int], score: float, scores: dict[str, float], ended: bool, eos_id: int, config: SearchConfig
) -> Hypothesis:
    """The hypothesis of one utterance from its emitted tokens (eos and what follows dropped)."""
    seq = seq[: seq.index(eos_id)] if eos_id in seq else seq
    length = len(seq) + int(ended)
    return Hypothesis(seq, score, score / max(length, 1) ** config.length_penalty, ended, scores)
