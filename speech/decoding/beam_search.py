"""One batched beam search over a weighted set of scorers (the greedy search is in greedy.py).

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
from typing import Any, NamedTuple

import torch

from speech.config import check_non_negative, check_positive, check_range
from speech.decoding.scorer import Hypothesis
from speech.decoding.weighted import NEG_INF, StepScores, WeightedScorers


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


class _Extensions(NamedTuple):
    """The best extensions of the running hypotheses, k per remaining utterance, each (n, k).

    Attributes:
        scores: Weighted score after the extension.
        rows: The hypothesis (row) extended.
        tokens: The token it is extended with.
    """

    scores: torch.Tensor
    rows: torch.Tensor
    tokens: torch.Tensor


class BeamSearch:
    """Batched beam search over a weighted set of scorers.

    The search owns the beam structure: hypotheses are rows, ``w`` consecutive rows per
    remaining utterance, and scorers only ever learn which rows to keep
    (:meth:`Scorer.select`). It keeps each scorer's own score per hypothesis beside the
    weighted total (:attr:`Hypothesis.scores`).

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
        self.scorers = WeightedScorers(scorers, weights, self.config.pre_beam, eos_id)
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
        parts = torch.zeros(B, len(self.scorers.names), device=device)  # each scorer's, (n w, P)
        tokens = torch.zeros(B, 0, dtype=torch.long, device=device)  # (n w, step)
        last = torch.full((B,), self.sos_id, dtype=torch.long, device=device)
        active, finished = list(range(B)), [[] for _ in range(B)]
        step = 0
        while active:
            scored = self.scorers.score(last, states, W)
            (n, w), too_short = scores.shape, [i for i, b in enumerate(active) if step < min_len[b]]
            top = self._top(scores, scored.total, too_short)
            is_eos = top.tokens == self.eos_id
            self._finish_eos(active, finished, tokens, parts, scored, top, is_eos)
            # The first W that continue; each beam has one eos at most, so k - w never end.
            width = min(W, top.scores.shape[1] - w)
            order = torch.argsort(is_eos.long(), dim=1, stable=True)[:, :width]
            run_scores, beams, run_tokens = (x.gather(1, order) for x in top)  # (n, width) each
            increments, columns = self.scorers.parts(scored, beams.view(-1), run_tokens.view(-1))
            run_parts = parts.index_select(0, beams.view(-1)) + increments  # (n width, P)
            tokens = torch.cat([tokens.index_select(0, beams.view(-1)), run_tokens.view(-1, 1)], dim=1)
            keep = self._still_running(active, finished, run_scores, run_parts, tokens, step, max_len)
            step += 1
            if not keep:
                break
            if len(keep) < n:
                kept = torch.tensor(keep, device=device)
                beams, run_tokens, run_scores = beams[kept], run_tokens[kept], run_scores[kept]
                tokens, run_parts, columns = (
                    None if x is None else x.view(n, width, -1)[kept].flatten(0, 1)  # (n w, .) -> (n' w, .)
                    for x in (tokens, run_parts, columns)
                )
                active = [active[i] for i in keep]
            last, scores, parts = run_tokens.view(-1), run_scores, run_parts
            self.scorers.select(states, scored, beams.view(-1), None if columns is None else columns.view(-1))
        return [sorted(f, key=lambda h: -h.normalized_score)[: self.config.nbest] for f in finished]

    def _top(self, scores: torch.Tensor, total: torch.Tensor, too_short: list[int]) -> _Extensions:
        """Best ``2 W`` extensions per utterance.

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
        rows = top_index // V + w * torch.arange(n, device=total.device)[:, None]
        return _Extensions(top_scores, rows, top_index % V)

    def _hypothesis(self, tokens: list[int], score: float, parts: list[float], ended: bool) -> Hypothesis:
        """A finished hypothesis; its length counts eos when it ended."""
        normalized = self._normalize(score, len(tokens) + int(ended))
        return Hypothesis(tokens, score, normalized, ended, dict(zip(self.scorers.names, parts, strict=True)))

    def _finish_eos(
        self, active, finished, tokens, parts, scored: StepScores, top: _Extensions, is_eos
    ) -> None:
        """Record hypotheses that end with eos among the best W candidates of each utterance."""
        beam = self.config.beam_size
        hits = (is_eos[:, :beam] & torch.isfinite(top.scores[:, :beam])).nonzero()  # (hits, 2)
        if hits.shape[0] == 0:
            return
        scores, rows, eos = (x[hits[:, 0], hits[:, 1]] for x in top)  # (hits,) each
        increments, _ = self.scorers.parts(scored, rows, eos)
        hit_parts = (parts.index_select(0, rows) + increments).tolist()
        for i, row, score, hit in zip(
            hits[:, 0].tolist(), rows.tolist(), scores.tolist(), hit_parts, strict=True
        ):
            finished[active[i]].append(self._hypothesis(tokens[row].tolist(), score, hit, True))

    def _still_running(self, active, finished, run_scores, run_parts, tokens, step, max_len) -> list[int]:
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
                    if score > NEG_INF or j == 0:
                        seq = tokens[i * width + j].tolist()
                        done.append(self._hypothesis(seq, score, run_parts[i * width + j].tolist(), False))
        return keep
