"""The Tacotron2 decoder: prenet, attention LSTM, location-sensitive attention, decoder LSTM.

Shen et al. 2018, "Natural TTS synthesis by conditioning WaveNet on mel spectrogram
predictions". Each decoder step reads the last mel frame of the previous step's group of
``r`` frames (the reduction factor) through the prenet, updates the attention LSTM, attends
over the encoder memory, updates the decoder LSTM and emits ``r`` frames plus one stop logit.
In training the whole prenet pass and the output projection run once over all steps; only
the recurrent part loops. ``memory_mask`` is True at valid encoder frames.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

from speech.attention import AttentionState, LocationAwareAttention, MonotonicWindow
from speech.kernels import stop_check_every
from speech.kernels.versions import tensor_versions
from speech.models.recurrence import StepWeight, fused_lstm_weights, lstm_bias, lstm_cell


class DecoderState(NamedTuple):
    """Recurrent state between steps: both LSTMs' (h, c), the context and the attention state."""

    attention_hc: tuple[torch.Tensor, torch.Tensor]  # (B, H_att) each
    decoder_hc: tuple[torch.Tensor, torch.Tensor]  # (B, H_dec) each
    context: torch.Tensor  # (B, D)
    attention: AttentionState


class DecoderOutput(NamedTuple):
    """Frames (B, N * r, F), stop logits (B, N) and attention weights (B, N, S) of N steps."""

    mel: torch.Tensor
    stop_logits: torch.Tensor
    attention: torch.Tensor


class Prenet(nn.Module):
    """Linear + ReLU layers with dropout that stays on at inference (Shen et al. 2018).

    At inference, dropout masks can be given explicitly so that every item of a batch draws
    from its own random stream (batched synthesis then equals per-item synthesis).

    Args:
        input_dim: Mel bins F.
        dims: Output size of each layer.
        dropout: Dropout probability, applied in training and at inference.
    """

    def __init__(self, input_dim: int, dims: list[int], dropout: float) -> None:
        super().__init__()
        sizes = [input_dim, *dims]
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:], strict=True))
        self.dropout = dropout

    def forward(self, x: torch.Tensor, masks: list[torch.Tensor] | None = None) -> torch.Tensor:
        """(..., F) -> (..., dims[-1]); ``masks[i]`` (same leading shape) replaces layer i's dropout."""
        for i, layer in enumerate(self.layers):
            x = F.relu(layer(x))
            if masks is not None:
                x = x * masks[i]
            elif self.dropout > 0:
                x = F.dropout(x, self.dropout, training=True)
        return x

    def draw_masks(self, steps: torch.Tensor, generators: list[torch.Generator]) -> list[torch.Tensor]:
        """Per-item dropout masks for up to ``steps[b]`` steps (see :func:`draw_prenet_masks`)."""
        return draw_prenet_masks(
            [layer.out_features for layer in self.layers], self.dropout, steps, generators
        )


def draw_prenet_masks(
    dims: list[int], dropout: float, steps: torch.Tensor, generators: list[torch.Generator]
) -> list[torch.Tensor]:
    """Per-item prenet dropout masks for up to ``steps[b]`` steps, item b from ``generators[b]``.

    Returns:
        One (B, max steps, dim) mask per layer (CPU), already scaled by ``1 / (1 - dropout)``;
        rows past an item's steps are ones.
    """
    total = int(steps.max())
    masks = []
    for dim in dims:
        rows = []
        for n, g in zip(steps.tolist(), generators, strict=True):
            drawn = torch.bernoulli(torch.full((n, dim), 1.0 - dropout), generator=g)
            rows.append(torch.cat([drawn, torch.ones(total - n, dim)]))
        masks.append(torch.stack(rows) / (1.0 - dropout))
    return masks


