"""Alignment health of attention weights: focus rate, diagonality and monotonicity.

These numbers tell whether a sequence-to-sequence model (Tacotron2 above all) has learned to
attend to its input in order: a healthy TTS alignment is sharp (high focus rate), runs along the
diagonal of the (decoder step, input symbol) plane, and never jumps backwards.

Masks in this module use True for *valid* positions. Decoder steps ``t >= out_lengths[b]`` and
input symbols ``s >= in_lengths[b]`` are padding: they never count, whatever weight they hold.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import Tensor


class AlignmentHealth(NamedTuple):
    """Per-item alignment health, each a float32 tensor of shape ``(B,)`` with values in [0, 1].

    Attributes:
        focus_rate: Mean over valid decoder steps of the largest attention weight.
        diagonality: Share of valid decoder steps whose attention peak lies near the diagonal.
        monotonicity: Share of consecutive valid step pairs whose peak does not move back by
            more than one symbol.
    """

    focus_rate: Tensor
    diagonality: Tensor
    monotonicity: Tensor


@torch.no_grad()
def alignment_health(
    weights: Tensor, in_lengths: Tensor, out_lengths: Tensor, band: float = 0.1
) -> AlignmentHealth:
    """Focus rate, diagonality and monotonicity of a batch of attention matrices.

    Let ``S_b = in_lengths[b]``, ``T_b = out_lengths[b]`` and, for a valid decoder step
    ``t < T_b``, ``p_t = argmax_{s < S_b} weights[b, t, s]`` (the attention peak; padded input
    symbols are excluded) and ``m_t = max_{s < S_b} weights[b, t, s]``. Then:

    - ``focus_rate = mean_{t < T_b} m_t`` (the focus rate of Chorowski et al. 2015 as used
      for Tacotron-style TTS): 1 for one-hot rows, ``1 / S_b`` for uniform rows.
    - ``diagonality`` is the share of valid steps with ``|p_t - t * S_b / T_b| <= tol_b``,
      where ``tol_b = max(band * S_b, 1)`` symbols. A perfect diagonal gives 1, a reversed
      one about ``band``.
    - ``monotonicity`` is the share of consecutive pairs ``(t, t + 1)``, ``t + 1 < T_b``, with
      ``p_{t+1} >= p_t - 1`` (the peak moves back by at most one symbol). An item with fewer
      than two valid steps scores 1.

    With a reduction factor ``r`` the decoder emits ``r`` frames a step: pass the number of
    valid decoder *steps* (``ceil(frames / r)``), matching the rows of ``weights``.

    Args:
        weights: Attention weights ``(B, T_out, S_in)``, rows summing to 1 over the valid
            input symbols; any dtype (computed in float32).
        in_lengths: Valid input symbols per item ``(B,)``, each >= 1.
        out_lengths: Valid decoder steps per item ``(B,)``, each >= 1.
        band: Half-width of the diagonal band, as a fraction of the input length.

    Returns:
        An :class:`AlignmentHealth` of float32 tensors ``(B,)`` on the device of ``weights``.

    Raises:
        ValueError: Bad shapes, lengths outside ``[1, S_in]`` / ``[1, T_out]``, or a negative band.
    """
    _check(weights, in_lengths, out_lengths, band)
    B, T, S = weights.shape
    device = weights.device
    w = weights.detach().float()
    in_len = in_lengths.to(device=device, dtype=torch.long)
    out_len = out_lengths.to(device=device, dtype=torch.long)
    in_mask = torch.arange(S, device=device)[None, :] < in_len[:, None]  # (B, S)
    step_mask = torch.arange(T, device=device)[None, :] < out_len[:, None]  # (B, T)
    masked = w.masked_fill(~in_mask[:, None, :], float("-inf"))  # (B, T, S)
    peak_weight, peak = masked.max(dim=-1)  # (B, T), (B, T)
    n_steps = out_len.float()

    focus = peak_weight.masked_fill(~step_mask, 0.0).sum(1) / n_steps

    t = torch.arange(T, device=device, dtype=torch.float32)[None, :]  # (1, T)
    diagonal = t * in_len[:, None].float() / n_steps[:, None]  # (B, T)
    tol = (band * in_len.float()).clamp(min=1.0)[:, None]  # (B, 1)
    near = (peak.float() - diagonal).abs() <= tol
    diagonality = (near & step_mask).float().sum(1) / n_steps

    pair_mask = step_mask[:, 1:]  # (B, T-1): both t and t+1 valid
    forward = peak[:, 1:] >= peak[:, :-1] - 1
    n_pairs = pair_mask.float().sum(1)
    good_pairs = (forward & pair_mask).float().sum(1)
    monotonicity = torch.where(n_pairs > 0, good_pairs / n_pairs.clamp(min=1.0), torch.ones_like(n_pairs))
    return AlignmentHealth(focus_rate=focus, diagonality=diagonality, monotonicity=monotonicity)


def _check(weights: Tensor, in_lengths: Tensor, out_lengths: Tensor, band: float) -> None:
    if weights.dim() != 3:
        raise ValueError(f"weights must be (B, T_out, S_in), got shape {tuple(weights.shape)}")
    B, T, S = weights.shape
    for name, lengths, limit in (("in_lengths", in_lengths, S), ("out_lengths", out_lengths, T)):
        if lengths.shape != (B,):
            raise ValueError(f"{name} must have shape ({B},), got {tuple(lengths.shape)}")
        if B and (int(lengths.min()) < 1 or int(lengths.max()) > limit):
            raise ValueError(f"{name} must lie in [1, {limit}], got {lengths.tolist()}")
    if band < 0:
        raise ValueError(f"band must be >= 0, got {band}")
