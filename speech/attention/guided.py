"""Guided attention loss.

Tachibana et al. 2018, "Efficiently trainable text-to-speech system based on deep convolutional
networks with guided attention".
"""

from __future__ import annotations

import torch


def guided_attention_weights(
    in_lengths: torch.Tensor, out_lengths: torch.Tensor, sigma: float = 0.4
) -> torch.Tensor:
    """Penalty matrix ``W[b, t, s] = 1 - exp(-(s/S_b - t/T_b)^2 / (2 sigma^2))``, zero outside lengths.

    Args:
        in_lengths: Input (memory) lengths S_b, shape (B,).
        out_lengths: Output (decoder step) lengths T_b, shape (B,).
        sigma: Width of the band around the diagonal that goes unpenalised.

    Returns:
        Shape (B, max T, max S).
    """
    device = in_lengths.device
    s = torch.arange(int(in_lengths.max()), device=device).float()  # (S,)
    t = torch.arange(int(out_lengths.max()), device=device).float()  # (T,)
    s_norm = s[None, None, :] / in_lengths.float()[:, None, None]  # (B, 1, S)
    t_norm = t[None, :, None] / out_lengths.float()[:, None, None]  # (B, T, 1)
    penalty = 1.0 - torch.exp(-((s_norm - t_norm) ** 2) / (2 * sigma**2))  # (B, T, S)
    valid = (s[None, None, :] < in_lengths[:, None, None]) & (t[None, :, None] < out_lengths[:, None, None])
    return penalty * valid


def guided_attention_loss(
    weights: torch.Tensor, in_lengths: torch.Tensor, out_lengths: torch.Tensor, sigma: float = 0.4
) -> torch.Tensor:
    """Mean of ``attention * W`` over the valid (step, frame) cells of each item.

    Args:
        weights: Attention weights, shape (B, T, S) (decoder steps x memory frames).
        in_lengths: Valid memory frames per item, shape (B,).
        out_lengths: Valid decoder steps per item, shape (B,).
        sigma: Band width; Tachibana et al. use 0.2, Tacotron2 recipes commonly 0.4.

    Returns:
        A scalar; 0 for an attention that stays on the diagonal band.
    """
    penalty = guided_attention_weights(in_lengths, out_lengths, sigma)
    penalty = penalty[:, : weights.shape[1], : weights.shape[2]]
    cells = (in_lengths * out_lengths).sum().clamp(min=1)
    return (weights.float() * penalty).sum() / cells
