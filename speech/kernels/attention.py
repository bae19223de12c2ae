"""CPU inference kernels of additive and location-aware attention.

The same maths as :mod:`speech.attention.additive` (they agree to about 1e-7), computed
faster on CPU without gradients:

- ``w^T tanh(h)`` as ``2 w^T sigmoid(2 h)``, which differs from it by ``sum(w)``, the same for
  every frame, so the softmax is unchanged: ATen's CPU tanh (Sleef's ``tanhf``) costs about
  three times its sigmoid, the energies' tanh is the largest cost of a decoding step, and the
  factors of 2 fold into the small query and location weights;
- the location term added in place, as one matmul-add into the energies' buffer;
- with ``skip_padding``, energies computed per run of memory rows of similar length, over that
  run's valid frames only (:func:`_runs`): padding costs nothing.

With gradients enabled or off the CPU, a kernel runs the reference ``forward``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from speech.attention import AdditiveAttention, AttentionOutput, AttentionState, LocationAwareAttention
from speech.attention.additive import sliding_conv
from speech.attention.state import attend


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


class _CPUKernel:
    """The kernel ``forward`` shared by both mechanisms; mixed in before the reference class."""

    def forward(
        self, query: torch.Tensor, memory: torch.Tensor, memory_mask: torch.Tensor, state: AttentionState
    ) -> AttentionOutput:
        """One attention step, as the reference ``forward`` (same arguments, same results)."""
        if torch.is_grad_enabled() or memory.device.type != "cpu":
            return super().forward(query, memory, memory_mask, state)
        (B, S, _), N = memory.shape, query.shape[0]
        W, mask = N // B, memory_mask.view(B, -1, S)  # mask (B, 1 or W, S)
        # F.linear, not the submodules' calls: a module call costs more than these small matmuls
        query = F.linear(query, self.query_proj.weight).view(B, W, 1, -1)  # (N, A) -> (B, W, 1, A)
        runs = self._padding_runs(memory_mask, mask) if self.skip_padding else [(0, B, S)]
        if runs == [(0, B, S)]:
            features = self._location_features(state.weights, state.cumulative)
            return attend(self._energies(query, state.keys, features), memory, memory_mask, state)
        energies = query.new_full((B, W, S), float("-inf"))
        for b0, b1, s in runs:
            rows = slice(b0 * W, b1 * W)  # weights past s are exactly 0, so the truncated conv is exact
            features = self._location_features(state.weights[rows, :s], state.cumulative[rows, :s])
            energies[b0:b1, :, :s] = self._energies(query[b0:b1], state.keys[b0:b1, :s], features)
        return attend(energies, memory, memory_mask, state)

    def _padding_runs(self, memory_mask: torch.Tensor, mask: torch.Tensor) -> list[tuple[int, int, int]]:
        """``_runs(mask)``, remembered for the last ``memory_mask`` (B or N, S).

        A decoder passes one mask object at every step of a batch (its padding does not change),
        so the runs are found once per batch, not once per step. A mask changed in place between
        calls is not noticed: pass a new one.
        """
        last = self.__dict__.get("_last_runs")
        if last is not None and last[0] is memory_mask and last[1] == mask.shape:
            return last[2]
        runs = _runs(mask)
        self.__dict__["_last_runs"] = (memory_mask, mask.shape, runs)
        return runs

    def _energies(
        self, query: torch.Tensor, keys: torch.Tensor, features: torch.Tensor | None
    ) -> torch.Tensor:
        """Energies (b, W, s) of queries (b, W, 1, A) over keys (b, s, A), up to a constant per row.

        ``2 w^T sigmoid(2 h)`` in one buffer: see the module docstring.
        """
        hidden = torch.add(query * 2, keys.unsqueeze(1), alpha=2)  # 2 (q + k), (b, W, s, A)
        hidden = torch.sigmoid(self._add_location(hidden, features, 2.0), out=hidden)
        return torch.matmul(hidden, self.energy.weight[0]).mul_(2)  # (b, W, s, A) @ (A,) -> (b, W, s)

    def _location_features(self, weights: torch.Tensor, cumulative: torch.Tensor) -> torch.Tensor | None:
        """Location features (n, s, C) of the previous and cumulative weights (n, s); none here."""
        return None

    def _add_location(
        self, hidden: torch.Tensor, features: torch.Tensor | None, alpha: float
    ) -> torch.Tensor:
        """``hidden`` (b, W, s, A) plus ``alpha`` times the location term of ``features`` (b W, s, C)."""
        return hidden


class CPUAdditiveAttention(_CPUKernel, AdditiveAttention):
    """:class:`~speech.attention.AdditiveAttention` with the CPU inference kernel."""


class CPULocationAwareAttention(_CPUKernel, LocationAwareAttention):
    """:class:`~speech.attention.LocationAwareAttention` with the CPU inference kernel."""

    def _location_features(self, weights: torch.Tensor, cumulative: torch.Tensor) -> torch.Tensor:
        """The location features (n, s, C) of the reference, from the weights (n, s) of a run."""
        return sliding_conv(torch.stack([weights, cumulative], dim=1), self.location_conv.weight)

    def _add_location(self, hidden: torch.Tensor, features: torch.Tensor, alpha: float) -> torch.Tensor:
        """In place, as one matmul-add: no (b, W, s, A) temporary (the same sums, the same result)."""
        weight = self.location_proj.weight  # (A, C)
        if not hidden.dtype == features.dtype == weight.dtype:
            location = self.location_proj(features).view(hidden.shape)  # (b W, s, A) -> (b, W, s, A)
            return hidden + alpha * location
        flat = hidden.view(-1, weight.shape[0])  # (b, W, s, A) -> (b W s, A)
        flat.addmm_(features.reshape(-1, weight.shape[1]), weight.t(), alpha=alpha)  # (b W s, C) @ (C, A)
        return hidden
