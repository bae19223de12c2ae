"""Recurrent cells for step loops, with the weight gradient taken once after the loop.

A decoder that loops over time in Python (Tacotron2's, a speller's) uses the same LSTM weights
at every step. Autograd then computes, for every step, a full-size weight gradient
``g_n^T x_n`` from a handful of rows and adds it into the accumulated gradient: two passes
over a multi-megabyte matrix per weight per step, which is most of a training step's time at
small batches (memory-bound, not compute-bound). The gradient is ``sum_n g_n^T x_n = G^T X``,
one well-shaped matmul once every step's ``g_n`` is known. :class:`StepWeight` does exactly
that: each step's product records ``(g_n, x_n)`` during backward, and a node placed before the
loop, which autograd runs only after every step's backward, returns ``G^T X``. The maths is
unchanged (the sum is reordered, so results agree to rounding).

The module also has the LSTM cell of :class:`torch.nn.LSTMCell` written over precomputed gates,
so that a loop can fuse the input and hidden matmuls into one and hoist whatever part of the
input does not depend on the recurrence (a teacher-forced prenet) out of the loop.
"""

from __future__ import annotations

import torch
from torch import nn


class StepWeight:
    """``x W^T + b`` at every step of a loop: the weight laid out once, its gradient one matmul.

    Build one per forward pass, before the loop, from the (differentiable) weight; call it on
    each step's input. Two things make it faster than ``F.linear`` at every step:

    - the weight is transposed into a contiguous (in, out) copy once: for a few rows, a
      matmul streams that layout about twice as fast on CPU as the (out, in) one that
      ``F.linear`` reads (and autocast casts it once, not at every step);
    - with gradients, each step only records ``(g_n, x_n)``, and the weight's gradient is
      computed once after the loop (see the module docstring).

    Args:
        weight: Shape (out, in); may be a function of parameters (a concatenation of them).
        bias: Shape (out,), or None.
    """

    def __init__(self, weight: torch.Tensor, bias: torch.Tensor | None = None) -> None:
        device = weight.device.type
        if torch.is_autocast_enabled(device):  # the dtype autocast would give each step's matmul
            weight = weight.to(torch.get_autocast_dtype(device))
        self._records: list[tuple[torch.Tensor, torch.Tensor]] = []
        self.deferred = torch.is_grad_enabled() and weight.requires_grad
        transposed = weight.t().contiguous()  # (in, out)
        self.weight_t = _Collect.apply(transposed, self._records) if self.deferred else transposed
        # the input gradient g W streams the (out, in) layout fast: keep it too (no gradient of its own)
        self._weight = weight.detach().contiguous() if self.deferred else None
        self.bias = bias

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        """(B, in) -> (B, out)."""
        if not self.deferred:
            x = x.to(self.weight_t.dtype)
            if self.bias is None:
                return x @ self.weight_t
            return torch.addmm(self.bias.to(x.dtype), x, self.weight_t)
        out = _StepProduct.apply(x, self.weight_t, self._weight, self._records)
        return out if self.bias is None else out + self.bias


class _StepProduct(torch.autograd.Function):
    """``x @ W_t`` whose backward gives the input gradient and records ``(x, g)`` for the weight's.

    ``weight`` is ``W_t`` transposed back, contiguous (out, in), for the input gradient only.
    """

    @staticmethod
    def forward(
        ctx, x: torch.Tensor, weight_t: torch.Tensor, weight: torch.Tensor, records: list
    ) -> torch.Tensor:
        x = x.to(weight_t.dtype)
        ctx.save_for_backward(x, weight)
        ctx.records = records
        return x @ weight_t  # (B, in) @ (in, out)

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> tuple[torch.Tensor, None, None, None]:
        x, weight = ctx.saved_tensors
        grad = grad.to(weight.dtype)
        ctx.records.append((x, grad))
        return grad @ weight, None, None, None  # (B, out) @ (out, in)


class _Collect(torch.autograd.Function):
    """Identity on the weight; its backward, run after every step's, returns ``X^T G``."""

    @staticmethod
    def forward(ctx, weight_t: torch.Tensor, records: list) -> torch.Tensor:
        ctx.set_materialize_grads(False)
        ctx.records = records
        return weight_t.view_as(weight_t)

    @staticmethod
    def backward(ctx, grad: torch.Tensor | None) -> tuple[torch.Tensor | None, None]:
        records = ctx.records
        if not records:
            return grad, None
        inputs = torch.cat([x for x, _ in records])  # (steps B, in)
        grads = torch.cat([g for _, g in records])  # (steps B, out)
        records.clear()  # a second backward (retain_graph) records afresh
        total = inputs.t() @ grads  # (in, out)
        return total if grad is None else grad + total, None


def lstm_cell(gates: torch.Tensor, c: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The LSTM update of :class:`torch.nn.LSTMCell` from its pre-activations.

    Args:
        gates: ``W_ih x + b_ih + W_hh h + b_hh``, shape (B, 4H), in torch's order (i, f, g, o).
        c: Cell state, shape (B, H).

    Returns:
        The new ``(h, c)``, each (B, H).
    """
    H = c.shape[-1]
    gate = torch.sigmoid(gates)  # i, f and o (the g quarter unused: one op instead of three)
    cell = torch.tanh(gates[:, 2 * H : 3 * H])
    c = torch.addcmul(gate[:, H : 2 * H] * c, gate[:, :H], cell)  # f c + i g
    return gate[:, 3 * H :] * torch.tanh(c), c


def fused_lstm_weights(cell: nn.LSTMCell, hoisted: int = 0) -> tuple[torch.Tensor, torch.Tensor | None]:
    """One matrix for the part of a cell's gates computed at each step, and the hoisted part.

    The step matrix is ``[W_ih[:, hoisted:], W_hh]``, applied to ``[x[hoisted:], h]``; the
    first ``hoisted`` input columns ``W_ih[:, :hoisted]`` (None when 0) are left to the caller,
    which applies them to all steps at once. Both are differentiable functions of the cell's
    parameters, so gradients reach the cell as usual.

    Returns:
        ``(step weight (4H, in - hoisted + H), hoisted weight (4H, hoisted) or None)``.
    """
    step = torch.cat([cell.weight_ih[:, hoisted:], cell.weight_hh], dim=1)
    return step, (cell.weight_ih[:, :hoisted] if hoisted else None)


def lstm_bias(cell: nn.LSTMCell) -> torch.Tensor | None:
    """``b_ih + b_hh`` (4H,), or None for a cell without biases."""
    if cell.bias_ih is None:
        return None
    return cell.bias_ih + cell.bias_hh
