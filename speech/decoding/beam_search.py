"""One batched beam search and a greedy search over a weighted set of scorers.

All utterances x beams live in one tensor of N = B x W rows. Each step the full scorers
score the whole vocabulary; when partial scorers (CTC prefix) take part, only the
``pre_beam`` best tokens of the full score per row are scored by them. Finished utterances
are dropped from the tensors, so the batch shrinks as decoding proceeds.

Ending: an utterance stops when it holds ``beam_size`` finished hypotheses, when it reaches
its length limit (``max_length_ratio`` x encoder frames), or when no running hypothesis can
still beat the best finished one (scores only fall with each token, so a running score
divided by the longest allowed length bounds what it can reach after normalisation).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import torch

from speech.config import check_non_negative, check_positive, check_range
from speech.decoding.scorer import Hypothesis, PartialScorer, Scorer

NEG_INF = float("-inf")


@dataclass
class SearchConfig:
    """Search settings.

    Attributes:
        beam_size: Hypotheses kept per utterance.
        max_length_ratio: Output tokens allowed per encoder frame (the length limit).
        min_length_ratio: Output tokens required per encoder frame before eos is allowed.
        length_penalty: Finished scores are divided by ``length ** length_penalty``
            (length counts eos); 0 disables length normalisation.
        pre_beam_ratio: Partial scorers see ``max(pre_beam_ratio x beam_size, min_pre_beam)``
            candidates per hypothesis.
        min_pre_beam: Lower bound of the partial scorers' candidates.
        nbest: Hypotheses returned per utterance (at most ``beam_size``).

    Raises:
        speech.config.FieldError: From ``__post_init__`` when a value is out of range.
    """

    beam_size: int = 8
    max_length_ratio: float = 1.0
    min_length_ratio: float = 0.0
    length_penalty: float = 1.0
    pre_beam_ratio: float = 1.5
    min_pre_beam: int = 4
    nbest: int = 1

    def __post_init__(self) -> None:
        check_positive(self, "beam_size", "max_length_ratio", "pre_beam_ratio", "min_pre_beam")
        check_range(self, "nbest", ge=1, le=self.beam_size, note="at most beam_size")
        check_range(self, "min_length_ratio", ge=0, le=self.max_length_ratio, note="at most max_length_ratio")
        check_non_negative(self, "length_penalty")

    def length_limits(self, memory_lengths: list[int]) -> tuple[list[int], list[int]]:
        """Per utterance: the most steps allowed, and the steps before eos is allowed."""
        max_len = [max(1, math.ceil(self.max_length_ratio * n)) for n in memory_lengths]
        min_len = [
            min(math.floor(self.min_length_ratio * n), m - 1)
            for n, m in zip(memory_lengths, max_len, strict=True)
        ]
        return max_len, min_len

    def pre_beam(self, vocab_size: int, beam_size: int | None = None) -> int:
        """Candidates per hypothesis for the partial scorers."""
        beam = self.beam_size if beam_size is None else beam_size
        return min(vocab_size, max(int(self.pre_beam_ratio * beam), self.min_pre_beam))


class _Scorers:
    """A weighted set of full and partial scorers, scoring and selecting rows together."""

    def __init__(
        self, scorers: dict[str, Any], weights: dict[str, float], config: SearchConfig, eos_id: int
    ) -> None:
        self.config, self.eos_id = config, eos_id
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

    def init(self, memory: torch.Tensor, lengths: torch.Tensor) -> dict[str, Any]:
        """One hypothesis (the empty one) per utterance."""
        return {name: s.init_state(memory, lengths) for name, s in {**self.full, **self.partial}.items()}

    def score(self, last: torch.Tensor, states: dict[str, Any], beam_size: int) -> tuple[torch.Tensor, Any]:
        """Weighted log-scores (N, V); -inf outside the pre-beam when partial scorers take part."""
        total = None
        for name, s in self.full.items():
            log_probs, states[name] = s.score(last, states[name])
            total = self.weights[name] * log_probs.float() + (0 if total is None else total)
        if not self.partial:
            return total, None
        candidates = total.topk(self.config.pre_beam(total.shape[1], beam_size), dim=-1).indices  # (N, K)
        # Ending is always a candidate, so a hypothesis can stop wherever the partial scorers allow it.
        has_eos = (candidates == self.eos_id).any(dim=1)
        candidates[:, -1] = torch.where(has_eos, candidates[:, -1], self.eos_id)
        partial_total = total.gather(1, candidates)
        candidate_states = {}
        for name, s in self.partial.items():
            scores, candidate_states[name] = s.score_partial(last, candidates, states[name])
            partial_total = partial_total + self.weights[name] * scores
        masked = torch.full_like(total, NEG_INF).scatter(1, candidates, partial_total)
        return masked, (candidates, candidate_states)

    def select(self, states: dict[str, Any], beams: torch.Tensor, tokens: torch.Tensor, extra: Any) -> None:
        """Keep the hypothesis rows ``beams`` (B', W'), row i all of one utterance, extended by ``tokens``."""
        rows = beams.reshape(-1)
        for name, s in self.full.items():
            select_beams = getattr(s, "select_beams", None)
            states[name] = select_beams(states[name], beams) if select_beams else s.select(states[name], rows)
        if extra is not None:
            candidates, candidate_states = extra
            columns = (candidates.index_select(0, rows) == tokens[:, None]).float().argmax(dim=1)
            for name, s in self.partial.items():
                states[name] = s.extend(states[name], candidate_states[name], rows, columns)


class BeamSearch:
    """Batched beam search over a weighted set of scorers.

    Full scorers may offer ``select_beams(state, beams)``, a :meth:`Scorer.select` told that
    the rows ``beams`` (B', W') come in one row per remaining utterance; the speller uses it
    to keep its memory once per utterance instead of once per hypothesis.

    Args:
        scorers: Name to a :class:`Scorer` (full) or :class:`PartialScorer` (e.g. CTC prefix).
        weights: Name to weight (default 1.0; a weight of 0 disables a scorer).
        sos_id: Start token fed at the first step.
        eos_id: End token.
        config: Search settings.
    """

    def __init__(
        self,
        scorers: dict[str, Any],
        weights: dict[str, float],
        sos_id: int,
        eos_id: int,
        config: SearchConfig | None = None,
    ) -> None:
        self.config = config or SearchConfig()
        self.scorers = _Scorers(scorers, weights, self.config, eos_id)
        self.sos_id, self.eos_id = sos_id, eos_id

    def _normalize(self, score: float, length: int) -> float:
        return score / max(length, 1) ** self.config.length_penalty

    @torch.no_grad()
    def __call__(self, memory: torch.Tensor, memory_lengths: torch.Tensor) -> list[list[Hypothesis]]:
        """Decode a batch.

        The first step scores the one empty hypothesis of each utterance; from then on each
        utterance has ``beam_size`` rows (w below is the current number of rows per utterance).

        Args:
            memory: Encoder output, shape (B, S, D).
            memory_lengths: Valid frames per utterance, shape (B,).

        Returns:
            For each utterance, its ``nbest`` hypotheses, best first.
        """
        W, B, device = self.config.beam_size, memory.shape[0], memory.device
        max_len, min_len = self.config.length_limits(memory_lengths.tolist())
        states = self.scorers.init(memory, memory_lengths)
        scores = torch.zeros(B, 1, device=device)  # (n, w)
        tokens = torch.zeros(B, 0, dtype=torch.long, device=device)  # (n w, step)
        last = torch.full((B,), self.sos_id, dtype=torch.long, device=device)
        active = list(range(B))
        finished: list[list[Hypothesis]] = [[] for _ in range(B)]
        step = 0
        while active:
            total, extra = self.scorers.score(last, states, W)
            (n, w), too_short = scores.shape, [i for i, b in enumerate(active) if step < min_len[b]]
            top_scores, top_beam, top_token = self._top(scores, total, too_short)  # (n, k) each
            is_eos = top_token == self.eos_id
            self._finish_eos(active, finished, tokens, top_scores, top_beam, is_eos, w)
            # The first W that continue; each beam has one eos at most, so k - w never end.
            width = min(W, top_scores.shape[1] - w)
            order = torch.argsort(is_eos.long(), dim=1, stable=True)[:, :width]
            run_scores = top_scores.gather(1, order)  # (n, width)
            beams = top_beam.gather(1, order) + w * torch.arange(n, device=device)[:, None]  # rows (n, width)
            run_tokens = top_token.gather(1, order)
            tokens = torch.cat([tokens.index_select(0, beams.view(-1)), run_tokens.view(-1, 1)], dim=1)
            keep = self._still_running(active, finished, run_scores, tokens, step, max_len)
            step += 1
            if not keep:
                break
            if len(keep) < n:
                kept = torch.tensor(keep, device=device)
                beams, run_tokens, run_scores = beams[kept], run_tokens[kept], run_scores[kept]
                tokens = tokens.view(n, width, -1)[kept].view(len(keep) * width, -1)
                active = [active[i] for i in keep]
            last, scores = run_tokens.view(-1), run_scores
            self.scorers.select(states, beams, last, extra)
        return [sorted(f, key=lambda h: -h.normalized_score)[: self.config.nbest] for f in finished]

    def _top(
        self, scores: torch.Tensor, total: torch.Tensor, too_short: list[int]
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Best ``2 W`` extensions per utterance: scores, beams and tokens, each (n, k).

        Args:
            scores: Running scores, shape (n, w).
            total: Next-token scores of every hypothesis, shape (n w, V).
            too_short: Utterances (positions among the n) that may not end yet: eos is
                blocked in ``total``, in place.
        """
        (n, w), V = scores.shape, total.shape[1]
        if too_short:
            total.view(n, w, V)[too_short, :, self.eos_id] = NEG_INF
        candidates = (scores.view(-1, 1) + total).view(n, w * V)
        top_scores, top_index = candidates.topk(min(2 * self.config.beam_size, w * V), dim=1)
        return top_scores, top_index // V, top_index % V

    def _finish_eos(self, active, finished, tokens, top_scores, top_beam, is_eos, w) -> None:
        """Record hypotheses that end with eos among the best W candidates of each utterance."""
        beam = self.config.beam_size
        hits = (is_eos[:, :beam] & torch.isfinite(top_scores[:, :beam])).nonzero().tolist()
        for i, j in hits:
            seq = tokens[i * w + int(top_beam[i, j])].tolist()
            score = float(top_scores[i, j])
            finished[active[i]].append(Hypothesis(seq, score, self._normalize(score, len(seq) + 1), True))

    def _still_running(self, active, finished, run_scores, tokens, step, max_len) -> list[int]:
        """Positions (in ``active``) of utterances that go on; the others are closed here."""
        (W, width), keep = (self.config.beam_size, run_scores.shape[1]), []
        best_running = run_scores.max(dim=1).values.tolist()
        for i, b in enumerate(active):
            done = finished[b]
            ranked = sorted((h.normalized_score for h in done), reverse=True)
            nth_best = ranked[self.config.nbest - 1] if len(ranked) >= self.config.nbest else NEG_INF
            bound = self._normalize(best_running[i], max_len[b] + 1) if best_running[i] > NEG_INF else NEG_INF
            if step + 1 < max_len[b] and len(done) < W and bound > nth_best:
                keep.append(i)
            elif not done:  # cut at the length limit with nothing ended: keep the best cut ones
                for j in range(width):
                    score = float(run_scores[i, j])
                    seq = tokens[i * width + j].tolist()
                    if score > NEG_INF or j == 0:
                        done.append(Hypothesis(seq, score, self._normalize(score, len(seq)), False))
        return keep


