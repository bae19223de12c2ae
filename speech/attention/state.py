"""What every attention mechanism shares: its state, its output and the masked softmax.

A step may serve W >= 1 queries per memory row (the hypotheses of a search): with memory
(B, S, D) and queries (N, D_query), N = B x W, query rows ``b W .. (b + 1) W - 1`` attend
over memory row ``b``, which is broadcast and never copied per query. Masks are True at
valid memory frames.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, NamedTuple

import torch

if TYPE_CHECKING:
    from speech.attention.multihead import MultiHeadState


class AttentionState(NamedTuple):
    """What a mechanism carries between decoder steps.

    Attributes:
        keys: Projected memory, one row per memory row, shape (B, S, A).
        weights: Attention weights of the previous step, one row per query, shape (N, S).
        cumulative: Sum of all previous weights, shape (N, S).
    """

    keys: torch.Tensor
    weights: torch.Tensor
    cumulative: torch.Tensor

    def select(self, indices: torch.Tensor) -> AttentionState:
        """Keep (reorder or repeat) the query rows ``indices`` (N',); see :func:`selected_memory_rows`."""
        return self.take(indices, selected_memory_rows(indices, self.weights.shape[0], self.keys.shape[0]))

    def take(self, indices: torch.Tensor, memory_rows: torch.Tensor | None) -> AttentionState:
        """Keep the query rows ``indices`` (N',) and the memory rows ``memory_rows`` (B') (all when None)."""
        keys = self.keys if memory_rows is None else self.keys.index_select(0, memory_rows)
        return AttentionState(
            keys, self.weights.index_select(0, indices), self.cumulative.index_select(0, indices)
        )


class AttentionOutput(NamedTuple):
    """Result of one attention step: context (N, D_memory), weights (N, S), next state."""

    context: torch.Tensor
    weights: torch.Tensor
    state: AttentionState | MultiHeadState


def selected_memory_rows(indices: torch.Tensor, n_queries: int, n_memory: int) -> torch.Tensor | None:
    """The memory rows that the query rows ``indices`` read once they are selected.

    Before the selection each of the ``n_memory`` memory rows serves ``n_queries / n_memory``
    consecutive queries. After it, the kept queries share a memory row wherever they come in
    runs of equal length, each run from one memory row (a search keeping W' hypotheses of
    every remaining utterance); otherwise each kept query gets a memory row of its own.

    Args:
        indices: Query rows to keep, shape (N',).
        n_queries: Query rows N before the selection.
        n_memory: Memory rows B before the selection.

    Returns:
        None when the memory stays as it is (the same B rows, in order), else the indices into
        the memory rows, shape (B',): one per run of queries, or one per query.
    """
    if n_memory == 1:
        return None
    per_row = n_queries // n_memory
    owner = indices if per_row == 1 else torch.div(indices, per_row, rounding_mode="floor")  # (N',)
    n = owner.shape[0]
    if n == 0:
        return owner
    if n % n_memory == 0 and torch.equal(owner, _grouped(n, n // n_memory, owner.device)):
        return None  # each memory row keeps n / n_memory queries, in order
    runs, counts = torch.unique_consecutive(owner, return_counts=True)
    return runs if bool((counts == counts[0]).all()) else owner


@functools.lru_cache(maxsize=32)
def _grouped(n: int, per_row: int, device: torch.device) -> torch.Tensor:
    """``[0] * per_row + [1] * per_row + ...``, shape (n,): the memory row of n grouped queries."""
    return torch.arange(n, device=device) // per_row


def initial_weights(memory_mask: torch.Tensor) -> torch.Tensor:
    """All attention on the first frame (B, S): the usual start for location-based attention."""
    weights = torch.zeros(memory_mask.shape, device=memory_mask.device)
    weights[:, 0] = 1.0
    return weights


def masked_softmax(energies: torch.Tensor, memory_mask: torch.Tensor) -> torch.Tensor:
    """Softmax over the last dim with invalid positions (mask False) at exactly zero; computed in fp32."""
    energies = energies.float().masked_fill(~memory_mask, float("-inf"))
    return torch.softmax(energies, dim=-1)


def attend(
    energies: torch.Tensor, memory: torch.Tensor, memory_mask: torch.Tensor, state: AttentionState
) -> AttentionOutput:
    """Weights, context and next state from the energies of one step.

    Args:
        energies: Shape (B, W, S).
        memory: Shape (B, S, D).
        memory_mask: True at valid frames, shape (B, S) or (N, S).
        state: The state the energies were computed from.

    Returns:
        Context (N, D), weights (N, S) and the state with these weights.
    """
    B, W, S = energies.shape
    weights = masked_softmax(energies, memory_mask.view(B, -1, S))  # mask (B, 1 or W, S)
    context = torch.bmm(weights.to(memory.dtype), memory)  # (B, W, S) @ (B, S, D) -> (B, W, D)
    weights, context = weights.view(B * W, S), context.view(B * W, -1)  # (B, W, .) -> (N, .)
    return AttentionOutput(context, weights, AttentionState(state.keys, weights, state.cumulative + weights))
