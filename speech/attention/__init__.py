"""Attention mechanisms shared by the LAS speller, the ST decoder and Tacotron2.

Location-aware attention has a multi-head form (:class:`MultiHeadLocationAwareAttention`)
for the speller.

Every mechanism has ``init_state(memory, memory_mask)`` and
``forward(query, memory, memory_mask, state) -> AttentionOutput(context, weights, state)``,
with ``memory_mask`` True at valid frames.
"""

from speech.attention.additive import (
    AdditiveAttention,
    AttentionOutput,
    AttentionState,
    LocationAwareAttention,
    MonotonicWindow,
    beam_memory_rows,
    masked_softmax,
    memory_rows,
)
from speech.attention.guided import guided_attention_loss, guided_attention_weights
from speech.attention.multihead import MultiHeadLocationAwareAttention, MultiHeadState

__all__ = [
    "AdditiveAttention",
    "AttentionOutput",
    "AttentionState",
    "LocationAwareAttention",
    "MonotonicWindow",
    "MultiHeadLocationAwareAttention",
    "MultiHeadState",
    "beam_memory_rows",
    "guided_attention_loss",
    "guided_attention_weights",
    "masked_softmax",
    "memory_rows",
]