@torch.no_grad()
def greedy_search(
    scorers: dict[str, Any],
    weights: dict[str, float],
    memory: torch.Tensor,
    memory_lengths: torch.Tensor,
    sos_id: int,
    eos_id: int,
    config: SearchConfig | None = None,
) -> list[Hypothesis]:
    """Pick the best-scoring token at every step, for a whole batch at once.

    Uses the same weighted scorers and length limits as :class:`BeamSearch` (with beam 1).

    Returns:
        One hypothesis per utterance.
    """
    config = config or SearchConfig(beam_size=1)
    group = _Scorers(scorers, weights, config, eos_id)
    B, device = memory.shape[0], memory.device
    max_len, min_len = config.length_limits(memory_lengths.tolist())
    min_len = torch.tensor(min_len)
    states = group.init(memory, memory_lengths)
    last = torch.full((B,), sos_id, dtype=torch.long, device=device)
    score = torch.zeros(B, device=device)
    out = torch.zeros(B, 0, dtype=torch.long, device=device)
    ended = torch.zeros(B, dtype=torch.bool, device=device)
    limit = torch.tensor(max_len, device=device)
    for step in range(max(max_len)):
        total, extra = group.score(last, states, 1)
        total[(step < min_len).to(device), eos_id] = NEG_INF
        best_score, best = total.max(dim=1)
        running = ~ended & (step < limit)
        score = score + torch.where(running, best_score, 0.0)
        ended = ended | (running & (best == eos_id))
        out = torch.cat([out, torch.where(running, best, eos_id)[:, None]], dim=1)
        if bool((ended | (step + 1 >= limit)).all()):
            break
        group.select(states, torch.arange(B, device=device)[:, None], best, extra)
        last = best
    hyps = []
    for b in range(B):
        seq = out[b].tolist()
        seq = seq[: seq.index(eos_id)] if eos_id in seq else seq
        done = bool(ended[b])
        length = len(seq) + int(done)
        hyps.append(
            Hypothesis(seq, float(score[b]), float(score[b]) / max(length, 1) ** config.length_penalty, done)
        )
    return hyps
