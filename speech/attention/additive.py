"""Content-based (additive) and location-aware attention.

Both follow one interface: ``init_state(memory, memory_mask)`` once per utterance batch, then
``forward(query, memory, memory_mask, state) -> AttentionOutput`` once per decoder step.
``memory_mask`` is True at valid memory frames. The memory projection is computed once in
``init_state`` and carried in the state, so each step costs one small matmul.

A step may also serve W >= 1 queries per memory row (the hypotheses of a beam search): with
memory (B, S, D) and queries (N, D_query), N = B x W, query rows ``b W .. (b + 1) W - 1``
attend over memory row ``b``, which is broadcast and never copied per query.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

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
        """Keep (reorder or repeat) the query rows ``indices`` (N',); keys follow, one row per query."""
        keys = self.keys.index_select(0, memory_rows(indices, self.weights.shape[0], self.keys.shape[0]))
        return AttentionState(
            keys, self.weights.index_select(0, indices), self.cumulative.index_select(0, indices)
        )

    def select_beams(self, beams: torch.Tensor) -> AttentionState:
        """Keep the query rows ``beams`` (B', W'), grouped by memory row; see :func:`beam_memory_rows`."""
        groups = beam_memory_rows(beams, self.weights.shape[0], self.keys.shape[0])
        keys = self.keys if groups is None else self.keys.index_select(0, groups)
        rows = beams.reshape(-1)
        return AttentionState(keys, self.weights.index_select(0, rows), self.cumulative.index_select(0, rows))


def memory_rows(indices: torch.Tensor, n_queries: int, n_memory: int) -> torch.Tensor:
    """Memory row of each query row ``indices`` (N',), ``n_queries / n_memory`` queries per memory row."""
    per_row = n_queries // n_memory
    return indices if per_row == 1 else torch.div(indices, per_row, rounding_mode="floor")


def beam_memory_rows(beams: torch.Tensor, n_queries: int, n_memory: int) -> torch.Tensor | None:
    """Memory rows that a beam-structured selection keeps, or None when it keeps them all.

    Args:
        beams: Query rows to keep, shape (B', W'): row ``i`` holds queries of one memory row,
            and the rows of ``beams`` follow distinct memory rows in increasing order (a beam
            search dropping finished utterances), so ``B' == n_memory`` means all are kept.
        n_queries: Query rows N before the selection.
        n_memory: Memory rows B before the selection.

    Returns:
        Indices (B',) into the memory rows, or None.
    """
    if beams.shape[0] == n_memory:
        return None
    return memory_rows(beams[:, 0], n_queries, n_memory)


class AttentionOutput(NamedTuple):
    """Result of one attention step: context (N, D_memory), weights (N, S), next state."""

    context: torch.Tensor
    weights: torch.Tensor
    state: AttentionState | MultiHeadState


def _initial_weights(memory_mask: torch.Tensor) -> torch.Tensor:
    """All attention on the first frame: the usual start for location-based attention."""
    weights = torch.zeros(memory_mask.shape, device=memory_mask.device)
    weights[:, 0] = 1.0
    return weights


def _runs(mask: torch.Tensor, ratio: float = 0.75, max_runs: int = 4) -> list[tuple[int, int, int]]:
    """Runs ``(first, end, frames)`` of consecutive memory rows of similar valid extents.

    The extents within a run lie within ``ratio`` of each other; ``frames`` is the longest.

    Args:
        mask: True at valid frames, shape (B, 1 or W, S).
        ratio: Smallest ratio of the shortest to the longest extent in one run.
        max_runs: The last run takes all remaining rows.
    """
    S = mask.shape[-1]
    frame = torch.arange(1, S + 1, device=mask.device)
    extents = (mask.any(dim=1) * frame).amax(dim=-1).clamp(min=1).tolist()  # last valid frame + 1, (B,)
    runs: list[list[int]] = []  # [first, end, shortest, longest]
    for b, extent in enumerate(extents):
        if runs:
            first, _, shortest, longest = runs[-1]
            shortest, longest = min(shortest, extent), max(longest, extent)
            if len(runs) == max_runs or ratio * longest <= shortest:
                runs[-1] = [first, b + 1, shortest, longest]
                continue
        runs.append([b, b + 1, extent, extent])
    return [(first, end, longest) for first, end, _, longest in runs]


def masked_softmax(energies: torch.Tensor, memory_mask: torch.Tensor) -> torch.Tensor:
    """Softmax over the last dim with invalid positions (mask False) at exactly zero; computed in fp32."""
    energies = energies.float().masked_fill(~memory_mask, float("-inf"))
    return torch.softmax(energies, dim=-1)


class AdditiveAttention(nn.Module):
    """Content-based additive attention.

    Bahdanau et al. 2015, "Neural machine translation by jointly learning to align and translate".
    ``e_s = w^T tanh(W q + V h_s + b)``; weights are the masked softmax of ``e``.

    Args:
        query_dim: Size of the decoder query.
        memory_dim: Size of each memory (encoder) frame.
        attention_dim: Size of the hidden energy space.
    """

    skip_padding: bool = True
    """Without gradients on CPU, compute energies per run of rows of similar length (see forward).

    This needs ``memory_mask`` to mark padding only (valid frames first): the previous weights
    past a row's last valid frame must be zero. :class:`MonotonicWindow` turns it off.
    """

    def __init__(self, query_dim: int, memory_dim: int, attention_dim: int) -> None:
        super().__init__()
        self.query_proj = nn.Linear(query_dim, attention_dim, bias=False)
        self.memory_proj = nn.Linear(memory_dim, attention_dim, bias=True)
        self.energy = nn.Linear(attention_dim, 1, bias=False)

    def init_state(self, memory: torch.Tensor, memory_mask: torch.Tensor) -> AttentionState:
        """Project the memory (B, S, D) once; weights start on the first frame."""
        weights = _initial_weights(memory_mask)
        return AttentionState(self.memory_proj(memory), weights, weights.clone())

    def _location_features(self, weights: torch.Tensor, cumulative: torch.Tensor) -> torch.Tensor | None:
        """Location features (n, s, C) of the previous and cumulative weights (n, s); none here."""
        return None

    def _add_location(
        self, hidden: torch.Tensor, features: torch.Tensor | None, alpha: float
    ) -> torch.Tensor:
        """``hidden`` (b, W, s, A) plus ``alpha`` times the location term of ``features`` (b W, s, C)."""
        return hidden

    def _energies(
        self, query: torch.Tensor, keys: torch.Tensor, features: torch.Tensor | None
    ) -> torch.Tensor:
        """Energies (b, W, s) of queries (b, W, 1, A) over keys (b, s, A), up to a constant per row.

        Without gradients on CPU, ``w^T tanh(h)`` is computed as ``2 w^T sigmoid(2 h)``, which
        differs from it by ``sum(w)``, the same for every frame, so the softmax is unchanged
        (they agree to about 1e-7): ATen's CPU tanh (Sleef's ``tanhf``) costs about three times
        its sigmoid, the energies' tanh is the largest cost of a decoding step, and the factors
        of 2 fold into the small query and location weights. All of it happens in one buffer.
        """
        if torch.is_grad_enabled() or query.device.type != "cpu":
            hidden = keys.unsqueeze(1) + query  # (b, 1, s, A) + (b, W, 1, A) -> (b, W, s, A)
            hidden = torch.tanh(self._add_location(hidden, features, 1.0))
            return self.energy(hidden).squeeze(-1)  # (b, W, s, 1) -> (b, W, s)
        hidden = torch.add(query * 2, keys.unsqueeze(1), alpha=2)  # 2 (q + k), (b, W, s, A)
        hidden = torch.sigmoid(self._add_location(hidden, features, 2.0), out=hidden)
        return self.energy(hidden).squeeze(-1).mul_(2)

    def forward(
        self, query: torch.Tensor, memory: torch.Tensor, memory_mask: torch.Tensor, state: AttentionState
    ) -> AttentionOutput:
        """One attention step.

        Without gradients on CPU, energies are computed per run of memory rows of similar
        length, over that run's valid frames only (:func:`_runs`): padding costs nothing.

        Args:
            query: Decoder state, shape (N, D_query), N = B x W (W queries per memory row).
            memory: Encoder output, shape (B, S, D_memory).
            memory_mask: True at valid frames, shape (B, S) or (N, S).
            state: From :meth:`init_state` or the previous step.

        Returns:
            Context (N, D_memory), weights (N, S) and the next state.
        """
        (B, S, _), N = memory.shape, query.shape[0]
        W, mask = N // B, memory_mask.view(B, -1, S)  # mask (B, 1 or W, S)
        query = self.query_proj(query).view(B, W, 1, -1)  # (N, A) -> (B, W, 1, A)
        skip = self.skip_padding and memory.device.type == "cpu" and not torch.is_grad_enabled()
        runs = _runs(mask) if skip else [(0, B, S)]
        if runs == [(0, B, S)]:
            features = self._location_features(state.weights, state.cumulative)
            energies = self._energies(query, state.keys, features)
        else:
            energies = query.new_full((B, W, S), float("-inf"))
            for b0, b1, s in runs:
                rows = slice(b0 * W, b1 * W)  # weights past s are exactly 0, so the truncated conv is exact
                features = self._location_features(state.weights[rows, :s], state.cumulative[rows, :s])
                energies[b0:b1, :, :s] = self._energies(query[b0:b1], state.keys[b0:b1, :s], features)
        weights = masked_softmax(energies, mask)
        context = torch.bmm(weights.to(memory.dtype), memory)  # (B, W, S) @ (B, S, D) -> (B, W, D)
        weights, context = weights.view(N, S), context.view(N, -1)  # (B, W, .) -> (N, .)
        return AttentionOutput(
            context, weights, AttentionState(state.keys, weights, state.cumulative + weights)
        )


class LocationAwareAttention(AdditiveAttention):
    """Location-aware attention, in the location-sensitive form of Tacotron2.

    Chorowski et al. 2015, "Attention-based models for speech recognition"; Shen et al. 2018.
    The energies also see convolutional features of the previous and the cumulative
    attention weights: ``e_s = w^T tanh(W q + V h_s + U (F * [a_prev; a_cum])_s + b)``, which
    encourages the alignment to move forward and not to attend twice to the same frames.

    Args:
        query_dim: Size of the decoder query.
        memory_dim: Size of each memory frame.
        attention_dim: Size of the hidden energy space.
        n_filters: Channels of the location convolution.
        kernel_size: Width of the location convolution (odd).
    """

    def __init__(
        self, query_dim: int, memory_dim: int, attention_dim: int, n_filters: int = 32, kernel_size: int = 31
    ) -> None:
        super().__init__(query_dim, memory_dim, attention_dim)
        if kernel_size % 2 != 1:
            raise ValueError(f"kernel_size must be odd, got {kernel_size}")
        self.location_conv = nn.Conv1d(2, n_filters, kernel_size, padding=kernel_size // 2, bias=False)
        self.location_proj = nn.Linear(n_filters, attention_dim, bias=False)

    def _location_features(self, weights: torch.Tensor, cumulative: torch.Tensor) -> torch.Tensor:
        stacked = torch.stack([weights, cumulative], dim=1)  # (n, 2, s)
        stacked = stacked.to(self.location_conv.weight.dtype)
        if torch.is_grad_enabled() or stacked.device.type != "cpu":
            return self.location_conv(stacked).transpose(1, 2)  # (n, C, s) -> (n, s, C)
        # Without gradients on CPU, one matmul over sliding windows: oneDNN's convolution with two
        # input channels takes about 1.6 times as long for a beam search's 128 rows.
        (n, _, s), kernel = stacked.shape, self.location_conv.weight  # kernel (C, 2, k)
        half = kernel.shape[-1] // 2
        windows = F.pad(stacked, (half, half)).unfold(2, kernel.shape[-1], 1)  # (n, 2, s, k)
        return windows.transpose(1, 2).reshape(n, s, -1) @ kernel.flatten(1).t()  # (n, s, 2k) @ (2k, C)

    def _add_location(self, hidden: torch.Tensor, features: torch.Tensor, alpha: float) -> torch.Tensor:
        weight = self.location_proj.weight  # (A, C)
        if hidden.requires_grad or not hidden.dtype == features.dtype == weight.dtype:
            location = self.location_proj(features).view(hidden.shape)  # (b W, s, A) -> (b, W, s, A)
            return hidden + (location if alpha == 1 else alpha * location)
        # In place, as one matmul-add: no (b, W, s, A) temporary (the same sums, the same result).
        flat = hidden.view(-1, weight.shape[0])  # (b, W, s, A) -> (b W s, A)
        flat.addmm_(features.reshape(-1, weight.shape[1]), weight.t(), alpha=alpha)  # (b W s, C) @ (C, A)
        return hidden


class MonotonicWindow(nn.Module):
    """Inference-time monotonic window around the previous attention peak (for TTS).

    Wraps a location-aware mechanism and masks every memory frame outside
    ``[peak - backward, peak + forward]`` of the previous step, so attention can only move
    forward a few frames at a time: the usual cure for skipped or repeated words at
    synthesis time. In training mode it is transparent.

    Args:
        attention: The wrapped mechanism.
        backward: Frames allowed behind the previous peak.
        forward: Frames allowed ahead of the previous peak.
    """

    def __init__(self, attention: AdditiveAttention, backward: int = 1, forward: int = 3) -> None:
        super().__init__()
        attention.skip_padding = False  # the window is not a padding mask: weights lie past its end
        self.attention = attention
        self.backward = backward
        self.forward_frames = forward

    def init_state(self, memory: torch.Tensor, memory_mask: torch.Tensor) -> AttentionState:
        """Delegate to the wrapped mechanism."""
        return self.attention.init_state(memory, memory_mask)

    def forward(
        self, query: torch.Tensor, memory: torch.Tensor, memory_mask: torch.Tensor, state: AttentionState
    ) -> AttentionOutput:
        """One step of the wrapped mechanism with frames outside the window masked (eval mode only)."""
        if self.training:
            return self.attention(query, memory, memory_mask, state)
        (B, S, _), N = memory.shape, query.shape[0]
        peak = state.weights.argmax(dim=-1, keepdim=True)  # (N, 1)
        positions = torch.arange(S, device=memory.device).unsqueeze(0)  # (1, S)
        window = (positions >= peak - self.backward) & (positions <= peak + self.forward_frames)  # (N, S)
        mask = memory_mask.view(B, -1, S) & window.view(B, -1, S)  # (B, W, S)
        return self.attention(query, memory, mask.view(N, S), state)
