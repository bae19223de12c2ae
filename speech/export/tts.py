"""Export wrappers of Tacotron2: the encoder, one decoder step and the postnet.

A runtime synthesizes as :meth:`Decoder.infer <speech.models.tacotron2_decoder.Decoder.infer>`
does: encode once, start the state as :func:`initial_state` describes, feed the last frame of
each step's group of ``r`` frames back until the stop logit exceeds ``logit(stop_threshold)``,
then run the postnet over all frames. Two things stay outside the graphs so that a runtime
controls them: the prenet's dropout, which Tacotron2 keeps at inference, comes in as one mask
per prenet layer (Bernoulli(1 - p) / (1 - p), or ones), and the attention mask comes in per
step, so the runtime applies the monotonic window (``valid & |s - previous peak|`` within the
window) before each call.
"""

from __future__ import annotations

import torch
from torch import nn

from speech.attention import AttentionState
from speech.export.graph import Graph
from speech.models.tacotron2 import Tacotron2
from speech.models.tacotron2_decoder import DecoderState


class TTSEncoder(nn.Module):
    """Symbols (B, S), lengths (B,) [, speakers (B,)] -> ``memory`` (B, S, D), ``keys`` (B, S, A)."""

    def __init__(self, model: Tacotron2) -> None:
        super().__init__()
        self.model = model

    def forward(self, tokens: torch.Tensor, token_lengths: torch.Tensor, *speakers: torch.Tensor):
        """See the class docstring."""
        memory, _ = self.model.encode(tokens, token_lengths, speakers[0] if speakers else None)
        return memory, self.model.decoder.attention.memory_proj(memory)


class TTSDecoderStep(nn.Module):
    """One decoder step on flat tensors.

    Inputs: ``frame`` (B, F) the previous step's last frame (zeros first), one
    ``prenet_mask_i`` (B, P_i) per prenet layer, ``attention_mask`` (B, S) (True where the
    step may attend), ``att_h``, ``att_c`` (B, H_att), ``dec_h``, ``dec_c`` (B, H_dec),
    ``context`` (B, D), ``att_weights``, ``att_cumulative`` (B, S), ``memory`` (B, S, D),
    ``keys`` (B, S, A).

    Outputs: ``frames`` (B, r, F), ``stop_logits`` (B,), and the new state in input order.
    """

    def __init__(self, model: Tacotron2) -> None:
        super().__init__()
        self.decoder = model.decoder
        self.n_masks = len(model.decoder.prenet.layers)

    def forward(self, frame: torch.Tensor, *inputs: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """See the class docstring."""
        masks, rest = list(inputs[: self.n_masks]), inputs[self.n_masks :]
        attention_mask, att_h, att_c, dec_h, dec_c, context, weights, cumulative, memory, keys = rest
        state = DecoderState(
            (att_h, att_c), (dec_h, dec_c), context, AttentionState(keys, weights, cumulative)
        )
        prenet_out = self.decoder.prenet(frame, masks)
        out, _, state = self.decoder.step(prenet_out, memory, attention_mask, state)
        frames, stop_logit = self.decoder.project(out.unsqueeze(1))  # (B, r, F), (B, 1)
        (h, c), (h2, c2) = state.attention_hc, state.decoder_hc
        return (
            frames,
            stop_logit[:, 0],
            h,
            c,
            h2,
            c2,
            state.context,
            state.attention.weights,
            state.attention.cumulative,
        )


class TTSPostnet(nn.Module):
    """Frames (B, T, F) and lengths (B,) -> ``mel_postnet`` (B, T, F): frames plus the postnet's residual."""

    def __init__(self, model: Tacotron2) -> None:
        super().__init__()
        self.model = model

    def forward(self, mel: torch.Tensor, mel_lengths: torch.Tensor) -> torch.Tensor:
        """See the class docstring."""
        return self.model.postnet_residual(mel, mel_lengths)


def initial_state(model: Tacotron2, memory: torch.Tensor) -> tuple[torch.Tensor, ...]:
    """``att_h, att_c, dec_h, dec_c, context, att_weights, att_cumulative`` before the first step."""
    d = model.decoder
    B, S, D = memory.shape
    h_att, h_dec = d.attention_rnn.hidden_size, d.decoder_rnn.hidden_size
    weights = memory.new_zeros(B, S)
    weights[:, 0] = 1.0
    zeros = memory.new_zeros
    return (
        zeros(B, h_att),
        zeros(B, h_att),
        zeros(B, h_dec),
        zeros(B, h_dec),
        zeros(B, D),
        weights,
        weights.clone(),
    )


STATE_NAMES = ["att_h", "att_c", "dec_h", "dec_c", "context", "att_weights", "att_cumulative"]


def tts_graphs(model: Tacotron2) -> list[Graph]:
    """The encoder, the decoder step and the postnet of ``model`` (in eval mode) with example inputs."""
    model = model.eval()
    c = model.config
    tokens = torch.randint(1, c.n_symbols, (2, 11), generator=torch.Generator().manual_seed(0))
    token_lengths = torch.tensor([11, 7])
    enc_inputs, enc_names = (tokens, token_lengths), ["tokens", "token_lengths"]
    if c.n_speakers > 0:
        enc_inputs, enc_names = (*enc_inputs, torch.zeros(2, dtype=torch.long)), [*enc_names, "speakers"]
    encoder = TTSEncoder(model).eval()
    with torch.no_grad():
        memory, keys = encoder(*enc_inputs)
    B, S = tokens.shape
    masks = [torch.ones(B, layer.out_features) for layer in model.decoder.prenet.layers]
    mask_names = [f"prenet_mask_{i}" for i in range(len(masks))]
    attention_mask = torch.arange(S)[None, :] < token_lengths[:, None]
    step_inputs = (
        torch.zeros(B, c.n_mels),
        *masks,
        attention_mask,
        *initial_state(model, memory),
        memory,
        keys,
    )
    batch = {0: "batch"}
    symbols = {0: "batch", 1: "symbols"}
    step_axes = {n: batch for n in ["frame", *mask_names, *STATE_NAMES[:5], "frames", "stop_logits"]}
    step_axes |= {n: symbols for n in ["attention_mask", "att_weights", "att_cumulative", "memory", "keys"]}
    step_axes |= {f"new_{n}": step_axes[n] for n in STATE_NAMES}
    frames = {0: "batch", 1: "frames"}
    postnet_inputs = (
        torch.randn(2, 12, c.n_mels, generator=torch.Generator().manual_seed(1)),
        torch.tensor([12, 6]),
    )
    return [
        Graph(
            "encoder",
            encoder,
            enc_inputs,
            enc_names,
            ["memory", "keys"],
            {n: symbols for n in ["tokens", "memory", "keys"]} | {"token_lengths": batch, "speakers": batch},
        ),
        Graph(
            "decoder_step",
            TTSDecoderStep(model).eval(),
            step_inputs,
            ["frame", *mask_names, "attention_mask", *STATE_NAMES, "memory", "keys"],
            ["frames", "stop_logits", *(f"new_{n}" for n in STATE_NAMES)],
            step_axes,
        ),
        Graph(
            "postnet",
            TTSPostnet(model).eval(),
            postnet_inputs,
            ["mel", "mel_lengths"],
            ["mel_postnet"],
            {"mel": frames, "mel_lengths": batch, "mel_postnet": frames},
        ),
    ]
