"""The speech-to-text family: one listener-speller model for recognition and for translation.

Listen, attend and spell (Chan et al. 2016) with a joint CTC head (Kim et al. 2017, "Joint
CTC-attention based end-to-end speech recognition using multi-task learning"). Recognition and
direct speech translation (Bérard et al. 2016, "Listen and translate"; Weiss et al. 2017,
"Sequence-to-sequence models can directly translate foreign speech") are the same model: they
differ only in data, fairseq S2T's idea. The speller emits the target tokens (the transcript in
ASR, the translation in ST) and the CTC head predicts either those same tokens
(``ctc_tokens="target"``: it then also scores hypotheses in the search) or a source-language
transcript (``ctc_tokens="source"``: an auxiliary loss only, Weiss et al. 2017). The CTC head
reads the listener layer chosen by ``ListenerConfig.ctc_layer``; its blank is its vocabulary's
pad id. The model is a plain ``nn.Module``: features in, losses or hypotheses out; Lightning
lives in :mod:`speech.tasks`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, NamedTuple, Self

import torch
import torch.nn.functional as F
from torch import nn

from speech.config import check_choice, check_non_negative, check_range, check_section
from speech.decoding import BeamSearch, CTCPrefixScorer, Hypothesis, SearchConfig, greedy_search
from speech.kernels import stop_check_every
from speech.models.listener import Listener, ListenerConfig, ListenerOutput
from speech.models.speller import Speller, SpellerConfig

if TYPE_CHECKING:
    from speech.text import Tokenizer

CTC_TOKENS = ("target", "source")


@dataclass
class S2TConfig:
    """Model and loss settings of a speech-to-text model (recognizer or translator).

    Attributes:
        vocab_size: Output (target) tokenizer vocabulary size V (set by the task).
        listener: Encoder sizes.
        speller: Decoder sizes (``vocab_size`` and ``memory_dim`` are filled in by the model).
        pad_id: Output padding id.
        bos_id: Start token.
        eos_id: End token.
        ctc_weight: Weight λ of the CTC loss: ``λ CTC + (1 - λ) attention``, in [0, 1); 0 drops the head.
        label_smoothing: Label smoothing of the attention cross-entropy.
        ctc_tokens: What the CTC head predicts: ``"target"``, the output tokens (blank =
            ``pad_id``; it joins the beam search), or ``"source"``, a source-language transcript
            over ``source_vocab_size`` tokens (blank = ``source_pad_id``; training only).
        source_vocab_size: Source tokenizer vocabulary size with ``ctc_tokens="source"``; 0 = no CTC head.
        source_pad_id: Source padding id, the CTC blank with ``ctc_tokens="source"``.
    """

    vocab_size: int = 0
    listener: ListenerConfig = field(default_factory=ListenerConfig)
    speller: SpellerConfig = field(default_factory=SpellerConfig)
    pad_id: int = 0
    bos_id: int = 1
    eos_id: int = 2
    ctc_weight: float = 0.3
    label_smoothing: float = 0.1
    ctc_tokens: str = "target"
    source_vocab_size: int = 0
    source_pad_id: int = 0

    def __post_init__(self) -> None:
        check_section(self, "listener", ListenerConfig)  # a checkpoint's mapping becomes a config
        check_section(self, "speller", SpellerConfig)
        check_non_negative(self, "vocab_size", "pad_id", "bos_id", "eos_id")  # vocab_size: 0 until set
        check_non_negative(self, "source_vocab_size", "source_pad_id")
        check_range(self, "ctc_weight", ge=0, lt=1)  # 1 would leave the decoder untrained
        check_range(self, "label_smoothing", ge=0, lt=1)
        check_choice(self, "ctc_tokens", CTC_TOKENS)

    @property
    def ctc_vocab_size(self) -> int:
        """Size of the CTC head's vocabulary (0 = no head)."""
        if self.ctc_weight <= 0:
            return 0
        return self.vocab_size if self.ctc_tokens == "target" else self.source_vocab_size

    @property
    def ctc_blank_id(self) -> int:
        """The CTC head's blank: its vocabulary's pad id."""
        return self.pad_id if self.ctc_tokens == "target" else self.source_pad_id

    @property
    def has_ctc(self) -> bool:
        """Whether the model has a CTC head."""
        return self.ctc_vocab_size > 0

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


class S2TLoss(NamedTuple):
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


