"""Content-based (additive) and location-aware attention: the reference maths.

Both follow one interface: ``init_state(memory, memory_mask)`` once per utterance batch, then
``forward(query, memory, memory_mask, state) -> AttentionOutput`` once per decoder step, with W
queries per memory row (see :mod:`speech.attention.state`). ``memory_mask`` is True at valid
memory frames. The memory projection is computed once in ``init_state`` and carried in the
state, so each step costs one small matmul. Faster CPU inference kernels of the same maths
live in :mod:`speech.kernels`.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from speech.attention.state import AttentionOutput, AttentionState, attend, initial_weights


class AdditiveAttention(nn.Module):
    """Content-based additive attention.

    Bahdanau et al. 2015, "Neural machine translation by jointly learning to align and translate".
    ``e_s = w^T tanh(W q + V h_s + b)``; weights are the masked softmax of ``e``.

    Args:
        query_dim: Size of the decoder query.
        memory_dim: Size of each memory (encoder) frame.
        attention_dim: Size of the hidden energy space.
        skip_padding: Whether an inference kernel (:mod:`speech.kernels`) may skip the padded
            frames of short memory rows. That needs ``memory_mask`` to mark padding only
            (valid frames first); a decoder that masks more (a monotonic window) or whose
            rows' extents differ at every step (Tacotron2) says False. The reference maths
            ignores it.
    """

    def __init__(
        self, query_dim: int, memory_dim: int, attention_dim: int, skip_padding: bool = True
    ) -> None:
        super().__init__()
        self.query_proj = nn.Linear(query_dim, attention_dim, bias=False)
        self.memory_proj = nn.Linear(memory_dim, attention_dim, bias=True)
        self.energy = nn.Linear(attention_dim, 1, bias=False)
        self.skip_padding = skip_padding

    def init_state(self, memory: torch.Tensor, memory_mask: torch.Tensor) -> AttentionState:
        """Project the memory (B, S, D) once; weights start on the first frame."""
        weights = initial_weights(memory_mask)
        return AttentionState(self.memory_proj(memory), weights, weights.clone())

    def forward(
        self, query: torch.Tensor, memory: torch.Tensor, memory_mask: torch.Tensor, state: AttentionState
    ) -> AttentionOutput:
        """One attention step.

        Args:
            query: Decoder state, shape (N, D_query), N = B x W (W queries per memory row).
            memory: Encoder output, shape (B, S, D_memory).
            memory_mask: True at valid frames, shape (B, S) or (N, S).
            state: From :meth:`init_state` or the previous step.

        Returns:
            Context (N, D_memory), weights (N, S) and the next state.
        """
        B = memory.shape[0]
        query = self.query_proj(query).view(B, -1, 1, self.query_proj.out_features)  # (N, A) -> (B, W, 1, A)
        hidden = state.keys.unsqueeze(1) + query  # W q + V h: (B, 1, S, A) + (B, W, 1, A) -> (B, W, S, A)
        energies = self.energy(torch.tanh(hidden)).squeeze(-1)  # (B, W, S, 1) -> (B, W, S)
        return attend(energies, memory, memory_mask, state)


class LocationAwareAttention(AdditiveAttention):
    """Location-aware attention, in the location-sensitive form of Tacotron2.

    Chorowski et al. 2015, "Attention-based models for speech recognition"; Shen et al. 2018.
    The energies also see convolutional features of the previous and the cumulative
    attention weights: ``e_s = w^T tanh(W q + V h_s + U f_s + b)`` with
    ``f = F * [a_prev; a_cum]``, which encourages the alignment to move forward and not to
    attend twice to the same frames.

    Args:
        query_dim: Size of the decoder query.
        memory_dim: Size of each memory frame.
        attention_dim: Size of the hidden energy space.
        n_filters: Channels of the location convolution.
        kernel_size: Width of the location convolution (odd).
        skip_padding: See :class:`AdditiveAttention`.
    """

    def __init__(
        self,
        query_dim: int,
        memory_dim: int,
        attention_dim: int,
        n_filters: int = 32,
        kernel_size: int = 31,
        skip_padding: bool = True,
    ) -> None:
        super().__init__(query_dim, memory_dim, attention_dim, skip_padding)
        if kernel_size % 2 != 1:
            raise ValueError(f"kernel_size must be odd, got {kernel_size}")
        self.location_conv = nn.Conv1d(2, n_filters, kernel_size, padding=kernel_size // 2, bias=False)
        self.location_proj = nn.Linear(n_filters, attention_dim, bias=False)

    def location_features(self, state: AttentionState) -> torch.Tensor:
        """``f = F * [a_prev; a_cum]``: (N, S, C) from the previous and cumulative weights (N, S)."""
        previous = torch.stack([state.weights, state.cumulative], dim=1)  # (N, 2, S)
        if torch.onnx.is_in_onnx_export():  # ONNX has no unfold of a dynamic size; Conv it has
            return self.location_conv(previous.to(self.location_conv.weight.dtype)).transpose(1, 2)
        return sliding_conv(previous, self.location_conv.weight)

    def forward(
        self, query: torch.Tensor, memory: torch.Tensor, memory_mask: torch.Tensor, state: AttentionState
    ) -> AttentionOutput:
        """One attention step, with the arguments and results of :meth:`AdditiveAttention.forward`."""
        B, S, _ = memory.shape
        query = self.query_proj(query).view(B, -1, 1, self.query_proj.out_features)  # (N, A) -> (B, W, 1, A)
        location = self.location_proj(self.location_features(state))  # U f: (N, S, A)
        hidden = state.keys.unsqueeze(1) + query  # W q + V h: (B, W, S, A)
        hidden = hidden + location.view(hidden.shape)  # (N, S, A) -> (B, W, S, A)
        energies = self.energy(torch.tanh(hidden)).squeeze(-1)  # (B, W, S, 1) -> (B, W, S)
        return attend(energies, memory, memory_mask, state)


def sliding_conv(x: torch.Tensor, kernel: torch.Tensor) -> torch.Tensor:
    """A same-padded, bias-free 1-D convolution as one matmul over sliding windows.

    With two input channels and a few hundred frames, oneDNN's convolution costs more than
    the work (about 1.6 times this forward, 2 times with its backward, on CPU), and it runs at
    every decoder step.

    Args:
        x: Input (N, C_in, S).
        kernel: Weights (C_out, C_in, k), k odd.

    Returns:
        (N, S, C_out): channels last, as the attention adds them to its energies.
    """
    (n, _, s), width = x.shape, kernel.shape[-1]
    half = width // 2
    windows = F.pad(x.to(kernel.dtype), (half, half)).unfold(2, width, 1)  # (N, C_in, S, k)
    columns = windows.transpose(1, 2).reshape(n, s, -1)  # (N, S, C_in k)
    return columns @ kernel.flatten(1).t()  # (N, S, C_in k) @ (C_in k, C_out)
