"""Tiny deterministic scorers for search tests."""

from __future__ import annotations

from typing import NamedTuple

import torch

BLANK, SOS, EOS = 0, 1, 2


class ToyState(NamedTuple):
    memory: torch.Tensor  # (N, D) pooled memory
    hidden: torch.Tensor  # (N, H)

    def select(self, rows):
        return ToyState(self.memory.index_select(0, rows), self.hidden.index_select(0, rows))


class ToyDecoder:
    """A recurrent full-vocabulary scorer whose output depends on memory and history."""

    def __init__(self, vocab_size=6, dim=8, seed=0, sharpness=3.0):
        g = torch.Generator().manual_seed(seed)
        self.vocab_size = vocab_size
        self.embed = torch.randn(vocab_size, dim, generator=g)
        self.recur = torch.randn(dim, dim, generator=g) / dim**0.5
        self.out = torch.randn(dim, vocab_size, generator=g) * sharpness / dim**0.5

    def init_state(self, memory, memory_lengths):
        mask = torch.arange(memory.shape[1])[None, :] < memory_lengths[:, None]
        pooled = (memory * mask[..., None]).sum(1) / memory_lengths[:, None]
        return ToyState(pooled, torch.zeros(memory.shape[0], self.embed.shape[1]))

    def score(self, last_tokens, state):
        hidden = torch.tanh(self.embed[last_tokens] + state.hidden @ self.recur + state.memory)
        logits = hidden @ self.out
        logits[:, [BLANK, SOS]] = float("-inf")  # like a real decoder: never emits blank or sos
        return torch.log_softmax(logits, dim=-1), ToyState(state.memory, hidden)

    def select(self, state, indices):
        return state.select(indices)


def toy_ctc(vocab_size=6, dim=8, seed=1):
    g = torch.Generator().manual_seed(seed)
    proj = torch.randn(dim, vocab_size, generator=g) * 2.0

    def ctc_log_probs(memory, lengths):
        return torch.log_softmax(memory @ proj, dim=-1), lengths

    return ctc_log_probs


def toy_memory(lengths, dim=8, seed=0):
    g = torch.Generator().manual_seed(seed)
    memory = torch.randn(len(lengths), max(lengths), dim, generator=g)
    mask = torch.arange(max(lengths))[None, :] < torch.tensor(lengths)[:, None]
    return memory * mask[..., None], torch.tensor(lengths)
