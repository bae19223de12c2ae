"""Direct speech translation: a LAS listener and speller over the target vocabulary.

Bérard et al. 2016, "Listen and translate: a proof of concept for end-to-end speech-to-text
translation"; the auxiliary CTC loss over the source transcript and the ASR-pretrained encoder
follow Weiss et al. 2017, "Sequence-to-sequence models can directly translate foreign speech",
and Bansal et al. 2019, "Pre-training on high-resource speech recognition improves
low-resource speech-to-text translation". The model composes the LAS parts
(:class:`~speech.models.listener.Listener`, :class:`~speech.models.speller.Speller`,
:class:`~speech.models.las.CTCHead`); nothing is copied. It is a plain ``nn.Module``:
features in, losses or hypotheses out; Lightning lives in :mod:`speech.tasks.st`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import NamedTuple

import torch
from torch import nn

from speech.config import check_non_negative
from speech.decoding import Hypothesis, SearchConfig
from speech.models.las import CTCHead, EncoderDecoderConfig, attention_loss, run_search
from speech.models.listener import Listener
from speech.models.speller import Speller


@dataclass
class TranslatorConfig(EncoderDecoderConfig):
    """Model and loss settings of the translator (see :class:`~speech.models.las.EncoderDecoderConfig`).

    ``vocab_size``, ``pad_id``, ``bos_id`` and ``eos_id`` are the target tokenizer's; the
    listener has the ASR model's sizes to initialise from it. ``ctc_weight`` weighs the
    auxiliary CTC loss over the source transcript and must stay below 1; 0 (or no source
    vocabulary) drops the head.

    Attributes:
        source_vocab_size: Source (transcript) tokenizer vocabulary size; 0 = no CTC head.
        source_pad_id: Source padding id, also the CTC blank.
    """

    source_vocab_size: int = 0
    source_pad_id: int = 0

    def __post_init__(self) -> None:
        super().__post_init__()  # ctc_weight in [0, 1)
        check_non_negative(self, "source_vocab_size", "source_pad_id")

    @property
    def has_ctc(self) -> bool:
        """Whether the model has the auxiliary source CTC head."""
        return self.ctc_weight > 0 and self.source_vocab_size > 0


class TranslatorLoss(NamedTuple):
    """Total loss and its parts; attention weights (B, U, S) for plots."""

    loss: torch.Tensor
    attention_loss: torch.Tensor
    ctc_loss: torch.Tensor
    attention: torch.Tensor


class SpeechTranslator(nn.Module):
    """Speech in the source language to target-language tokens, with no transcript at inference.

    Args:
        config: See :class:`TranslatorConfig`.
    """

    def __init__(self, config: TranslatorConfig) -> None:
        super().__init__()
        if config.vocab_size < 5:
            raise ValueError(f"vocab_size must cover the 4 special tokens and more, got {config.vocab_size}")
        self.config = config
        self.listener = Listener(config.listener)
        speller_config = dataclasses.replace(
            config.speller, vocab_size=config.vocab_size, memory_dim=config.listener.output_dim
        )
        self.speller = Speller(speller_config, never_emit=(config.pad_id, config.bos_id))
        self.ctc = CTCHead(config.listener.output_dim, config.source_vocab_size) if config.has_ctc else None

    def forward(
        self,
        features: torch.Tensor,
        feature_lengths: torch.Tensor,
        targets: torch.Tensor,
        target_lengths: torch.Tensor,
        source: torch.Tensor | None = None,
        source_lengths: torch.Tensor | None = None,
        sampling_probability: float = 0.0,
    ) -> TranslatorLoss:
        """Attention loss on the translation, plus the source CTC loss when a transcript is given.

        Args:
            features: Shape (B, T, F).
            feature_lengths: Shape (B,).
            targets: Target token ids without bos/eos, padded with ``pad_id``, shape (B, U).
            target_lengths: Shape (B,).
            source: Source token ids padded with ``source_pad_id``, shape (B, U_src), or None
                (then only the attention loss counts).
            source_lengths: Shape (B,), or None.
            sampling_probability: Scheduled-sampling probability.
        """
        enc = self.listener(features, feature_lengths)
        att_loss, attention = attention_loss(
            self.speller, enc, targets, target_lengths, self.config, sampling_probability
        )
        if self.ctc is None or source is None or source_lengths is None:
            return TranslatorLoss(att_loss, att_loss, torch.zeros_like(att_loss), attention)
        ctc_loss = self.ctc.loss(enc, source, source_lengths, blank=self.config.source_pad_id)
        w = self.config.ctc_weight
        return TranslatorLoss((1 - w) * att_loss + w * ctc_loss, att_loss, ctc_loss, attention)

    @torch.no_grad()
    def decode(
        self,
        features: torch.Tensor,
        feature_lengths: torch.Tensor,
        search: SearchConfig | None = None,
        lm=None,
        lm_weight: float = 0.0,
    ) -> list[list[Hypothesis]]:
        """Beam (or greedy, with beam 1) search over the speller and an optional target-language LM.

        The source CTC head scores source tokens, so it takes no part in the search.

        Args:
            features: Shape (B, T, F).
            feature_lengths: Shape (B,).
            search: Beam size, length limits, n-best.
            lm: Optional language model scorer over the target vocabulary (shallow fusion).
            lm_weight: Its weight.

        Returns:
            n-best hypotheses per utterance.
        """
        search = search or SearchConfig()
        enc = self.listener(features, feature_lengths)
        return run_search(
            {"decoder": self.speller}, {"decoder": 1.0}, enc, self.config, search, lm, lm_weight
        )
