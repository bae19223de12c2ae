"""Inference-time monotonic attention window for TTS."""

from __future__ import annotations

import functools

import torch
from torch import nn

from speech.attention.additive import AdditiveAttention
from speech.attention.state import AttentionOutput, AttentionState


class MonotonicWindow(nn.Module):
    """Inference-time monotonic window around the previous attention peak (for TTS).

    Wraps a location-aware mechanism and masks every memory frame outside
    ``[peak - backward, peak + forward]`` of the previous step, so attention can only move
    forward a few frames at a time: the usual cure for skipped or repeated words at
    synthesis time. In training mode it is transparent.

    Args:
        attention: The wrapped mechanism, built with ``skip_padding=False``: the window is not
            a padding mask (previous weights lie past its end).
        backward: Frames allowed behind the previous peak.
        forward: Frames allowed ahead of the previous peak.

    Raises:
        ValueError: The wrapped mechanism lets kernels skip padding.
    """

    def __init__(self, attention: AdditiveAttention, backward: int = 1, forward: int = 3) -> None:
        super().__init__()
        if attention.skip_padding:
            raise ValueError("a monotonic window needs an attention built with skip_padding=False")
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
        offsets = _positions(S, memory.device) - state.weights.argmax(dim=-1, keepdim=True)  # (N, S)
        window = (offsets >= -self.backward) & (offsets <= self.forward_frames)  # (N, S)
        mask = memory_mask.view(B, -1, S) & window.view(B, -1, S)  # (B, W, S)
        return self.attention(query, memory, mask.view(N, S), state)  # (B, W, S) -> (N, S)


@functools.lru_cache(maxsize=16)
def _positions(frames: int, device: torch.device) -> torch.Tensor:
    """``[0, 1, ..., frames - 1]``, shape (1, frames): made once per size, not at every step."""
    return torch.arange(frames, device=device).unsqueeze(0)
