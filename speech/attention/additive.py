"""Content-based (additive) and location-aware attention.

Both follow one interface: ``init_state(memory, memory_mask)`` once per utterance batch, then
``forward(query, memory, memory_mask, state) -> AttentionOutput`` once per decoder step.
``memory_mask`` is True at valid memory frames. The memory projection is computed once in
``init_state`` and carried in the state, so each step costs one small matmul.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import nn


class AttentionState(NamedTuple):
    """What a mechanism carries between decoder steps.

    Attributes:
        keys: Projected memory, shape (B, S, A).
        weights: Attention weights of the previous step, shape (B, S).
        cumulative: Sum of all previous weights, shape (B, S).
    """

    keys: torch.Tensor
    weights: torch.Tensor
    cumulative: torch.Tensor

    def select(self, indices: torch.Tensor) -> AttentionState:
        """Reorder or repeat the batch rows (beam search): every field indexed along dim 0."""
        return AttentionState(*(t.index_select(0, indices) for t in self))


class AttentionOutput(NamedTuple):
    """Result of one attention step: context (B, D_memory), weights (B, S), next state."""

    context: torch.Tensor
    weights: torch.Tensor
    state: AttentionState


def _initial_weights(memory_mask: torch.Tensor) -> torch.Tensor:
    """All attention on the first frame: the usual start for location-based attention."""
    weights = torch.zeros(memory_mask.shape, device=memory_mask.device)
    weights[:, 0] = 1.0
    return weights


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

    def __init__(self, query_dim: int, memory_dim: int, attention_dim: int) -> None:
        super().__init__()
        self.query_proj = nn.Linear(query_dim, attention_dim, bias=False)
        self.memory_proj = nn.Linear(memory_dim, attention_dim, bias=True)
        self.energy = nn.Linear(attention_dim, 1, bias=False)

    def init_state(self, memory: torch.Tensor, memory_mask: torch.Tensor) -> AttentionState:
        """Project the memory (B, S, D) once; weights start on the first frame."""
        weights = _initial_weights(memory_mask)
        return AttentionState(self.memory_proj(memory), weights, weights.clone())

    def _location_term(self, state: AttentionState) -> torch.Tensor | float:
        return 0.0

    def forward(
        self, query: torch.Tensor, memory: torch.Tensor, memory_mask: torch.Tensor, state: AttentionState
    ) -> AttentionOutput:
        """One attention step.

        Args:
            query: Decoder state, shape (B, D_query).
            memory: Encoder output, shape (B, S, D_memory).
            memory_mask: True at valid frames, shape (B, S).
            state: From :meth:`init_state` or the previous step.

        Returns:
            Context (B, D_memory), weights (B, S) and the next state.
        """
        hidden = state.keys + self.query_proj(query).unsqueeze(1) + self._location_term(state)  # (B, S, A)
        energies = self.energy(torch.tanh(hidden)).squeeze(-1)  # (B, S, 1) -> (B, S)
        weights = masked_softmax(energies, memory_mask)
        context = torch.bmm(weights.unsqueeze(1).to(memory.dtype), memory).squeeze(1)  # (B, 1, D) -> (B, D)
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

    def _location_term(self, state: AttentionState) -> torch.Tensor:
        stacked = torch.stack([state.weights, state.cumulative], dim=1)  # (B, 2, S)
        stacked = stacked.to(self.location_conv.weight.dtype)
        features = self.location_conv(stacked).transpose(1, 2)  # (B, C, S) -> (B, S, C)
        return self.location_proj(features)


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
        peak = state.weights.argmax(dim=-1, keepdim=True)  # (B, 1)
        positions = torch.arange(memory.shape[1], device=memory.device).unsqueeze(0)  # (1, S)
        window = (positions >= peak - self.backward) & (positions <= peak + self.forward_frames)
        return self.attention(query, memory, memory_mask & window, state)
