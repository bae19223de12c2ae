"""Length and mask helpers shared by the feature modules (masks: True means valid)."""

from __future__ import annotations

import torch


def valid_mask(lengths: torch.Tensor, max_length: int) -> torch.Tensor:
    """Boolean mask (B, max_length), True where the position is below the item's length."""
    positions = torch.arange(max_length, device=lengths.device)
    return positions < lengths[:, None]  # (T,) vs (B, 1) -> (B, T)


def full_lengths(batch_size: int, length: int, device: torch.device) -> torch.Tensor:
    """Lengths (B,) int64 all equal to ``length``."""
    return torch.full((batch_size,), length, dtype=torch.long, device=device)


def check_batch(x: torch.Tensor, dims: int, name: str) -> None:
    """Raise ValueError unless ``x`` has ``dims`` dimensions."""
    if x.dim() != dims:
        raise ValueError(f"{name} must have {dims} dimensions, got shape {tuple(x.shape)}")


def check_lengths(lengths: torch.Tensor, batch_size: int, max_length: int, name: str) -> torch.Tensor:
    """Validate lengths (B,) against a padded size; returns them as int64.

    Range checks run only for CPU tensors, so GPU lengths cause no host synchronisation.
    """
    if lengths.dim() != 1 or lengths.shape[0] != batch_size:
        raise ValueError(f"{name} must have shape ({batch_size},), got {tuple(lengths.shape)}")
    if lengths.is_floating_point() or lengths.is_complex():
        raise ValueError(f"{name} must be an integer tensor, got {lengths.dtype}")
    lengths = lengths.long()
    if lengths.device.type == "cpu" and batch_size > 0:
        low, high = int(lengths.min()), int(lengths.max())
        if low < 0 or high > max_length:
            raise ValueError(f"{name} must lie in [0, {max_length}], got values in [{low}, {high}]")
    return lengths
