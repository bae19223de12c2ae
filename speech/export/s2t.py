"""Export wrappers of the speech-to-text family: the encoder and one decoder step.

A runtime drives any search with them: run :class:`S2TEncoder` once per batch, start the state
as :func:`initial_state` describes, then call :class:`S2TDecoderStep` once per output token,
reordering the state's hypothesis rows itself (beam search) or not (greedy). Every state
tensor is an input and an output, so the graphs hold no state. Attention heads are stacked
on a leading axis: one head gives ``Hd = 1``. Memory masks are rebuilt inside the graphs from
``memory_lengths`` (True at valid frames).
"""

from __future__ import annotations

import torch
from torch import nn

from speech.attention import AttentionState, MultiHeadState
from speech.export.graph import Graph
from speech.models.s2t import SpeechToText
from speech.models.speller import SpellerState


def _heads(model: SpeechToText) -> list[nn.Module]:
    """The speller's location-aware attention heads (one, or those of a multi-head attention)."""
    attention = model.speller.attention
    return list(attention.heads) if hasattr(attention, "heads") else [attention]


def _mask(lengths: torch.Tensor, size: int) -> torch.Tensor:
    return torch.arange(size, device=lengths.device)[None, :] < lengths[:, None]  # (B, size)


class S2TEncoder(nn.Module):
    """Features (B, T, F) and lengths (B,) -> memory, its lengths, attention keys and CTC log-probs.

    Outputs: ``memory`` (B, S, D), ``memory_lengths`` (B,), ``keys`` (Hd, B, S, A): each head's
    memory projection, computed once per utterance as ``init_state`` does, and, with a CTC
    head, ``ctc_log_probs`` (B, S', V_ctc) and ``ctc_lengths`` (B,).
    """

    def __init__(self, model: SpeechToText) -> None:
        super().__init__()
        self.listener = model.listener
        self.heads = nn.ModuleList(_heads(model))
        self.ctc = model.ctc

    def forward(self, features: torch.Tensor, feature_lengths: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """See the class docstring."""
        enc = self.listener(features, feature_lengths)
        keys = torch.stack([head.memory_proj(enc.memory) for head in self.heads])  # (Hd, B, S, A)
        outputs = (enc.memory, enc.memory_lengths, keys)
        if self.ctc is not None:
            outputs = (*outputs, self.ctc(enc.ctc_input), enc.ctc_lengths)
        return outputs


class S2TDecoderStep(nn.Module):
    """One speller step: :meth:`Speller.score <speech.models.speller.Speller.score>` on flat tensors.

    Inputs: ``tokens`` (N,) previous tokens, ``h`` and ``c`` (L, N, H) LSTM cells, ``context``
    (N, D), ``att_weights`` and ``att_cumulative`` (Hd, N, S) previous and cumulative attention
    weights, ``memory`` (B, S, D), ``memory_lengths`` (B,), ``keys`` (Hd, B, S, A); N = B x W
    hypotheses, W consecutive rows per memory row.

    Outputs: ``log_probs`` (N, V) (pad and bos at -inf) and the new ``h``, ``c``, ``context``,
    ``att_weights``, ``att_cumulative``.
    """

    def __init__(self, model: SpeechToText) -> None:
        super().__init__()
        self.speller = model.speller
        self.multi_head = model.speller.config.attention_heads > 1

    def forward(
        self,
        tokens: torch.Tensor,
        h: torch.Tensor,
        c: torch.Tensor,
        context: torch.Tensor,
        att_weights: torch.Tensor,
        att_cumulative: torch.Tensor,
        memory: torch.Tensor,
        memory_lengths: torch.Tensor,
        keys: torch.Tensor,
    ) -> tuple[torch.Tensor, ...]:
        """See the class docstring."""
        heads = tuple(
            AttentionState(keys[i], att_weights[i], att_cumulative[i]) for i in range(keys.shape[0])
        )
        attention = MultiHeadState(heads) if self.multi_head else heads[0]
        mask = _mask(memory_lengths, memory.shape[1])
        state = SpellerState(memory, mask, h, c, context, attention)
        log_probs, state = self.speller.score(tokens, state)
        new = state.attention.heads if self.multi_head else (state.attention,)
        weights = torch.stack([s.weights for s in new])  # (Hd, N, S)
        cumulative = torch.stack([s.cumulative for s in new])
        return log_probs, state.h, state.c, state.context, weights, cumulative


def initial_state(model: SpeechToText, memory: torch.Tensor) -> tuple[torch.Tensor, ...]:
    """The state before the first step (``h``, ``c``, ``context``, ``att_weights``, ``att_cumulative``).

    Zero cells and context, and every head's weights (and cumulative weights) on the first
    memory frame, as :meth:`Speller.init_state <speech.models.speller.Speller.init_state>`.
    """
    c = model.speller.config
    B, S, D = memory.shape
    zeros = memory.new_zeros(c.n_layers, B, c.hidden_size)
    weights = memory.new_zeros(len(_heads(model)), B, S)
    weights[:, :, 0] = 1.0
    return zeros, zeros.clone(), memory.new_zeros(B, D), weights, weights.clone()


def s2t_graphs(model: SpeechToText) -> list[Graph]:
    """The encoder and the decoder step of ``model`` (in eval mode) with example inputs."""
    model = model.eval()
    n_mels = model.config.listener.input_dim
    g = torch.Generator().manual_seed(0)
    features = torch.randn(2, 37, n_mels, generator=g)
    feature_lengths = torch.tensor([37, 29])
    encoder = S2TEncoder(model).eval()
    enc_names = ["memory", "memory_lengths", "keys"]
    enc_axes = {
        "features": {0: "batch", 1: "frames"},
        "feature_lengths": {0: "batch"},
        "memory": {0: "batch", 1: "memory_frames"},
        "memory_lengths": {0: "batch"},
        "keys": {1: "batch", 2: "memory_frames"},
    }
    if model.ctc is not None:
        enc_names += ["ctc_log_probs", "ctc_lengths"]
        enc_axes |= {"ctc_log_probs": {0: "batch", 1: "ctc_frames"}, "ctc_lengths": {0: "batch"}}
    with torch.no_grad():
        memory, memory_lengths, keys = encoder(features, feature_lengths)[:3]
    tokens = torch.tensor([model.config.bos_id, model.config.bos_id])
    step_inputs = (tokens, *initial_state(model, memory), memory, memory_lengths, keys)
    state_names = ["h", "c", "context", "att_weights", "att_cumulative"]
    rows = {"tokens": {0: "hyps"}, "h": {1: "hyps"}, "c": {1: "hyps"}, "context": {0: "hyps"}}
    rows |= {
        "att_weights": {1: "hyps", 2: "memory_frames"},
        "att_cumulative": {1: "hyps", 2: "memory_frames"},
    }
    step_axes = {
        **rows,
        **{f"new_{k}": v for k, v in rows.items() if k != "tokens"},
        "log_probs": {0: "hyps"},
        "memory": {0: "batch", 1: "memory_frames"},
        "memory_lengths": {0: "batch"},
        "keys": {1: "batch", 2: "memory_frames"},
    }
    return [
        Graph(
            "encoder",
            encoder,
            (features, feature_lengths),
            ["features", "feature_lengths"],
            enc_names,
            enc_axes,
        ),
        Graph(
            "decoder_step",
            S2TDecoderStep(model).eval(),
            step_inputs,
            ["tokens", *state_names, "memory", "memory_lengths", "keys"],
            ["log_probs", *(f"new_{k}" for k in state_names)],
            step_axes,
        ),
    ]
