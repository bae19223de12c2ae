"""The Listen-Attend-Spell listener: an optional conv front end and pyramidal BLSTM layers.

Chan et al. 2016, "Listen, attend and spell". Each pyramid layer concatenates pairs of
neighbouring frames (halving the time resolution) before its BLSTM, so 2 pyramid layers give
a 4x shorter memory and 3 give 8x. Padded frames never reach a valid frame: the backward
direction of each BLSTM reads every item reversed within its own length (so padding comes
last for both directions), and pairs are formed only within each item's length. This avoids
packed sequences, whose backward pass on CPU costs time quadratic in the sequence length.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import torch
from torch import nn

from speech.config import check_dropout, check_non_negative, check_positive, check_range


@dataclass
class ListenerConfig:
    """Listener sizes.

    Attributes:
        input_dim: Feature size F (mel bins).
        hidden_size: LSTM units per direction.
        n_layers: BLSTM layers in all.
        n_pyramid: How many of the first layers halve the time resolution (reduction 2^n).
        ctc_layer: Index of the layer whose output feeds the CTC head (-1 = last).
        conv_channels: Channels of an optional 2-layer conv front end (0 = none); it does not
            reduce time, it only learns local spectro-temporal patterns.
        dropout: Dropout between layers.
    """

    input_dim: int = 80
    hidden_size: int = 256
    n_layers: int = 3
    n_pyramid: int = 2
    ctc_layer: int = -1
    conv_channels: int = 0
    dropout: float = 0.1

    def __post_init__(self) -> None:
        check_positive(self, "input_dim", "hidden_size", "n_layers")
        check_range(self, "n_pyramid", ge=0, le=self.n_layers, note="at most n_layers")
        check_range(self, "ctc_layer", ge=-self.n_layers, lt=self.n_layers, note="a layer index")
        check_non_negative(self, "conv_channels")
        check_dropout(self, "dropout")

    @property
    def reduction(self) -> int:
        """Time reduction factor of the memory."""
        return 2**self.n_pyramid

    @property
    def output_dim(self) -> int:
        """Size of a memory frame (both directions)."""
        return 2 * self.hidden_size


class ListenerOutput(NamedTuple):
    """Memory (B, S, D) with lengths (B,), and the CTC layer's output (B, S', D) with lengths (B,)."""

    memory: torch.Tensor
    memory_lengths: torch.Tensor
    ctc_input: torch.Tensor
    ctc_lengths: torch.Tensor


def halved_lengths(lengths: torch.Tensor) -> torch.Tensor:
    """Lengths (B,) after one pyramid layer: full frame pairs, at least one."""
    return torch.div(lengths, 2, rounding_mode="floor").clamp(min=1)


def pyramid_pairs(x: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Concatenate frame pairs: (B, T, D) -> (B, T // 2, 2D); an odd last frame is dropped."""
    B, T, D = x.shape
    x = x[:, : T - T % 2].reshape(B, T // 2, 2 * D)  # (B, T, D) -> (B, T/2, 2D)
    return x, halved_lengths(lengths)


def reverse_padded(x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """Reverse each item of (B, T, D) within its length; padded frames stay where they are."""
    t = torch.arange(x.shape[1], device=x.device)[None, :]  # (1, T)
    n = lengths.to(x.device)[:, None]  # (B, 1)
    index = torch.where(t < n, n - 1 - t, t)  # (B, T)
    return x.gather(1, index[..., None].expand_as(x))


def run_lstm(lstm: nn.LSTM, x: torch.Tensor, state=None):
    """Run an ``nn.LSTM``; under CPU autocast it runs in fp32 (oneDNN has no bf16 LSTM on many CPUs)."""
    if x.device.type == "cpu" and torch.is_autocast_enabled("cpu"):
        with torch.autocast("cpu", enabled=False):
            state = None if state is None else tuple(s.float() for s in state)
            return lstm(x.float(), state)
    return lstm(x, state)


class BLSTM(nn.Module):
    """A bidirectional LSTM layer over padded batches, exact for every item's valid frames.

    Args:
        input_size: Input size D.
        hidden_size: Units per direction; the output has 2 x hidden_size features.
    """

    def __init__(self, input_size: int, hidden_size: int) -> None:
        super().__init__()
        self.forward_lstm = nn.LSTM(input_size, hidden_size, batch_first=True)
        self.backward_lstm = nn.LSTM(input_size, hidden_size, batch_first=True)

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """(B, T, D) with lengths (B,) -> (B, T, 2H); frames past each length are garbage."""
        forward, _ = run_lstm(self.forward_lstm, x)
        backward, _ = run_lstm(self.backward_lstm, reverse_padded(x, lengths))
        return torch.cat([forward, reverse_padded(backward, lengths)], dim=-1)


class _ConvFrontEnd(nn.Module):
    """Two 3x3 conv layers over (time, mel); padded frames are zeroed after each layer."""

    def __init__(self, input_dim: int, channels: int) -> None:
        super().__init__()
        self.convs = nn.ModuleList(
            [nn.Conv2d(1, channels, 3, padding=1), nn.Conv2d(channels, channels, 3, padding=1)]
        )
        self.proj = nn.Linear(channels * input_dim, input_dim)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        y = (x * mask[..., None]).unsqueeze(1)  # (B, T, F) -> (B, 1, T, F)
        for conv in self.convs:
            y = torch.relu(conv(y)) * mask[:, None, :, None]
        B, C, T, F = y.shape
        y = y.permute(0, 2, 1, 3).reshape(B, T, C * F)  # (B, C, T, F) -> (B, T, C*F)
        return self.proj(y) * mask[..., None]


class Listener(nn.Module):
    """Pyramidal BLSTM encoder.

    Args:
        config: Sizes; see :class:`ListenerConfig`.
    """

    def __init__(self, config: ListenerConfig) -> None:
        super().__init__()
        self.config = config
        self.front = _ConvFrontEnd(config.input_dim, config.conv_channels) if config.conv_channels else None
        layers, dim = [], config.input_dim
        for i in range(config.n_layers):
            in_dim = 2 * dim if i < config.n_pyramid else dim
            layers.append(BLSTM(in_dim, config.hidden_size))
            dim = config.output_dim
        self.layers = nn.ModuleList(layers)
        self.dropout = nn.Dropout(config.dropout)

    def output_lengths(self, feature_lengths: torch.Tensor) -> torch.Tensor:
        """Memory lengths (B,) for feature lengths (B,)."""
        lengths = feature_lengths
        for _ in range(self.config.n_pyramid):
            lengths = halved_lengths(lengths)
        return lengths

    def forward(self, features: torch.Tensor, feature_lengths: torch.Tensor) -> ListenerOutput:
        """Encode features (B, T, F) with lengths (B,); returns memory at T / reduction frames."""
        x, lengths = features, feature_lengths
        if self.front is not None:
            mask = torch.arange(x.shape[1], device=x.device)[None, :] < lengths[:, None]
            x = self.front(x, mask)
        ctc_index = self.config.ctc_layer % self.config.n_layers
        ctc = (x, lengths)
        for i, lstm in enumerate(self.layers):
            if i < self.config.n_pyramid:
                x, lengths = pyramid_pairs(x, lengths)
            x = lstm(x, lengths)
            if i < len(self.layers) - 1:
                x = self.dropout(x)
            if i == ctc_index:
                ctc = (x, lengths)
        return ListenerOutput(x, lengths, *ctc)
