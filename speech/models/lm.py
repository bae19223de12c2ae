"""An LSTM language model over tokenizer ids, usable as a Scorer for shallow fusion.

Shallow fusion (Gulcehre et al. 2015; Kannan et al. 2018) adds ``lm_weight x log P_LM`` to the
recognizer's scores during beam search. The LM reads ``[bos, y_1 .. y_U]`` and predicts
``[y_1 .. y_U, eos]``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

from speech.config import check_dropout, check_non_negative, check_positive
from speech.models.listener import run_lstm


@dataclass
class LMConfig:
    """Language model sizes.

    Attributes:
        vocab_size: Vocabulary V; set from the tokenizer.
        embed_dim: Token embedding size.
        hidden_size: LSTM size.
        n_layers: LSTM layers.
        dropout: Dropout between layers and before the output.
        pad_id: Padding id (ignored by the loss, never predicted).
        bos_id: Start token.
        eos_id: End token.
    """

    vocab_size: int = 0
    embed_dim: int = 128
    hidden_size: int = 256
    n_layers: int = 1
    dropout: float = 0.1
    pad_id: int = 0
    bos_id: int = 1
    eos_id: int = 2

    def __post_init__(self) -> None:
        check_non_negative(self, "vocab_size", "pad_id", "bos_id", "eos_id")  # vocab_size: 0 until set
        check_positive(self, "embed_dim", "hidden_size", "n_layers")
        check_dropout(self, "dropout")


class LMState(NamedTuple):
    """LSTM state with hypotheses as rows: h and c of shape (L, N, H)."""

    h: torch.Tensor
    c: torch.Tensor


class RNNLM(nn.Module):
    """LSTM language model.

    Args:
        config: See :class:`LMConfig`.
    """

    def __init__(self, config: LMConfig) -> None:
        super().__init__()
        if config.vocab_size < 5:
            raise ValueError(f"vocab_size must be at least 5, got {config.vocab_size}")
        self.config = config
        self.vocab_size = config.vocab_size
        self.embed = nn.Embedding(config.vocab_size, config.embed_dim)
        self.lstm = nn.LSTM(
            config.embed_dim,
            config.hidden_size,
            config.n_layers,
            batch_first=True,
            dropout=config.dropout if config.n_layers > 1 else 0.0,
        )
        self.dropout = nn.Dropout(config.dropout)
        self.output = nn.Linear(config.hidden_size, config.vocab_size)

    def forward(self, tokens: torch.Tensor, token_lengths: torch.Tensor) -> torch.Tensor:
        """Mean cross-entropy per predicted token of ``tokens`` (B, U) (no bos/eos; pad-padded)."""
        B = tokens.shape[0]
        inputs = torch.cat([tokens.new_full((B, 1), self.config.bos_id), tokens], dim=1)  # (B, U + 1)
        targets = torch.cat([tokens, tokens.new_full((B, 1), self.config.pad_id)], dim=1)
        targets[torch.arange(B), token_lengths] = self.config.eos_id
        hidden, _ = run_lstm(self.lstm, self.dropout(self.embed(inputs)))
        logits = self.output(self.dropout(hidden)).float()  # (B, U + 1, V)
        return F.cross_entropy(logits.transpose(1, 2), targets, ignore_index=self.config.pad_id)

    # Scorer protocol -------------------------------------------------------------------------
    def init_state(self, memory: torch.Tensor, memory_lengths: torch.Tensor) -> LMState:
        """Zero state for every utterance (the LM ignores the acoustic memory)."""
        zeros = memory.new_zeros(self.config.n_layers, memory.shape[0], self.config.hidden_size)
        return LMState(zeros, zeros.clone())

    def score(self, last_tokens: torch.Tensor, state: LMState) -> tuple[torch.Tensor, LMState]:
        """Next-token log-probabilities (N, V) after reading ``last_tokens`` (N,)."""
        emb = self.embed(last_tokens)[:, None, :]  # (N, E) -> (N, 1, E)
        out, (h, c) = run_lstm(self.lstm, emb, (state.h, state.c))
        logits = self.output(out[:, 0]).float()
        logits[:, [self.config.pad_id, self.config.bos_id]] = float("-inf")
        return F.log_softmax(logits, dim=-1), LMState(h, c)

    def select(self, state: LMState, indices: torch.Tensor) -> LMState:
        """Keep (or repeat) hypothesis rows."""
        return LMState(state.h.index_select(1, indices), state.c.index_select(1, indices))
