"""Attention mechanisms shared by the LAS speller, the ST decoder and Tacotron2.

Location-aware attention has a multi-head form (:class:`MultiHeadLocationAwareAttention`)
for the speller.

Every mechanism has ``init_state(memory, memory_mask)`` and
``forward(query, memory, memory_mask, state) -> AttentionOutput(context, weights, state)``,
with ``memory_mask`` True at valid frames. The forwards are the reference maths; CPU
inference kernels of the same maths are chosen explicitly with
:func:`speech.kernels.use_inference_kernels`.
"""

from speech.attention.additive import AdditiveAttention, LocationAwareAttention
from speech.attention.guided import guided_attention_loss, guided_attention_weights
from speech.attention.multihead import MultiHeadLocationAwareAttention, MultiHeadState
from speech.attention.state import AttentionOutput, AttentionState, masked_softmax, selected_memory_rows
from speech.attention.window import MonotonicWindow

__all__ = [
    "AdditiveAttention",
    "AttentionOutput",
    "AttentionState",
    "LocationAwareAttention",
    "MonotonicWindow",
    "MultiHeadLocationAwareAttention",
    "MultiHeadState",
    "guided_attention_loss",
    "guided_attention_weights",
    "masked_softmax",
    "selected_memory_rows",
]
