"""Listen, Attend and Spell with a joint CTC head.

Chan et al. 2016, "Listen, attend and spell"; joint CTC-attention training after Kim et al.
2017, "Joint CTC-attention based end-to-end speech recognition using multi-task learning".
The CTC head reads the listener layer chosen by ``ListenerConfig.ctc_layer``; its blank is
the tokenizer's pad id. The model is a plain ``nn.Module``: features in, losses or
hypotheses out; Lightning lives in :mod:`speech.tasks`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, NamedTuple, Self

import torch
import torch.nn.functional as F
from torch import nn

from speech.config import check_non_negative, check_range, check_section
from speech.decoding import BeamSearch, CTCPrefixScorer, Hypothesis, SearchConfig, greedy_search
from speech.models.listener import Listener, ListenerConfig, ListenerOutput
from speech.models.speller import Speller, SpellerConfig

if TYPE_CHECKING:
    from speech.text import Tokenizer


@dataclass
class EncoderDecoderConfig:
    """What the LAS recognizer and the speech translator share: a listener, a speller, a CTC head.

    Attributes:
        vocab_size: Output tokenizer vocabulary size V (set by the task).
        listener: Encoder sizes.
        speller: Decoder sizes (``vocab_size`` and ``memory_dim`` are filled in by the model).
        pad_id: Output padding id.
        bos_id: Start token.
        eos_id: End token.
        ctc_weight: Weight λ of the CTC loss: ``λ CTC + (1 - λ) attention``, in [0, 1); 0 drops the head.
        label_smoothing: Label smoothing of the attention cross-entropy.
    """

    vocab_size: int = 0
    listener: ListenerConfig = field(default_factory=ListenerConfig)
    speller: SpellerConfig = field(default_factory=SpellerConfig)
    pad_id: int = 0
    bos_id: int = 1
    eos_id: int = 2
    ctc_weight: float = 0.3
    label_smoothing: float = 0.1

    def __post_init__(self) -> None:
        check_section(self, "listener", ListenerConfig)  # a checkpoint's mapping becomes a config
        check_section(self, "speller", SpellerConfig)
        check_non_negative(self, "vocab_size", "pad_id", "bos_id", "eos_id")  # vocab_size: 0 until set
        check_range(self, "ctc_weight", ge=0, lt=1)  # 1 would leave the decoder untrained
        check_range(self, "label_smoothing", ge=0, lt=1)

    def to_dict(self) -> dict:
        """Plain dict (for checkpoints and YAML)."""
        return dataclasses.asdict(self)

    def for_tokenizer(self, tokenizer: Tokenizer, input_dim: int, **fields) -> Self:
        """This config sized for an output tokenizer and ``input_dim`` features, with ``fields`` replaced."""
        return dataclasses.replace(
            self,
            vocab_size=tokenizer.vocab_size,
            pad_id=tokenizer.pad_id,
            bos_id=tokenizer.bos_id,
            eos_id=tokenizer.eos_id,
            listener=dataclasses.replace(self.listener, input_dim=input_dim),
            **fields,
        )


@dataclass
class LASConfig(EncoderDecoderConfig):
    """Model and loss settings of the recognizer (see :class:`EncoderDecoderConfig`).

    The CTC head covers the output vocabulary; its blank is ``pad_id``.
    """


class LASLoss(NamedTuple):
    """Total loss and its parts; attention weights (B, U, S) for plots."""

    loss: torch.Tensor
    attention_loss: torch.Tensor
    ctc_loss: torch.Tensor
    attention: torch.Tensor


class CTCHead(nn.Module):
    """Linear projection of listener frames to CTC log-posteriors over the vocabulary."""

    def __init__(self, input_dim: int, vocab_size: int) -> None:
        super().__init__()
        self.proj = nn.Linear(input_dim, vocab_size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, T, D) -> log-posteriors (B, T, V), in fp32."""
        return F.log_softmax(self.proj(x).float(), dim=-1)

    def loss(
        self, enc: ListenerOutput, labels: torch.Tensor, label_lengths: torch.Tensor, blank: int
    ) -> torch.Tensor:
        """CTC loss of ``labels`` (B, U) on the listener's CTC frames: summed over tokens, mean over B."""
        log_probs = self(enc.ctc_input)
        loss = F.ctc_loss(
            log_probs.transpose(0, 1),  # (B, T, V) -> (T, B, V)
            labels,
            enc.ctc_lengths,
            label_lengths,
            blank=blank,
            reduction="sum",
            zero_infinity=True,
        )
        return loss / labels.shape[0]


