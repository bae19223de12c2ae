"""Tacotron2: text (characters or phonemes) to mel frames, with a reduction factor and a stop token.

Shen et al. 2018, "Natural TTS synthesis by conditioning WaveNet on mel spectrogram
predictions"; the reduction factor of Wang et al. 2017 (Tacotron); the guided attention
loss of Tachibana et al. 2018. Symbol embedding -> conv + BLSTM encoder (plus an optional
speaker embedding concatenated to every encoder frame) -> :class:`Decoder` -> five-conv
postnet that adds a residual. The model is a plain ``nn.Module``; the loss is
:func:`tacotron2_loss`; Lightning lives in :mod:`speech.tasks.tts`. Masks are True at valid
positions.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

from speech.config import (
    check_choice,
    check_dropout,
    check_finite,
    check_list,
    check_non_negative,
    check_odd,
    check_positive,
    check_range,
    field_error,
)
from speech.models.listener import BLSTM
from speech.models.tacotron2_decoder import Decoder


@dataclass
class Tacotron2Config:
    """Model sizes; the defaults are the paper's (about 28 M parameters).

    Attributes:
        n_symbols: Input vocabulary size (the tokenizer's); set by the task.
        pad_id: Padding symbol id.
        n_mels: Mel bins F.
        reduction_factor: Frames r per decoder step (1-5).
        n_speakers: Size of the speaker embedding table (0: single speaker).
        speaker_dim: Speaker embedding size.
        embedding_dim: Symbol embedding size.
        encoder_convs: Encoder convolution layers.
        encoder_kernel: Their width (odd).
        encoder_dim: Encoder output size (the BLSTM's two directions together; even).
        encoder_dropout: Dropout after each encoder convolution.
        prenet_dims: Prenet layer sizes.
        prenet_dropout: Prenet dropout (kept at inference).
        attention_rnn_dim: Attention LSTM size.
        decoder_rnn_dim: Decoder LSTM size.
        attention_dim: Attention energy size.
        location_filters: Location convolution channels.
        location_kernel: Location convolution width (odd).
        rnn_dropout: Dropout on the LSTM outputs in training.
        postnet_layers: Postnet convolutions.
        postnet_channels: Their channels.
        postnet_kernel: Their width (odd).
        postnet_dropout: Dropout after each postnet convolution.
    """

    n_symbols: int = 0
    pad_id: int = 0
    n_mels: int = 80
    reduction_factor: int = 2
    n_speakers: int = 0
    speaker_dim: int = 64
    embedding_dim: int = 512
    encoder_convs: int = 3
    encoder_kernel: int = 5
    encoder_dim: int = 512
    encoder_dropout: float = 0.5
    prenet_dims: list[int] = field(default_factory=lambda: [256, 256])
    prenet_dropout: float = 0.5
    attention_rnn_dim: int = 1024
    decoder_rnn_dim: int = 1024
    attention_dim: int = 128
    location_filters: int = 32
    location_kernel: int = 31
    rnn_dropout: float = 0.1
    postnet_layers: int = 5
    postnet_channels: int = 512
    postnet_kernel: int = 5
    postnet_dropout: float = 0.5

    def __post_init__(self) -> None:
        check_non_negative(self, "n_symbols", "pad_id", "n_speakers", "encoder_convs")  # n_symbols: set later
        check_positive(self, "n_mels", "speaker_dim", "embedding_dim", "encoder_dim", "attention_rnn_dim")
        check_positive(self, "decoder_rnn_dim", "attention_dim", "location_filters", "postnet_layers")
        check_positive(self, "postnet_channels")
        check_range(self, "reduction_factor", ge=1, le=5)
        if self.encoder_dim % 2:
            problem = f"must be even (two BLSTM directions), got {self.encoder_dim}"
            raise field_error(self, "encoder_dim", problem)
        check_odd(self, "encoder_kernel", "location_kernel", "postnet_kernel")
        check_dropout(self, "encoder_dropout", "prenet_dropout", "rnn_dropout", "postnet_dropout")
        check_list(self, "prenet_dims", min_items=1, ge=1)

    @property
    def memory_dim(self) -> int:
        """Size of a memory frame the decoder attends to (encoder plus speaker embedding)."""
        return self.encoder_dim + (self.speaker_dim if self.n_speakers > 0 else 0)

    def to_dict(self) -> dict:
        """Plain dict (for checkpoints and YAML)."""
        return dataclasses.asdict(self)


@dataclass
class InferenceConfig:
    """Free-running synthesis settings.

    Attributes:
        stop_threshold: Stop when the stop probability exceeds this.
        window_backward: Monotonic attention window: symbols allowed behind the last peak
            (negative: no window).
        window_forward: Symbols allowed ahead of the last peak.
        stop_near_end: Accept a stop only when the attention peak is within this many symbols
            of the text's end (0: anywhere).
        max_frames_per_symbol: Frame limit per input symbol; an item reaching it ends with a warning.
        min_max_frames: The frame limit is at least this.
        seed: Seed of the prenet's inference dropout (item i uses ``seed + i`` of its batch call).
    """

    stop_threshold: float = 0.5
    window_backward: int = 1
    window_forward: int = 3
    stop_near_end: int = 3
    max_frames_per_symbol: float = 12.0
    min_max_frames: int = 100
    seed: int = 0

    def __post_init__(self) -> None:
        check_range(self, "stop_threshold", gt=0, lt=1)
        check_finite(self, "window_backward")  # negative: no window
        check_non_negative(self, "window_forward", "stop_near_end", "seed")
        check_positive(self, "max_frames_per_symbol", "min_max_frames")


class Tacotron2Output(NamedTuple):
    """Teacher-forced outputs.

    Attributes:
        mel: Frames before the postnet, shape (B, T, F).
        mel_postnet: Frames after the postnet, shape (B, T, F).
        stop_logits: One per decoder step, shape (B, N).
        attention: Shape (B, N, S).
        step_lengths: Valid decoder steps per item, shape (B,).
    """

    mel: torch.Tensor
    mel_postnet: torch.Tensor
    stop_logits: torch.Tensor
    attention: torch.Tensor
    step_lengths: torch.Tensor


class Synthesis(NamedTuple):
    """Free-running outputs.

    Attributes:
        mel: Frames after the postnet, shape (B, T, F), zero past each item's end.
        mel_lengths: Shape (B,).
        attention: Shape (B, N, S).
        steps: Decoder steps per item, shape (B,).
        stopped: Whether each item stopped by itself, shape (B,).
    """

    mel: torch.Tensor
    mel_lengths: torch.Tensor
    attention: torch.Tensor
    steps: torch.Tensor
    stopped: torch.Tensor


def _mask(lengths: torch.Tensor, size: int) -> torch.Tensor:
    return torch.arange(size, device=lengths.device)[None, :] < lengths[:, None]  # (B, size)


class _ConvStack(nn.Module):
    """Conv1d + BatchNorm + activation + dropout layers over (B, T, C) with padding zeroed."""

    def __init__(self, dims: list[int], kernel: int, dropout: float, last_linear: bool) -> None:
        super().__init__()
        self.convs = nn.ModuleList(
            nn.Sequential(nn.Conv1d(a, b, kernel, padding=kernel // 2), nn.BatchNorm1d(b))
            for a, b in zip(dims[:-1], dims[1:], strict=True)
        )
        self.dropout = dropout
        self.last_linear = last_linear

    def forward(self, x: torch.Tensor, mask: torch.Tensor, activation) -> torch.Tensor:
        """(B, T, C_in) -> (B, T, C_out); zero at padded frames, so padding never leaks in."""
        keep = mask.unsqueeze(1).to(x.dtype)  # (B, 1, T)
        x = x.transpose(1, 2) * keep  # (B, T, C) -> (B, C, T)
        for i, conv in enumerate(self.convs):
            x = conv(x)
            if not (self.last_linear and i == len(self.convs) - 1):
                x = activation(x)
            x = F.dropout(x, self.dropout, self.training) * keep
        return x.transpose(1, 2)  # (B, C, T) -> (B, T, C)


class Tacotron2(nn.Module):
    """The synthesizer.

    Args:
        config: See :class:`Tacotron2Config`.
    """

    def __init__(self, config: Tacotron2Config) -> None:
        super().__init__()
        if config.n_symbols < 2:
            raise ValueError(f"n_symbols must be at least 2, got {config.n_symbols}")
        self.config = config
        c = config
        self.embedding = nn.Embedding(c.n_symbols, c.embedding_dim, padding_idx=c.pad_id)
        self.encoder_convs = _ConvStack(
            [c.embedding_dim] * (c.encoder_convs + 1), c.encoder_kernel, c.encoder_dropout, last_linear=False
        )
        self.encoder_lstm = BLSTM(c.embedding_dim, c.encoder_dim // 2)
        self.speakers = nn.Embedding(c.n_speakers, c.speaker_dim) if c.n_speakers > 0 else None
        self.decoder = Decoder(
            c.n_mels,
            c.memory_dim,
            c.reduction_factor,
            list(c.prenet_dims),
            c.prenet_dropout,
            c.attention_rnn_dim,
            c.decoder_rnn_dim,
            c.attention_dim,
            c.location_filters,
            c.location_kernel,
            c.rnn_dropout,
        )
        postnet_dims = [c.n_mels] + [c.postnet_channels] * (c.postnet_layers - 1) + [c.n_mels]
        self.postnet = _ConvStack(postnet_dims, c.postnet_kernel, c.postnet_dropout, last_linear=True)

    def encode(
        self, tokens: torch.Tensor, token_lengths: torch.Tensor, speakers: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Symbols (B, S) -> memory (B, S, D) and its mask (B, S)."""
        mask = _mask(token_lengths, tokens.shape[1])
        x = self.encoder_convs(self.embedding(tokens), mask, F.relu)
        memory = self.encoder_lstm(x, token_lengths)  # (B, S, encoder_dim)
        if self.speakers is not None:
            if speakers is None:
                raise ValueError("this is a multi-speaker model: give a speaker id per item")
            spk = self.speakers(speakers)[:, None, :].expand(-1, memory.shape[1], -1)  # (B, S, speaker_dim)
            memory = torch.cat([memory, spk.to(memory.dtype)], dim=-1)
        return memory * mask.unsqueeze(-1), mask

    def postnet_residual(self, mel: torch.Tensor, mel_lengths: torch.Tensor) -> torch.Tensor:
        """Frames after the postnet: ``mel + postnet(mel)``, zero past each length."""
        mask = _mask(mel_lengths, mel.shape[1])
        return (mel + self.postnet(mel, mask, torch.tanh)) * mask.unsqueeze(-1)

    def forward(
        self,
        tokens: torch.Tensor,
        token_lengths: torch.Tensor,
        mels: torch.Tensor,
        mel_lengths: torch.Tensor,
        speakers: torch.Tensor | None = None,
    ) -> Tacotron2Output:
        """Teacher-forced pass.

        Args:
            tokens: Symbol ids, shape (B, S).
            token_lengths: Shape (B,).
            mels: Target (normalised) mel frames, shape (B, T, F).
            mel_lengths: Shape (B,).
            speakers: Speaker ids (B,) for a multi-speaker model.

        Returns:
            Outputs over T rounded up to a multiple of r frames.
        """
        r = self.config.reduction_factor
        memory, mask = self.encode(tokens, token_lengths, speakers)
        T = mels.shape[1]
        mels = F.pad(mels, (0, 0, 0, math.ceil(T / r) * r - T))  # (B, T, F) -> (B, T_r, F)
        out = self.decoder(memory, mask, mels)
        step_lengths = torch.div(mel_lengths + r - 1, r, rounding_mode="floor")
        mel_postnet = self.postnet_residual(out.mel, step_lengths * r)
        return Tacotron2Output(out.mel, mel_postnet, out.stop_logits, out.attention, step_lengths)

    @torch.no_grad()
    def synthesize(
        self,
        tokens: torch.Tensor,
        token_lengths: torch.Tensor,
        speakers: torch.Tensor | None = None,
        config: InferenceConfig | None = None,
    ) -> Synthesis:
        """Free-running synthesis of a padded batch; each item stops on its own.

        Items that reach their frame limit (``max_frames_per_symbol`` x symbols) end there and
        have ``stopped`` False; the caller warns.
        """
        config = config or InferenceConfig()
        r = self.config.reduction_factor
        memory, mask = self.encode(tokens, token_lengths, speakers)
        max_frames = (
            (token_lengths.float() * config.max_frames_per_symbol).ceil().clamp(min=config.min_max_frames)
        )
        max_steps = torch.div(max_frames.long() + r - 1, r, rounding_mode="floor").cpu()
        generators = [torch.Generator().manual_seed(config.seed + i) for i in range(tokens.shape[0])]
        window = (config.window_backward, config.window_forward) if config.window_backward >= 0 else None
        out, steps, stopped = self.decoder.infer(
            memory, mask, max_steps, generators, config.stop_threshold, window, config.stop_near_end
        )
        mel_lengths = steps * r
        mel = self.postnet_residual(out.mel, mel_lengths)
        return Synthesis(mel, mel_lengths, out.attention, steps, stopped)


@dataclass
class Tacotron2LossConfig:
    """Loss weights.

    Attributes:
        mel_loss: ``mse``, ``l1`` or ``l1+mse`` on frames before and after the postnet.
        stop_weight: Weight of the stop-token loss.
        stop_pos_weight: Weight of the positive (stop) class in the stop BCE.
        guided_weight: Initial weight of the guided attention loss (0: off). The loss is a mean
            over (step, symbol) cells, so it is small (about 1 / symbols for an attention off the
            diagonal): a weight of 10 learned the mini corpus's alignment by step ~300, where a
            weight of 0 had not at step 700.
        guided_sigma: Width of its diagonal band.
        guided_decay: Per-step multiplicative decay of its weight.
        guided_min_weight: Its weight never decays below this.
    """

    mel_loss: str = "l1+mse"
    stop_weight: float = 1.0
    stop_pos_weight: float = 5.0
    guided_weight: float = 10.0
    guided_sigma: float = 0.4
    guided_decay: float = 1.0
    guided_min_weight: float = 0.0

    def __post_init__(self) -> None:
        check_choice(self, "mel_loss", ("mse", "l1", "l1+mse"))
        check_non_negative(self, "stop_weight", "guided_weight", "guided_min_weight")
        check_positive(self, "stop_pos_weight", "guided_sigma")
        check_range(self, "guided_decay", gt=0, le=1)

    def guided_weight_at(self, step: int) -> float:
        """Guided-attention weight at a training step."""
        if self.guided_weight <= 0:
            return 0.0
        return max(self.guided_weight * self.guided_decay**step, self.guided_min_weight)


class Tacotron2Loss(NamedTuple):
    """Total loss and its parts (scalars)."""

    loss: torch.Tensor
    mel_loss: torch.Tensor
    postnet_loss: torch.Tensor
    stop_loss: torch.Tensor
    guided_loss: torch.Tensor


def tacotron2_loss(
    out: Tacotron2Output,
    mels: torch.Tensor,
    mel_lengths: torch.Tensor,
    token_lengths: torch.Tensor,
    config: Tacotron2LossConfig,
    step: int = 0,
) -> Tacotron2Loss:
    """Masked mel losses, the weighted stop BCE and the guided attention loss.

    Args:
        out: The teacher-forced outputs.
        mels: Target frames (B, T, F).
        mel_lengths: Shape (B,).
        token_lengths: Shape (B,).
        config: Loss weights.
        step: Training step (for the guided weight's decay).
    """
    from speech.attention import guided_attention_loss

    T = mels.shape[1]
    mask = _mask(mel_lengths, T).unsqueeze(-1)  # (B, T, 1)
    cells = mask.sum() * mels.shape[2]

    def mel_distance(pred: torch.Tensor) -> torch.Tensor:
        diff = (pred[:, :T].float() - mels.float()) * mask
        loss = torch.zeros((), device=mels.device)
        if "l1" in config.mel_loss:
            loss = loss + diff.abs().sum() / cells
        if "mse" in config.mel_loss:
            loss = loss + diff.pow(2).sum() / cells
        return loss

    N = out.stop_logits.shape[1]
    step_mask = _mask(out.step_lengths, N)
    stop_target = (torch.arange(N, device=mels.device)[None, :] >= (out.step_lengths - 1)[:, None]).float()
    stop_loss = F.binary_cross_entropy_with_logits(
        out.stop_logits.float()[step_mask],
        stop_target[step_mask],
        pos_weight=torch.tensor(config.stop_pos_weight, device=mels.device),
    )
    weight = config.guided_weight_at(step)
    guided = torch.zeros((), device=mels.device)
    if weight > 0:
        guided = guided_attention_loss(out.attention, token_lengths, out.step_lengths, config.guided_sigma)
    mel_loss, postnet_loss = mel_distance(out.mel), mel_distance(out.mel_postnet)
    total = mel_loss + postnet_loss + config.stop_weight * stop_loss + weight * guided
    return Tacotron2Loss(total, mel_loss, postnet_loss, stop_loss, guided)
