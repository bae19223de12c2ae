"""Multi-head location-aware attention for the LAS speller and the ST decoder.

Each head is a :class:`~speech.attention.LocationAwareAttention` of its own: its own query and
memory projections, location convolution over its own previous weights, and energies of
``attention_dim / n_heads`` units. The heads' contexts are concatenated and projected back to
the memory size, so the decoder around it sees the same context size as with one head. This
is the multi-head location-aware attention of ESPnet's ``AttMultiHeadLoc`` (Watanabe et al.
2018, "ESPnet: end-to-end speech processing toolkit"), here with the heads' contexts taken
over the memory itself and one output projection standing for per-head value projections
(the two are the same linear map).

The interface is the one every mechanism shares: ``init_state(memory, memory_mask)``, then
``forward(query, memory, memory_mask, state) -> AttentionOutput`` per step, W >= 1 queries per
memory row. The weights it returns are the heads' mean, for plots and alignment health; the
state keeps each head's own.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import nn

from speech.attention.additive import LocationAwareAttention
from speech.attention.state import AttentionOutput, AttentionState


class MultiHeadState(NamedTuple):
    """Each head's :class:`~speech.attention.AttentionState`, in head order."""

    heads: tuple[AttentionState, ...]

    def select(self, indices: torch.Tensor) -> MultiHeadState:
        """Keep (reorder or repeat) the query rows ``indices`` (N',) of every head."""
        return MultiHeadState(tuple(head.select(indices) for head in self.heads))

    def take(self, indices: torch.Tensor, memory_rows: torch.Tensor | None) -> MultiHeadState:
        """Keep the query rows ``indices`` (N',) and the memory rows ``memory_rows`` (all when None)."""
        return MultiHeadState(tuple(head.take(indices, memory_rows) for head in self.heads))


class MultiHeadLocationAwareAttention(nn.Module):
    """Several location-aware heads over one memory, their contexts projected to one.

    Args:
        query_dim: Size of the decoder query.
        memory_dim: Size of each memory frame (and of the context returned).
        attention_dim: Energy units of all heads together; each head has
            ``attention_dim / n_heads``.
        n_heads: Number of heads (at least 1).
        n_filters: Channels of each head's location convolution.
        kernel_size: Width of the location convolution (odd).
    """

    def __init__(
        self,
        query_dim: int,
        memory_dim: int,
        attention_dim: int,
        n_heads: int,
        n_filters: int = 32,
        kernel_size: int = 31,
    ) -> None:
        super().__init__()
        if n_heads < 1 or attention_dim % n_heads:
            raise ValueError(f"attention_dim ({attention_dim}) must be a multiple of n_heads ({n_heads})")
        self.heads = nn.ModuleList(
            LocationAwareAttention(query_dim, memory_dim, attention_dim // n_heads, n_filters, kernel_size)
            for _ in range(n_heads)
        )
        self.output = nn.Linear(n_heads * memory_dim, memory_dim, bias=False)

    def init_state(self, memory: torch.Tensor, memory_mask: torch.Tensor) -> MultiHeadState:
        """Each head projects the memory (B, S, D) once; all heads start on the first frame."""
        return MultiHeadState(tuple(head.init_state(memory, memory_mask) for head in self.heads))

    def forward(
        self, query: torch.Tensor, memory: torch.Tensor, memory_mask: torch.Tensor, state: MultiHeadState
    ) -> AttentionOutput:
        """One step of every head, with the arguments of :meth:`LocationAwareAttention.forward`.

        Returns:
            Context (N, D_memory), the heads' mean weights (N, S) and the next state.
        """
        steps = [head(query, memory, memory_mask, s) for head, s in zip(self.heads, state.heads, strict=True)]
        context = self.output(torch.cat([step.context for step in steps], dim=-1))  # (N, H D) -> (N, D)
        weights = torch.stack([step.weights for step in steps]).mean(dim=0)  # (H, N, S) -> (N, S)
        return AttentionOutput(context, weights, MultiHeadState(tuple(step.state for step in steps)))