def attention_loss(
    speller: Speller,
    enc: ListenerOutput,
    targets: torch.Tensor,
    target_lengths: torch.Tensor,
    config: EncoderDecoderConfig,
    sampling_probability: float = 0.0,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Label-smoothed cross-entropy of the speller fed ``[bos, y]`` against ``[y, eos]``.

    Args:
        speller: The decoder.
        enc: Listener output.
        targets: Token ids without bos/eos, padded with ``config.pad_id``, shape (B, U).
        target_lengths: Shape (B,).
        config: Token ids and label smoothing.
        sampling_probability: Scheduled-sampling probability.

    Returns:
        The loss and the attention weights (B, U + 1, S).
    """
    B = targets.shape[0]
    bos = targets.new_full((B, 1), config.bos_id)
    inputs = torch.cat([bos, targets], dim=1)  # (B, U + 1)
    outputs = torch.cat([targets, targets.new_full((B, 1), config.pad_id)], dim=1)
    outputs[torch.arange(B), target_lengths] = config.eos_id  # [y_1 .. y_U, eos]
    out = speller(enc.memory, enc.memory_lengths, inputs, sampling_probability)
    loss = F.cross_entropy(
        out.logits.float().transpose(1, 2),  # (B, U, V) -> (B, V, U)
        outputs,
        ignore_index=config.pad_id,
        label_smoothing=config.label_smoothing,
    )
    return loss, out.attention


def run_search(
    scorers: dict,
    weights: dict[str, float],
    enc: ListenerOutput,
    config: EncoderDecoderConfig,
    search: SearchConfig,
    lm=None,
    lm_weight: float = 0.0,
) -> list[list[Hypothesis]]:
    """Greedy (beam 1) or beam search over ``scorers`` plus an optional LM (shallow fusion)."""
    if lm is not None and lm_weight > 0:
        scorers, weights = {**scorers, "lm": lm}, {**weights, "lm": lm_weight}
    ids = (config.bos_id, config.eos_id)
    if search.beam_size == 1:
        hyps = greedy_search(scorers, weights, enc.memory, enc.memory_lengths, *ids, search)
        return [[h] for h in hyps]
    return BeamSearch(scorers, weights, *ids, search)(enc.memory, enc.memory_lengths)


class ListenAttendSpell(nn.Module):
    """The recognizer: listener, speller and (when ``ctc_weight > 0``) a CTC head.

    Args:
        config: See :class:`LASConfig`.
    """

    def __init__(self, config: LASConfig) -> None:
        super().__init__()
        self.config = config
        self.listener = Listener(config.listener)
        if config.vocab_size < 5:
            raise ValueError(f"vocab_size must cover the 4 special tokens and more, got {config.vocab_size}")
        speller_config = dataclasses.replace(
            config.speller, vocab_size=config.vocab_size, memory_dim=config.listener.output_dim
        )
        self.speller = Speller(speller_config, never_emit=(config.pad_id, config.bos_id))
        self.ctc = CTCHead(config.listener.output_dim, config.vocab_size) if config.ctc_weight > 0 else None

    def forward(
        self,
        features: torch.Tensor,
        feature_lengths: torch.Tensor,
        targets: torch.Tensor,
        target_lengths: torch.Tensor,
        sampling_probability: float = 0.0,
    ) -> LASLoss:
        """Joint CTC-attention loss.

        Args:
            features: Shape (B, T, F).
            feature_lengths: Shape (B,).
            targets: Token ids without bos/eos, padded with ``pad_id``, shape (B, U).
            target_lengths: Shape (B,).
            sampling_probability: Scheduled-sampling probability.
        """
        enc = self.listener(features, feature_lengths)
        att_loss, attention = attention_loss(
            self.speller, enc, targets, target_lengths, self.config, sampling_probability
        )
        ctc_loss = torch.zeros((), device=features.device)
        if self.ctc is not None:
            ctc_loss = self.ctc.loss(enc, targets, target_lengths, blank=self.config.pad_id)
        w = self.config.ctc_weight
        return LASLoss((1 - w) * att_loss + w * ctc_loss, att_loss, ctc_loss, attention)

    def ctc_log_probs(
        self, features: torch.Tensor, feature_lengths: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """CTC log-posteriors (B, T', V) and lengths (B,) straight from features."""
        if self.ctc is None:
            raise ValueError("this model has no CTC head (ctc_weight was 0)")
        enc = self.listener(features, feature_lengths)
        return self.ctc(enc.ctc_input), enc.ctc_lengths

    @torch.no_grad()
    def decode(
        self,
        features: torch.Tensor,
        feature_lengths: torch.Tensor,
        search: SearchConfig | None = None,
        ctc_weight: float | None = None,
        lm=None,
        lm_weight: float = 0.0,
    ) -> list[list[Hypothesis]]:
        """Beam (or greedy, with beam 1) search over speller, CTC and an optional LM.

        Args:
            features: Shape (B, T, F).
            feature_lengths: Shape (B,).
            search: Beam size, length limits, n-best.
            ctc_weight: Weight of the CTC prefix score; defaults to the training weight.
            lm: Optional language model scorer (shallow fusion).
            lm_weight: Its weight.

        Returns:
            n-best hypotheses per utterance.
        """
        return self.search(self.listener(features, feature_lengths), search, ctc_weight, lm, lm_weight)

    @torch.no_grad()
    def search(
        self,
        enc: ListenerOutput,
        search: SearchConfig | None = None,
        ctc_weight: float | None = None,
        lm=None,
        lm_weight: float = 0.0,
    ) -> list[list[Hypothesis]]:
        """Like :meth:`decode`, from the listener's output."""
        search = search or SearchConfig()
        ctc_weight = self.config.ctc_weight if ctc_weight is None else ctc_weight
        if not 0.0 <= ctc_weight < 1.0:
            raise ValueError(f"decoding ctc_weight must be in [0, 1), got {ctc_weight}")
        scorers: dict = {"decoder": self.speller}
        weights = {"decoder": 1.0 - ctc_weight}
        if ctc_weight > 0 and self.ctc is not None:
            ctc_log_probs = self.ctc(enc.ctc_input)
            scorers["ctc"] = CTCPrefixScorer(
                lambda m, n: (ctc_log_probs, enc.ctc_lengths),
                blank_id=self.config.pad_id,
                eos_id=self.config.eos_id,
            )
            weights["ctc"] = ctc_weight
        return run_search(scorers, weights, enc, self.config, search, lm, lm_weight)