class Decoder(nn.Module):
    """Autoregressive mel decoder with location-sensitive attention.

    Args:
        n_mels: Mel bins F.
        memory_dim: Encoder output size D.
        reduction_factor: Frames r emitted per step.
        prenet_dims: Prenet layer sizes.
        prenet_dropout: Prenet dropout (kept at inference).
        attention_rnn_dim: Attention LSTM size.
        decoder_rnn_dim: Decoder LSTM size.
        attention_dim: Attention energy size.
        location_filters: Location convolution channels.
        location_kernel: Location convolution width.
        rnn_dropout: Dropout on both LSTM outputs in training.
    """

    def __init__(
        self,
        n_mels: int,
        memory_dim: int,
        reduction_factor: int,
        prenet_dims: list[int],
        prenet_dropout: float,
        attention_rnn_dim: int,
        decoder_rnn_dim: int,
        attention_dim: int,
        location_filters: int,
        location_kernel: int,
        rnn_dropout: float,
    ) -> None:
        super().__init__()
        self.n_mels = n_mels
        self.r = reduction_factor
        self.rnn_dropout = rnn_dropout
        self.prenet = Prenet(n_mels, prenet_dims, prenet_dropout)
        self.attention_rnn = nn.LSTMCell(prenet_dims[-1] + memory_dim, attention_rnn_dim)
        # no padding skipping: at synthesis the monotonic window masks more than padding, and gives
        # every item its own extent at every step (runs of rows of similar length cost more than
        # the padding they skip)
        self.attention = LocationAwareAttention(
            attention_rnn_dim,
            memory_dim,
            attention_dim,
            location_filters,
            location_kernel,
            skip_padding=False,
        )
        self.decoder_rnn = nn.LSTMCell(attention_rnn_dim + memory_dim, decoder_rnn_dim)
        self.frame_proj = nn.Linear(decoder_rnn_dim + memory_dim, n_mels * reduction_factor)
        self.stop_proj = nn.Linear(decoder_rnn_dim + memory_dim, 1)

    def init_state(self, memory: torch.Tensor, memory_mask: torch.Tensor) -> DecoderState:
        """Zero LSTM states and context; attention starts on the first symbol."""
        B, _, D = memory.shape

        def zeros(n: int) -> torch.Tensor:
            return memory.new_zeros(B, n)

        h_att, h_dec = self.attention_rnn.hidden_size, self.decoder_rnn.hidden_size
        return DecoderState(
            (zeros(h_att), zeros(h_att)),
            (zeros(h_dec), zeros(h_dec)),
            zeros(D),
            self.attention.init_state(memory, memory_mask),
        )

    def step(
        self,
        prenet_out: torch.Tensor,
        memory: torch.Tensor,
        memory_mask: torch.Tensor,
        state: DecoderState,
        attention: nn.Module | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor, DecoderState]:
        """One step: returns the projection input (B, H_dec + D), the weights (B, S) and the new state."""
        attention = attention or self.attention
        h, c = self.attention_rnn(torch.cat([prenet_out, state.context], dim=-1), state.attention_hc)
        query = F.dropout(h, self.rnn_dropout, self.training)
        att = attention(query, memory, memory_mask, state.attention)
        context = att.context.to(h.dtype)
        h2, c2 = self.decoder_rnn(torch.cat([query, context], dim=-1), state.decoder_hc)
        out = torch.cat([F.dropout(h2, self.rnn_dropout, self.training), context], dim=-1)
        return out, att.weights, DecoderState((h, c), (h2, c2), context, att.state)

    def _fused_cells(self) -> tuple[StepWeight, StepWeight]:
        """Each LSTM's ``[W_ih, W_hh]`` and summed bias, for :meth:`_fused_step` (one matmul per cell)."""
        cells = (self.attention_rnn, self.decoder_rnn)
        return tuple(StepWeight(fused_lstm_weights(cell)[0], lstm_bias(cell)) for cell in cells)

    def _fused_step(
        self,
        prenet_out: torch.Tensor,
        memory: torch.Tensor,
        memory_mask: torch.Tensor,
        state: DecoderState,
        attention: nn.Module,
        cells: tuple[StepWeight, StepWeight],
    ) -> tuple[torch.Tensor, torch.Tensor, DecoderState]:
        """:meth:`step` with each cell's two matmuls fused into one (``cells`` from :meth:`_fused_cells`)."""
        att_cell, dec_cell = cells
        (h, c), (h2, c2) = state.attention_hc, state.decoder_hc
        h, c = lstm_cell(att_cell(torch.cat([prenet_out, state.context, h], dim=-1)), c)
        query = F.dropout(h, self.rnn_dropout, True) if self.training else h
        att = attention(query, memory, memory_mask, state.attention)
        context = att.context.to(h.dtype)
        h2, c2 = lstm_cell(dec_cell(torch.cat([query, context, h2], dim=-1)), c2)
        out = torch.cat([F.dropout(h2, self.rnn_dropout, True) if self.training else h2, context], dim=-1)
        return out, att.weights, DecoderState((h, c), (h2, c2), context, att.state)

    def project(self, outs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(B, N, H_dec + D) -> frames (B, N * r, F) and stop logits (B, N)."""
        B, N, _ = outs.shape
        frames = self.frame_proj(outs).view(B, N * self.r, self.n_mels)  # (B, N, r F) -> (B, N r, F)
        return frames, self.stop_proj(outs).squeeze(-1)

    def forward(self, memory: torch.Tensor, memory_mask: torch.Tensor, mels: torch.Tensor) -> DecoderOutput:
        """Teacher-forced pass.

        Args:
            memory: Encoder output, shape (B, S, D).
            memory_mask: True at valid symbols, shape (B, S).
            mels: Target frames, shape (B, T, F) with T a multiple of r.

        Returns:
            Frames (B, T, F), stop logits (B, T / r), weights (B, T / r, S).
        """
        B, T, F_ = mels.shape
        go = mels.new_zeros(B, 1, F_)
        inputs = torch.cat(
            [go, mels[:, self.r - 1 :: self.r][:, :-1]], dim=1
        )  # (B, N, F): last frame of each group
        prenet_out = self.prenet(inputs)  # (B, N, P)
        # The maths of :meth:`step`, scheduled for a known input sequence: the prenet's share of
        # the attention LSTM's gates (and both cells' biases) for all steps in one matmul, one
        # matmul per cell per step, and each weight's gradient once after the loop (StepWeight).
        att_step, att_prenet = fused_lstm_weights(self.attention_rnn, hoisted=prenet_out.shape[-1])
        # unbound once: indexing each step would make each step's backward fill a (B, N, 4 H_att) zero
        att_gates = F.linear(prenet_out, att_prenet, lstm_bias(self.attention_rnn)).unbind(1)  # N x (B, 4 H)
        att_step = StepWeight(att_step)
        dec_step = StepWeight(fused_lstm_weights(self.decoder_rnn)[0], lstm_bias(self.decoder_rnn))
        (h, c), (h2, c2), context, att_state = self.init_state(memory, memory_mask)
        outs, weights = [], []
        for step_gates in att_gates:
            h, c = lstm_cell(step_gates + att_step(torch.cat([context, h], dim=-1)), c)
            query = F.dropout(h, self.rnn_dropout, self.training)
            att = self.attention(query, memory, memory_mask, att_state)
            context, att_state = att.context.to(h.dtype), att.state
            h2, c2 = lstm_cell(dec_step(torch.cat([query, context, h2], dim=-1)), c2)
            outs.append(torch.cat([F.dropout(h2, self.rnn_dropout, self.training), context], dim=-1))
            weights.append(att.weights)
        frames, stop_logits = self.project(torch.stack(outs, dim=1))
        return DecoderOutput(frames, stop_logits, torch.stack(weights, dim=1))

    @torch.no_grad()
    def infer(
        self,
        memory: torch.Tensor,
        memory_mask: torch.Tensor,
        max_steps: torch.Tensor,
        generators: list[torch.Generator],
        stop_threshold: float = 0.5,
        window: tuple[int, int] | None = (1, 3),
        stop_near_end: int = 3,
        check_every: int | None = None,
    ) -> tuple[DecoderOutput, torch.Tensor, torch.Tensor]:
        """Free-running synthesis where every item stops on its own.

        An item stops at the first step whose stop probability exceeds ``stop_threshold`` while
        its attention peak lies within ``stop_near_end`` symbols of its last one (0: anywhere),
        or at its ``max_steps``. Padding and the other items never change an item's frames.

        Args:
            memory: Encoder output, shape (B, S, D).
            memory_mask: True at valid symbols, shape (B, S).
            max_steps: Step limit per item, shape (B,).
            generators: One random stream per item for the prenet's dropout.
            stop_threshold: Stop probability threshold.
            window: ``(backward, forward)`` symbols of the monotonic attention window, or None.
            stop_near_end: See above.
            check_every: Steps between the checks whether every item is done, each a host sync
                off the CPU (the steps run past the end are dropped, so any value gives the same
                result); default :func:`speech.kernels.stop_check_every`.

        Returns:
            ``(DecoderOutput, steps (B,), stopped (B,) bool)``; frames past ``steps * r`` are padding.
        """
        B, device = memory.shape[0], memory.device
        # a new module starts in training mode, where the window is transparent: follow the decoder's
        attention = (
            MonotonicWindow(self.attention, *window).train(self.training) if window else self.attention
        )
        masks = [m.to(device, memory.dtype) for m in self.prenet.draw_masks(max_steps.cpu(), generators)]
        step_masks = list(zip(*(m.unbind(1) for m in masks), strict=True))  # per step, one per layer
        total = int(max_steps.max())
        limits = max_steps.to(device)
        at_limit = limits <= torch.arange(1, total + 1, device=device)[:, None]  # (total, B): after step n
        near_end = memory_mask.sum(dim=1) - 1 - stop_near_end if stop_near_end > 0 else None  # (B,)
        threshold = _logit(stop_threshold)
        # Whether every item is done is the one host sync of a step: off the CPU, ask it every few
        # steps only (the steps run past the end are cut below, so the result is the same).
        check_every = check_every or stop_check_every(device)
        cells, projection = self._inference_weights()
        wants_stop_any = torch.zeros(B, dtype=torch.bool, device=device)
        frame, r, F_ = memory.new_zeros(B, self.n_mels), self.r, self.n_mels
        state = self.init_state(memory, memory_mask)
        outs, weights, wants_stop = [], [], []
        for n in range(total):
            prenet_out = self.prenet(frame, step_masks[n])
            out, w, state = self._fused_step(prenet_out, memory, memory_mask, state, attention, cells)
            out = projection(out)  # (B, r F + 1): r frames and the stop logit
            frame = out[:, (r - 1) * F_ : r * F_]
            stop = out[:, -1] > threshold  # sigmoid > stop_threshold
            if near_end is not None:  # and the attention peak near the end of the text
                stop = stop & (w.argmax(dim=-1) >= near_end)
            outs.append(out)
            weights.append(w)
            wants_stop.append(stop)
            wants_stop_any |= stop
            if (n + 1) % check_every == 0 and bool((wants_stop_any | at_limit[n]).all()):
                break
        # each item ends at its first stop or at its limit, whichever comes first
        wants = torch.stack(wants_stop, dim=1)  # (B, N)
        N = wants.shape[1]
        first_stop = torch.where(wants.any(dim=1), wants.int().argmax(dim=1) + 1, N + 1)  # 1-based, (B,)
        steps, stopped = torch.minimum(first_stop, limits), first_stop <= limits
        N = int(steps.max())  # drop the steps run after every item ended
        outs = torch.stack(outs[:N], dim=1)  # (B, N, r F + 1)
        frames = outs[..., :-1].reshape(B, N * r, F_)  # (B, N, r F) -> (B, N r, F)
        out = DecoderOutput(frames, outs[..., -1], torch.stack(weights[:N], dim=1))
        return out, steps, stopped

    def _inference_weights(self) -> tuple[tuple[StepWeight, StepWeight], StepWeight]:
        """The fused cells of :meth:`_fused_step` and the fused projection ``[frames; stop]``.

        Without gradients, they are built once and kept while the parameters are the same tensors
        at the same version (an optimiser step, ``load_state_dict`` or ``.to()`` makes new ones).
        Writes through ``param.data`` bypass the version counter: call :meth:`forget_inference_weights`
        after them. The kept copies cost the memory of the two LSTMs' and the projections' weights.
        """
        params = [*self.attention_rnn.parameters(), *self.decoder_rnn.parameters()]
        params += [*self.frame_proj.parameters(), *self.stop_proj.parameters()]
        device = params[0].device.type
        versions = tensor_versions(params)  # None under inference_mode: never keep
        key = (versions, torch.get_autocast_dtype(device) if torch.is_autocast_enabled(device) else None)
        keep = versions is not None and not torch.is_grad_enabled()
        cached = self.__dict__.get("_inference_cache")
        if keep and cached is not None and cached[0] == key:
            return cached[1]
        cells = self._fused_cells()
        weight = torch.cat([self.frame_proj.weight, self.stop_proj.weight])  # (r F + 1, H_dec + D)
        bias = torch.cat([self.frame_proj.bias, self.stop_proj.bias])
        built = cells, StepWeight(weight, bias)
        if keep:
            self.__dict__["_inference_cache"] = (key, built)
        return built

    def forget_inference_weights(self) -> None:
        """Drop the weights :meth:`_inference_weights` keeps (see there)."""
        self.__dict__.pop("_inference_cache", None)


def _logit(p: float) -> float:
    """``log(p / (1 - p))``: ``sigmoid(x) > p`` exactly when ``x > logit(p)``."""
    if p <= 0.0:
        return -math.inf
    if p >= 1.0:
        return math.inf
    return math.log(p / (1.0 - p))