class SpeechToText(nn.Module):
    """Listener, speller and (when the config has one) a CTC head.

    Args:
        config: See :class:`S2TConfig`.
    """

    def __init__(self, config: S2TConfig) -> None:
        super().__init__()
        if config.vocab_size < 5:
            raise ValueError(f"vocab_size must cover the 4 special tokens and more, got {config.vocab_size}")
        self.config = config
        self.listener = Listener(config.listener)
        speller_config = dataclasses.replace(
            config.speller, vocab_size=config.vocab_size, memory_dim=config.listener.output_dim
        )
        self.speller = Speller(speller_config, never_emit=(config.pad_id, config.bos_id))
        self.ctc = CTCHead(config.listener.output_dim, config.ctc_vocab_size) if config.has_ctc else None

    def forward(
        self,
        features: torch.Tensor,
        feature_lengths: torch.Tensor,
        targets: torch.Tensor,
        target_lengths: torch.Tensor,
        source: torch.Tensor | None = None,
        source_lengths: torch.Tensor | None = None,
        sampling_probability: float = 0.0,
    ) -> S2TLoss:
        """Joint CTC-attention loss.

        Args:
            features: Shape (B, T, F).
            feature_lengths: Shape (B,).
            targets: Output token ids without bos/eos, padded with ``pad_id``, shape (B, U).
            target_lengths: Shape (B,).
            source: With ``ctc_tokens="source"``: source token ids padded with ``source_pad_id``,
                shape (B, U_src), or None (then only the attention loss counts). Unused otherwise.
            source_lengths: Shape (B,), or None.
            sampling_probability: Scheduled-sampling probability.
        """
        enc = self.listener(features, feature_lengths)
        return self.loss(enc, targets, target_lengths, source, source_lengths, sampling_probability)

    def loss(
        self,
        enc: ListenerOutput,
        targets: torch.Tensor,
        target_lengths: torch.Tensor,
        source: torch.Tensor | None = None,
        source_lengths: torch.Tensor | None = None,
        sampling_probability: float = 0.0,
    ) -> S2TLoss:
        """Like :meth:`forward`, from the listener's output (sequence training shares it)."""
        att_loss, attention = self._attention_loss(enc, targets, target_lengths, sampling_probability)
        if self.config.ctc_tokens == "target":
            source, source_lengths = targets, target_lengths
        if self.ctc is None or source is None or source_lengths is None:
            return S2TLoss(att_loss, att_loss, torch.zeros_like(att_loss), attention)
        ctc_loss = self.ctc.loss(enc, source, source_lengths, blank=self.config.ctc_blank_id)
        w = self.config.ctc_weight
        return S2TLoss((1 - w) * att_loss + w * ctc_loss, att_loss, ctc_loss, attention)

    def _attention_loss(
        self,
        enc: ListenerOutput,
        targets: torch.Tensor,
        target_lengths: torch.Tensor,
        sampling_probability: float,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Label-smoothed cross-entropy of the speller fed ``[bos, y]`` against ``[y, eos]``.

        Returns:
            The loss and the attention weights (B, U + 1, S).
        """
        c = self.config
        B = targets.shape[0]
        inputs = torch.cat([targets.new_full((B, 1), c.bos_id), targets], dim=1)  # (B, U + 1)
        outputs = torch.cat([targets, targets.new_full((B, 1), c.pad_id)], dim=1)
        outputs[torch.arange(B), target_lengths] = c.eos_id  # [y_1 .. y_U, eos]
        out = self.speller(enc.memory, enc.memory_lengths, inputs, sampling_probability)
        loss = F.cross_entropy(
            out.logits.float().transpose(1, 2),  # (B, U, V) -> (B, V, U)
            outputs,
            ignore_index=c.pad_id,
            label_smoothing=c.label_smoothing,
        )
        return loss, out.attention

    def sequence_log_probs(
        self, enc: ListenerOutput, rows: torch.Tensor, tokens: torch.Tensor, lengths: torch.Tensor
    ) -> torch.Tensor:
        """Teacher-forced log-probability of whole hypotheses, gradients flowing (sequence training).

        Args:
            enc: The listener's output for B utterances.
            rows: Which utterance each hypothesis belongs to, shape (M,).
            tokens: Hypothesis token ids without bos/eos, padded with ``pad_id``, shape (M, U).
            lengths: Tokens per hypothesis, shape (M,).

        Returns:
            ``log P(y_1 .. y_U, eos | x)`` per hypothesis, shape (M,), in fp32, with the tokens the
            speller never emits excluded as in the search, so that it equals the search's
            speller score of the hypothesis.
        """
        c = self.config
        M = tokens.shape[0]
        inputs = torch.cat([tokens.new_full((M, 1), c.bos_id), tokens], dim=1)  # (M, U + 1)
        outputs = torch.cat([tokens, tokens.new_full((M, 1), c.pad_id)], dim=1)
        outputs[torch.arange(M, device=tokens.device), lengths] = c.eos_id
        logits = self.speller(enc.memory[rows], enc.memory_lengths[rows], inputs).logits.float()
        if self.speller.never_emit:  # the distribution the search draws from (Speller.score)
            logits = logits.index_fill(2, self.speller.never_emit_ids, float("-inf"))
        log_probs = F.log_softmax(logits, dim=-1).gather(2, outputs[..., None])[..., 0]
        return log_probs.masked_fill(outputs == c.pad_id, 0.0).sum(dim=1)

    @torch.no_grad()
    def sample(
        self, enc: ListenerOutput, n: int, generator: torch.Generator, search: SearchConfig | None = None
    ) -> list[list[list[int]]]:
        """``n`` hypotheses per utterance drawn token by token from the speller (ancestral sampling).

        The same generator state gives the same samples. Tokens the speller never emits are
        never drawn; a sample that reaches the search's length limit ends there.

        Returns:
            Per utterance, ``n`` token lists (without bos/eos).
        """
        search = search or SearchConfig()
        c, B = self.config, enc.memory.shape[0]
        rows = torch.arange(B, device=enc.memory.device).repeat_interleave(n)  # (B n,)
        max_len, _ = search.length_limits(enc.memory_lengths.tolist())
        limit = torch.tensor(max_len, device=rows.device)[rows]
        check_every = stop_check_every(rows.device)
        state = self.speller.init_state(enc.memory, enc.memory_lengths).select(rows)
        last = torch.full_like(rows, c.bos_id)
        out = torch.full((B * n, max(max_len)), c.eos_id, dtype=torch.long, device=rows.device)
        ended = torch.zeros_like(rows, dtype=torch.bool)
        for step in range(max(max_len)):
            log_probs, state = self.speller.score(last, state)
            drawn = torch.multinomial(log_probs.exp(), 1, generator=generator)[:, 0]
            running = ~ended & (step < limit)
            out[:, step] = torch.where(running, drawn, c.eos_id)
            ended |= drawn == c.eos_id
            if (step + 1) % check_every == 0 and bool((ended | (step + 1 >= limit)).all()):
                break
            last = drawn
        samples = []
        for seq in out.tolist():
            samples.append(seq[: seq.index(c.eos_id)] if c.eos_id in seq else seq)
        return [samples[b * n : (b + 1) * n] for b in range(B)]

    def ctc_log_probs(
        self, features: torch.Tensor, feature_lengths: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """CTC log-posteriors (B, T', V_ctc) and lengths (B,) straight from features."""
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
        """Beam (or greedy, with beam 1) search over the speller, the CTC head and an optional LM.

        Args:
            features: Shape (B, T, F).
            feature_lengths: Shape (B,).
            search: Beam size, length limits, n-best.
            ctc_weight: Weight of the CTC prefix score; defaults to the training weight. A CTC
                head over source tokens never scores hypotheses.
            lm: Optional language model scorer over the output vocabulary (shallow fusion).
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
        scorers: dict = {"decoder": self.speller}
        weights = {"decoder": 1.0}
        if self.config.ctc_tokens == "target":  # a source-token CTC head cannot score target prefixes
            ctc_weight = self.config.ctc_weight if ctc_weight is None else ctc_weight
            if not 0.0 <= ctc_weight < 1.0:
                raise ValueError(f"decoding ctc_weight must be in [0, 1), got {ctc_weight}")
            weights["decoder"] = 1.0 - ctc_weight
            if ctc_weight > 0 and self.ctc is not None:
                ctc_log_probs = self.ctc(enc.ctc_input)
                scorers["ctc"] = CTCPrefixScorer(
                    lambda m, n: (ctc_log_probs, enc.ctc_lengths),
                    blank_id=self.config.ctc_blank_id,
                    eos_id=self.config.eos_id,
                )
                weights["ctc"] = ctc_weight
        if lm is not None and lm_weight > 0:
            scorers["lm"], weights["lm"] = lm, lm_weight
        ids = (self.config.bos_id, self.config.eos_id)
        if search.beam_size == 1:
            hyps = greedy_search(scorers, weights, enc.memory, enc.memory_lengths, *ids, search)
            return [[h] for h in hyps]
        return BeamSearch(scorers, weights, *ids, search)(enc.memory, enc.memory_lengths)
