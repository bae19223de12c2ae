"""The Listen-Attend-Spell speller: an LSTM decoder with location-aware attention (one head or several).

Each step feeds ``[embedding(previous token); previous context]`` to a stack of LSTM cells,
attends over the listener's memory with the top cell's output as the query, and predicts the
next token from ``[top output; new context]``. The speller is also a
:class:`~speech.decoding.Scorer`, so the shared beam search drives it directly.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

from speech.attention import (
    AttentionState,
    LocationAwareAttention,
    MultiHeadLocationAwareAttention,
    MultiHeadState,
    selected_memory_rows,
)
from speech.config import check_dropout, check_non_negative, check_odd, check_positive, field_error
from speech.models.recurrence import StepWeight, fused_lstm_weights, lstm_bias, lstm_cell


@dataclass
class SpellerConfig:
    """Speller sizes.

    Attributes:
        vocab_size: Output vocabulary V (tokenizer's, specials included); set by the model.
        memory_dim: Size of a memory frame; set by the model from its encoder.
        embed_dim: Token embedding size.
        hidden_size: LSTM cell size.
        n_layers: Stacked LSTM cells.
        attention_dim: Hidden size of the attention energies (of all heads together).
        attention_heads: Heads of the location-aware attention; above 1, each head has
            ``attention_dim / attention_heads`` units and their contexts are projected to one
            (:class:`~speech.attention.MultiHeadLocationAwareAttention`).
        location_filters: Channels of the location convolution.
        location_kernel: Width of the location convolution (odd).
        dropout: Dropout on the embedding and the cell outputs.
    """

    vocab_size: int = 0
    memory_dim: int = 0
    embed_dim: int = 128
    hidden_size: int = 512
    n_layers: int = 1
    attention_dim: int = 256
    attention_heads: int = 1
    location_filters: int = 16
    location_kernel: int = 15
    dropout: float = 0.1

    def __post_init__(self) -> None:
        check_non_negative(self, "vocab_size", "memory_dim")  # 0 until the model sets them
        check_positive(self, "embed_dim", "hidden_size", "n_layers", "attention_dim", "attention_heads")
        check_positive(self, "location_filters")
        check_odd(self, "location_kernel")
        check_dropout(self, "dropout")
        if self.attention_dim % self.attention_heads:
            problem = f"must be a multiple of speller.attention_heads ({self.attention_heads})"
            raise field_error(self, "attention_dim", f"{problem}, got {self.attention_dim}")


class SpellerState(NamedTuple):
    """Decoder state carried between steps.

    The memory (and the attention keys) have one row per utterance, shared by the N / B
    consecutive hypotheses of that utterance; the other fields have the hypotheses as rows.
    """

    memory: torch.Tensor  # (B, S, D)
    memory_mask: torch.Tensor  # (B, S)
    h: torch.Tensor  # (L, N, H)
    c: torch.Tensor  # (L, N, H)
    context: torch.Tensor  # (N, D)
    attention: AttentionState | MultiHeadState

    def select(self, rows: torch.Tensor) -> SpellerState:
        """Keep (reorder or repeat) the hypothesis rows ``rows`` (N',).

        The memory is indexed only when the kept rows read other memory rows than before (see
        :func:`~speech.attention.selected_memory_rows`): a search that keeps equally many
        hypotheses of each utterance shares one memory row among them, never a copy each.
        """
        groups = selected_memory_rows(rows, self.h.shape[1], self.memory.shape[0])
        memory, mask = self.memory, self.memory_mask
        if groups is not None:
            memory, mask = memory.index_select(0, groups), mask.index_select(0, groups)
        return SpellerState(
            memory,
            mask,
            self.h.index_select(1, rows),
            self.c.index_select(1, rows),
            self.context.index_select(0, rows),
            self.attention.take(rows, groups),
        )


class SpellerOutput(NamedTuple):
    """Teacher-forced logits (B, U, V) and attention weights (B, U, S)."""

    logits: torch.Tensor
    attention: torch.Tensor


class Speller(nn.Module):
    """Attention decoder over a memory.

    Args:
        config: Sizes; see :class:`SpellerConfig`.
        never_emit: Token ids the decoder must never predict at inference (pad/blank, bos).
    """

    never_emit_ids: torch.Tensor

    def __init__(self, config: SpellerConfig, never_emit: tuple[int, ...] = ()) -> None:
        super().__init__()
        self.config = config
        self.vocab_size = config.vocab_size
        self.never_emit = list(never_emit)
        self.register_buffer(
            "never_emit_ids", torch.tensor(self.never_emit, dtype=torch.long), persistent=False
        )
        self.embed = nn.Embedding(config.vocab_size, config.embed_dim)
        sizes = [config.embed_dim + config.memory_dim] + [config.hidden_size] * (config.n_layers - 1)
        self.cells = nn.ModuleList(nn.LSTMCell(n, config.hidden_size) for n in sizes)
        dims = (config.hidden_size, config.memory_dim, config.attention_dim)  # query, memory, energy
        location = (config.location_filters, config.location_kernel)
        if config.attention_heads == 1:
            self.attention = LocationAwareAttention(*dims, *location)
        else:
            self.attention = MultiHeadLocationAwareAttention(*dims, config.attention_heads, *location)
        self.output = nn.Sequential(
            nn.Linear(config.hidden_size + config.memory_dim, config.hidden_size),
            nn.Tanh(),
            nn.Linear(config.hidden_size, config.vocab_size),
        )
        self.dropout = nn.Dropout(config.dropout)

    def init_state(self, memory: torch.Tensor, memory_lengths: torch.Tensor) -> SpellerState:
        """Zero cells and context; attention starts on the first frame."""
        B, L, H = memory.shape[0], self.config.n_layers, self.config.hidden_size
        mask = torch.arange(memory.shape[1], device=memory.device)[None, :] < memory_lengths[:, None]
        zeros = memory.new_zeros(L, B, H)
        return SpellerState(
            memory,
            mask,
            zeros,
            zeros.clone(),
            memory.new_zeros(B, memory.shape[2]),
            self.attention.init_state(memory, mask),
        )

    def step(
        self, tokens: torch.Tensor, state: SpellerState
    ) -> tuple[torch.Tensor, torch.Tensor, SpellerState]:
        """One step: previous tokens (N,) -> logits (N, V), attention weights (N, S), new state."""
        features, weights, state = self._recur(self.dropout(self.embed(tokens)), state)
        return self.output(features), weights, state

    def _recur(
        self, embedded: torch.Tensor, state: SpellerState
    ) -> tuple[torch.Tensor, torch.Tensor, SpellerState]:
        """Cells and attention for one step; returns ``[top output; context]`` (N, H + D)."""
        x = torch.cat([embedded, state.context], dim=-1)
        hs, cs = [], []
        for i, cell in enumerate(self.cells):
            h, c = cell(x, (state.h[i], state.c[i]))
            hs.append(h)
            cs.append(c)
            x = self.dropout(h)
        att = self.attention(hs[-1], state.memory, state.memory_mask, state.attention)
        new_state = SpellerState(
            state.memory, state.memory_mask, torch.stack(hs), torch.stack(cs), att.context, att.state
        )
        return torch.cat([x, att.context], dim=-1), att.weights, new_state

    def forward(
        self,
        memory: torch.Tensor,
        memory_lengths: torch.Tensor,
        inputs: torch.Tensor,
        sampling_probability: float = 0.0,
    ) -> SpellerOutput:
        """Teacher-forced decoding (with optional scheduled sampling).

        Args:
            memory: Listener output, shape (B, S, D).
            memory_lengths: Shape (B,).
            inputs: Decoder inputs ``[bos, y_1 .. y_{U-1}]``, shape (B, U).
            sampling_probability: Chance of feeding the model's own previous prediction
                instead of the reference token (Bengio et al. 2015); 0 in evaluation.

        Returns:
            Logits (B, U, V) and attention weights (B, U, S).
        """
        state = self.init_state(memory, memory_lengths)
        sampling = sampling_probability > 0 and self.training
        embedded = self.dropout(self.embed(inputs))  # (B, U, E)
        if not sampling:
            features, weights = self._teacher_forced(embedded, state)
            return SpellerOutput(self.output(features), weights)
        weights, logits = [], []
        for u, emb in enumerate(embedded.unbind(1)):
            if u > 0:  # each input follows the model's own previous prediction with this chance
                sampled = logits[-1].detach().argmax(dim=-1)
                use = torch.rand(sampled.shape, device=sampled.device) < sampling_probability
                emb = torch.where(use[:, None], self.dropout(self.embed(sampled)), emb)
            feature, step_weights, state = self._recur(emb, state)
            logits.append(self.output(feature))
            weights.append(step_weights)
        return SpellerOutput(torch.stack(logits, 1), torch.stack(weights, dim=1))  # (B, U, V), (B, U, S)

    def _teacher_forced(
        self, embedded: torch.Tensor, state: SpellerState
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """:meth:`_recur` over known inputs (B, U, E), scheduled for speed; features and weights.

        The same maths: the embeddings' share of the first cell's gates (and its biases) for
        all steps in one matmul, one matmul per cell per step, and each weight's gradient once
        after the loop (:class:`~speech.models.recurrence.StepWeight`).

        Returns:
            ``[top output; context]`` (B, U, H + D) and attention weights (B, U, S).
        """
        first_step, first_hoisted = fused_lstm_weights(self.cells[0], hoisted=embedded.shape[-1])
        first_gates = F.linear(embedded, first_hoisted, lstm_bias(self.cells[0])).unbind(1)  # U x (B, 4H)
        cells = [StepWeight(first_step)]
        cells += [StepWeight(fused_lstm_weights(cell)[0], lstm_bias(cell)) for cell in self.cells[1:]]
        h, c = list(state.h.unbind(0)), list(state.c.unbind(0))
        context, att_state = state.context, state.attention
        features, weights = [], []
        for gates in first_gates:
            x = context
            for i, cell in enumerate(cells):
                step_gates = cell(torch.cat([x, h[i]], dim=-1))
                h[i], c[i] = lstm_cell(gates + step_gates if i == 0 else step_gates, c[i])
                x = self.dropout(h[i])
            att = self.attention(h[-1], state.memory, state.memory_mask, att_state)
            context, att_state = att.context, att.state
            features.append(torch.cat([x, context], dim=-1))
            weights.append(att.weights)
        return torch.stack(features, dim=1), torch.stack(weights, dim=1)

    # Scorer protocol -------------------------------------------------------------------------
    def score(self, last_tokens: torch.Tensor, state: SpellerState) -> tuple[torch.Tensor, SpellerState]:
        """Next-token log-probabilities (N, V); tokens in ``never_emit`` get -inf."""
        logits, _, state = self.step(last_tokens, state)
        logits = logits.float()
        if self.never_emit:
            logits.index_fill_(1, self.never_emit_ids, float("-inf"))
        return F.log_softmax(logits, dim=-1), state

    def select(self, state: SpellerState, indices: torch.Tensor) -> SpellerState:
        """Keep (reorder or repeat) hypothesis rows ``indices`` (N',); see :meth:`SpellerState.select`."""
        return state.select(indices)
