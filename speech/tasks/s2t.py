"""The speech-to-text LightningModule: one task for recognition (ASR) and translation (ST).

A thin wrapper around :class:`~speech.models.s2t.SpeechToText`. ASR and ST differ only in
data (fairseq S2T's idea): which manifest field is the target (``text`` or ``translation``,
``data.target_field``) and what the CTC head predicts (the target tokens, or the source
``text`` with its own tokenizer). Their YAML configs are the presets :class:`ASRConfig` and
:class:`STConfig`. Features are computed on the training device inside the module (waveform
augmentation in training, log-mel, global CMVN, SpecAugment in training). One shared step
computes the loss; validation also decodes greedily, reports the preset's metrics over the whole
dev set (WER and CER, or BLEU, chrF and exact match), and saves an attention-alignment picture
each epoch. :func:`init_encoder` copies an ASR checkpoint's listener (and, when it predicts the
same tokens, its CTC head) into the model.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar, NamedTuple

import jiwer
import torch

from speech.config import check_non_negative, check_nonempty, check_probability, check_range, field_error
from speech.data import Batch, Collate, SpeechDataset, read_utterances
from speech.decoding import SearchConfig
from speech.errors import ConfigError
from speech.features import (
    AugmentConfig,
    CMVNStats,
    LogMelConfig,
    SpecAugment,
    SpecAugmentConfig,
    WaveAugment,
)
from speech.inference.metadata import CheckpointMeta
from speech.metadata import S2TMeta, to_dict
from speech.metrics import scores_from_translation_stats, translation_stats
from speech.models.las import LASConfig
from speech.models.s2t import S2TConfig, SpeechToText
from speech.models.translator import TranslatorConfig
from speech.plots import save_alignment
from speech.tasks.common import (
    BucketedTask,
    ManifestDataConfig,
    OptimConfig,
    SummedMetrics,
    TrainerConfig,
    cmvn_to_dict,
    training_front_end,
)
from speech.tasks.risk import LossConfig, sequence_risk
from speech.text import Tokenizer, load_tokenizer, tokenizer_to_dict


@dataclass
class S2TDataConfig(ManifestDataConfig):
    """Where the data is and how it is batched (see :class:`~speech.tasks.common.ManifestDataConfig`).

    Use the ASR model's CMVN statistics when the encoder is initialised from it.
    """

    target_field: ClassVar[str] = "text"
    """The manifest field the speller learns to emit."""

    @property
    def target_tokenizer_file(self) -> str:
        """Tokenizer of the target field."""
        raise NotImplementedError

    @property
    def source_tokenizer_file(self) -> str | None:
        """Tokenizer of the source transcripts the CTC head predicts, when it predicts them."""
        return None

    @property
    def language(self) -> str | None:
        """Language code of the target, recorded in the checkpoint."""
        return None


@dataclass
class ASRDataConfig(S2TDataConfig):
    """Recognition data: the target is the transcript (``text``); see :class:`S2TDataConfig`.

    Attributes:
        tokenizer: Transcript tokenizer file (``speech prepare tokenizer``).
    """

    tokenizer: str = "data/tokenizer.json"

    def __post_init__(self) -> None:
        super().__post_init__()
        check_nonempty(self, "tokenizer")

    @property
    def target_tokenizer_file(self) -> str:  # noqa: D102
        return self.tokenizer


@dataclass
class STDataConfig(S2TDataConfig):
    """Translation data: the target is ``translation``; see :class:`S2TDataConfig`.

    Attributes:
        target_tokenizer: Tokenizer of the translations (``--field translation``).
        source_tokenizer: Tokenizer of the transcripts for the auxiliary CTC loss; None (or
            a corpus whose transcripts are all empty) turns that loss off. To copy the CTC head
            of an ASR model, use that model's tokenizer.
        target_lang: Target language code, recorded in the checkpoint (recipes pick the
            manifests and tokenizer by it).
    """

    target_field: ClassVar[str] = "translation"

    target_tokenizer: str = "data/target_tokenizer.json"
    source_tokenizer: str | None = "data/tokenizer.json"
    target_lang: str = "fr"

    def __post_init__(self) -> None:
        super().__post_init__()
        check_nonempty(self, "target_tokenizer", "source_tokenizer", "target_lang")

    @property
    def target_tokenizer_file(self) -> str:  # noqa: D102
        return self.target_tokenizer

    @property
    def source_tokenizer_file(self) -> str | None:  # noqa: D102
        return self.source_tokenizer

    @property
    def language(self) -> str | None:  # noqa: D102
        return self.target_lang


@dataclass
class ScheduledSampling:
    """Probability of feeding the model's own prediction, ramped linearly between two steps.

    Attributes:
        max_probability: Final probability (0 = off, the default).
        start_step: Step where the ramp starts.
        end_step: Step where it reaches ``max_probability``.
    """

    max_probability: float = 0.0
    start_step: int = 0
    end_step: int = 1

    def __post_init__(self) -> None:
        check_probability(self, "max_probability")
        check_non_negative(self, "start_step")
        check_range(self, "end_step", ge=self.start_step, note="at least start_step")

    def at(self, step: int) -> float:
        """Probability at a training step."""
        ramp = (step - self.start_step) / max(self.end_step - self.start_step, 1)
        return self.max_probability * min(max(ramp, 0.0), 1.0)


@dataclass
class InitConfig:
    """Weights loaded before training starts (a resumed run takes its own checkpoint's instead).

    Attributes:
        encoder_from: ASR checkpoint whose listener (and, when it predicts the same tokens, CTC
            head) initialises the encoder; None trains from scratch.
        model_from: Checkpoint of the same task whose whole model (weights only: the optimiser,
            its LR schedule and the step start afresh) initialises this one, to fine-tune it,
            e.g. with ``loss.criterion=mwer``. Its tokenizer and model sizes must be this
            config's (``speech train --init-from``).
    """

    encoder_from: str | None = None
    model_from: str | None = None

    def __post_init__(self) -> None:
        check_nonempty(self, "encoder_from", "model_from")
        if self.encoder_from and self.model_from:
            raise field_error(self, "model_from", "give init.encoder_from or init.model_from, not both")


def _search() -> SearchConfig:
    return SearchConfig(beam_size=8, max_length_ratio=1.0)


@dataclass
class S2TTrainConfig:
    """Everything a speech-to-text training run reads from its YAML config (presets below)."""

    task: ClassVar[str] = "asr"
    data: S2TDataConfig = field(default_factory=S2TDataConfig)
    features: LogMelConfig = field(default_factory=LogMelConfig.asr)
    augment: AugmentConfig = field(default_factory=AugmentConfig)  # off unless the YAML enables it
    specaugment: SpecAugmentConfig = field(default_factory=SpecAugmentConfig)
    model: S2TConfig = field(default_factory=S2TConfig)
    init: InitConfig = field(default_factory=InitConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    trainer: TrainerConfig = field(default_factory=TrainerConfig)
    scheduled_sampling: ScheduledSampling = field(default_factory=ScheduledSampling)
    loss: LossConfig = field(default_factory=LossConfig)
    search: SearchConfig = field(default_factory=_search)

    def inputs(self) -> list[str | None]:
        """Files the run reads (checked before anything is written)."""
        d = self.data
        return [
            d.train,
            d.dev,
            d.target_tokenizer_file,
            d.source_tokenizer_file,
            d.cmvn,
            self.init.encoder_from,
            self.init.model_from,
        ]


@dataclass
class ASRConfig(S2TTrainConfig):
    """The recognizer preset: the target is the transcript; the CTC head predicts it too."""

    task: ClassVar[str] = "asr"
    data: ASRDataConfig = field(default_factory=ASRDataConfig)
    model: LASConfig = field(default_factory=LASConfig)


@dataclass
class STConfig(S2TTrainConfig):
    """The translator preset: the target is the translation; the CTC head predicts the source transcript."""

    task: ClassVar[str] = "st"
    data: STDataConfig = field(default_factory=STDataConfig)
    model: TranslatorConfig = field(default_factory=TranslatorConfig)


class S2TTask(BucketedTask):
    """Train a speech-to-text model (recognizer or translator).

    Args:
        config: The run's config (:class:`ASRConfig` or :class:`STConfig`).
        tokenizer: Target tokenizer (its vocabulary sizes the decoder).
        source_tokenizer: Source transcript tokenizer when the CTC head predicts the source
            (``model.ctc_tokens == "source"``), or None (then no CTC head).
        cmvn: Global CMVN statistics, or None.
    """

    def __init__(
        self,
        config: S2TTrainConfig,
        tokenizer: Tokenizer,
        source_tokenizer: Tokenizer | None = None,
        cmvn: CMVNStats | None = None,
    ) -> None:
        super().__init__()
        self.config = config
        self.tokenizer = tokenizer
        self.source_tokenizer = source_tokenizer if config.model.ctc_tokens == "source" else None
        source = self.source_tokenizer
        self.model_config = config.model.for_tokenizer(
            tokenizer,
            config.features.n_mels,
            source_vocab_size=source.vocab_size if source is not None else 0,
            source_pad_id=source.pad_id if source is not None else 0,
        )
        self.logmel, self.cmvn = training_front_end(config.features, cmvn)
        self.wave_augment = WaveAugment(config.augment, config.features.sample_rate)
        self.specaugment = SpecAugment(config.specaugment)
        self.model = SpeechToText(self.model_config)
        stats = _STAT_FUNCTIONS[config.task]
        self._val_stats = SummedMetrics(len(stats([""], [""])))  # the statistics' layout, one sentence

    @classmethod
    def from_config(cls, config: S2TTrainConfig, resume: bool) -> S2TTask:
        """The task with its tokenizers and statistics read from the files the config names.

        A fresh run (not ``resume``) with ``init.encoder_from`` copies that ASR model's encoder.
        """
        d = config.data
        source = load_tokenizer(d.source_tokenizer_file) if d.source_tokenizer_file else None
        if source is not None and not any(u.text.strip() for u in read_utterances(d.train)):
            print(f"{d.train}: no transcripts, training without the source CTC loss")
            source = None
        cmvn = CMVNStats.load(d.cmvn) if d.cmvn else None
        task = cls(config, load_tokenizer(d.target_tokenizer_file), source, cmvn)
        if config.init.encoder_from and not resume:
            init = init_encoder(task, config.init.encoder_from)
            print(f"encoder initialised from {config.init.encoder_from}: {init.summary()}")
        if config.init.model_from and not resume:
            note = init_model(task, config.init.model_from)
            print(f"model initialised from {config.init.model_from}" + (f" ({note})" if note else ""))
        return task

    # Shared -----------------------------------------------------------------------------------
    def features(self, waveforms: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Features of a padded batch on the current device, in fp32.

        In training: waveform augmentation, log-mel, CMVN, SpecAugment; otherwise log-mel and CMVN.
        Both augmentations draw from torch's default generators, seeded by ``trainer.seed`` and
        saved in checkpoints, so a resumed run draws what an uninterrupted one would.

        Args:
            waveforms: (B, T) zero-padded waveforms.
            lengths: (B,) valid samples per item.

        Returns:
            (B, T_frames, F) features and (B,) frame lengths.
        """
        waveforms, lengths = self.wave_augment(waveforms, lengths)
        feats, frame_lengths = self.logmel(waveforms, lengths)
        feats = self.cmvn(feats, frame_lengths)
        return self.specaugment(feats, frame_lengths), frame_lengths

    def _targets(self, batch: Batch) -> tuple[torch.Tensor, torch.Tensor]:
        """The target field's token ids (B, U) and lengths (B,)."""
        name = self.config.data.target_field
        return getattr(batch, name), getattr(batch, f"{name}_lengths")

    def _step(self, batch: Batch, stage: str):
        feats, frame_lengths = self.features(batch.waveforms, batch.waveform_lengths)
        p = self.config.scheduled_sampling.at(self.global_step) if stage == "train" else 0.0
        targets, target_lengths = self._targets(batch)
        source = (batch.text, batch.text_lengths) if self.source_tokenizer is not None else (None, None)
        enc = self.model.listener(feats, frame_lengths)
        out = self.model.loss(enc, targets, target_lengths, *source, sampling_probability=p)
        B, sync = len(batch), stage != "train"
        if stage == "train" and self.config.loss.criterion != "ce":
            out = self._with_risk(out, enc, targets, target_lengths)
        self.log(f"{stage}/loss", out.loss, batch_size=B, prog_bar=True, sync_dist=sync)
        self.log(f"{stage}/attention_loss", out.attention_loss, batch_size=B, sync_dist=sync)
        if self.model.ctc is not None:
            self.log(f"{stage}/ctc_loss", out.ctc_loss, batch_size=B, sync_dist=sync)
        return out, feats, frame_lengths

    def _with_risk(self, out, enc, targets: torch.Tensor, target_lengths: torch.Tensor):
        """``λ CE + (1 - λ) risk`` (:mod:`speech.tasks.risk`); the risk and expected cost are logged."""
        c = self.config
        refs = [self.tokenizer.decode(targets[i, : target_lengths[i]].tolist()) for i in range(len(targets))]
        seed = c.trainer.seed * 1_000_003 + self.global_step * 1009 + self.global_rank
        risk = sequence_risk(self.model, enc, refs, self.tokenizer.decode, c.loss, c.search, seed)
        B, w = len(refs), c.loss.ce_weight
        self.log("train/risk", risk.risk, batch_size=B)
        self.log("train/expected_cost", risk.expected_cost, batch_size=B, prog_bar=True)
        self.log("train/mean_cost", risk.mean_cost, batch_size=B)
        return out._replace(loss=w * out.loss + (1 - w) * risk.risk)

    def training_step(self, batch: Batch, batch_idx: int) -> torch.Tensor:
        """Joint CTC-attention loss of one batch (with the risk mixed in under loss.criterion mwer or mrt)."""
        return self._step(batch, "train")[0].loss

    # Validation -------------------------------------------------------------------------------
    def on_validation_epoch_start(self) -> None:
        """Reset the dev-set statistics."""
        self._val_stats.reset(self.device)

    def validation_step(self, batch: Batch, batch_idx: int) -> None:
        """Loss, greedy decoding and its statistics; the first batch's alignment is plotted."""
        out, feats, frame_lengths = self._step(batch, "val")
        greedy = dataclasses.replace(self.config.search, beam_size=1, nbest=1)
        hyps = self.model.decode(feats, frame_lengths, greedy)
        targets, target_lengths = self._targets(batch)
        refs = [self.tokenizer.decode(targets[i, : target_lengths[i]].tolist()) for i in range(len(batch))]
        texts = [self.tokenizer.decode(h[0].tokens) for h in hyps]
        self._val_stats.add(_STAT_FUNCTIONS[self.config.task](refs, texts))
        if batch_idx == 0 and self.trainer.is_global_zero:
            i = int(target_lengths.argmax())  # the longest target shows the alignment best
            n = int(target_lengths[i]) + 1
            m = int(self.model.listener.output_lengths(frame_lengths[i : i + 1])[0])
            save_alignment(
                out.attention[i, :n, :m].float().cpu(),
                Path(self.trainer.default_root_dir) / "alignments" / f"epoch{self.current_epoch:03d}.png",
                title=f"epoch {self.current_epoch}: {texts[i][:60]}",
            )

    def on_validation_epoch_end(self) -> None:
        """The preset's metrics over the whole dev set (statistics summed over DDP ranks)."""
        stats = self._val_stats.reduce(self.trainer)
        if self.config.task == "asr":
            if stats[1] > 0:
                self.log("val/wer", float(stats[0] / stats[1]), prog_bar=True, rank_zero_only=True)
                self.log(
                    "val/cer", float(stats[2] / stats[3].clamp(min=1)), prog_bar=True, rank_zero_only=True
                )
        elif stats[0] > 0:
            scores = scores_from_translation_stats(stats.tolist())
            self.log("val/bleu", scores.bleu, prog_bar=True, rank_zero_only=True)
            self.log("val/exact", scores.exact_match, prog_bar=True, rank_zero_only=True)

    # Checkpoints ------------------------------------------------------------------------------
    def on_save_checkpoint(self, checkpoint: dict) -> None:
        """Store what inference needs next to the weights (:class:`~speech.metadata.S2TMeta`)."""
        source = self.source_tokenizer
        meta = S2TMeta(
            task=self.config.task,
            model=self.model_config,
            features=self.config.features,
            search=self.config.search,
            tokenizer=tokenizer_to_dict(self.tokenizer),
            cmvn=cmvn_to_dict(self.cmvn),
            source_tokenizer=tokenizer_to_dict(source) if source is not None else None,
            target_lang=self.config.data.language,
        )
        checkpoint["speech"] = to_dict(meta)

    # Data -------------------------------------------------------------------------------------
    def _dataset(self, manifest: str, train: bool) -> SpeechDataset:
        utterances = self._utterances(manifest, train)
        name = self.config.data.target_field
        missing = [u.id for u in utterances if getattr(u, name) is None]
        if missing:
            raise ConfigError(f"{manifest}: utterance '{missing[0]}' has no '{name}' ({len(missing)} in all)")
        source = self.source_tokenizer if self.model.ctc is not None else None
        return SpeechDataset(
            utterances,
            self.config.features.sample_rate,
            text_tokenizer=self.tokenizer if name == "text" else source,
            translation_tokenizer=self.tokenizer if name == "translation" else None,
        )

    def _collate(self) -> Collate:
        if self.config.data.target_field == "text":
            return Collate(self.tokenizer.pad_id)
        source_pad = self.source_tokenizer.pad_id if self.source_tokenizer is not None else 0
        return Collate(source_pad, self.tokenizer.pad_id)


def asr_stats(refs: list[str], hyps: list[str]) -> tuple[int, int, int, int]:
    """(word errors, reference words, char errors, reference chars): WER and CER add up from these."""
    hyps = [h if h else "" for h in hyps]
    w = jiwer.process_words(refs, hyps)
    c = jiwer.process_characters(refs, hyps)
    return (
        w.substitutions + w.deletions + w.insertions,
        w.hits + w.substitutions + w.deletions,
        c.substitutions + c.deletions + c.insertions,
        c.hits + c.substitutions + c.deletions,
    )


_STAT_FUNCTIONS = {"asr": asr_stats, "st": translation_stats}


def init_model(task: S2TTask, path: str) -> str:
    """Load a checkpoint's whole model (weights only) into ``task``, to fine-tune it.

    Returns:
        A note for the log ("" when there is nothing to say).

    Raises:
        SpeechError: Another task, another tokenizer, or weights that do not fit this config's model.
    """
    meta = CheckpointMeta(path, task.config.task)
    info = meta.info
    if info.tokenizer != tokenizer_to_dict(task.tokenizer):
        raise ConfigError(f"{path}: its tokenizer differs from {task.config.data.target_tokenizer_file}")
    if info.features != task.config.features:
        raise ConfigError(f"{path}: the model's features differ from this config's 'features'")
    meta.load_weights(task.model, "model")
    return "" if _same_cmvn(task, meta) else "the model was trained with other CMVN statistics"


def _same_cmvn(task: S2TTask, meta: CheckpointMeta) -> bool:
    """Whether the checkpoint's CMVN statistics are the task's (to 1e-4)."""
    cmvn = meta.cmvn(task.config.features.n_mels)
    return torch.allclose(task.cmvn.mean.cpu(), cmvn.mean, atol=1e-4) and torch.allclose(
        task.cmvn.std.cpu(), cmvn.std, atol=1e-4
    )


class EncoderInit(NamedTuple):
    """What :func:`init_encoder` copied: listener tensors and whether the CTC head came too."""

    listener_tensors: int
    ctc_head: bool
    note: str

    def summary(self) -> str:
        """One line for the training log."""
        ctc = "and the CTC head" if self.ctc_head else "only"
        return f"{self.listener_tensors} listener tensors {ctc}" + (f" ({self.note})" if self.note else "")


def init_encoder(task: S2TTask, path: str) -> EncoderInit:
    """Copy an ASR checkpoint's listener (and CTC head, when it predicts the same tokens) into ``task``.

    Raises:
        SpeechError: Not an ASR checkpoint, or its features or listener sizes differ from the config's.
    """
    meta = CheckpointMeta(path, "asr")
    info = meta.info
    if info.features != task.config.features:
        raise ConfigError(f"{path}: the ASR model's features differ from this config's 'features'")
    theirs, ours = dataclasses.asdict(info.model.listener), dataclasses.asdict(task.model_config.listener)
    for key in sorted(set(ours) - {"dropout", "ctc_layer"}):
        if theirs.get(key) != ours[key]:
            raise ConfigError(
                f"{path}: model.listener.{key} is {ours[key]} here, {theirs.get(key)} in the ASR model"
            )
    listener = meta.load_weights(task.model.listener, "model.listener")
    ctc_note = _ctc_note(task, info)
    if not ctc_note:
        meta.load_weights(task.model.ctc, "model.ctc")
    notes = [ctc_note] if ctc_note else []
    if not _same_cmvn(task, meta):
        notes.append("the ASR model was trained with other CMVN statistics")
    return EncoderInit(len(listener.state_dict()), not ctc_note, "; ".join(notes))


def _ctc_note(task: S2TTask, info: S2TMeta) -> str:
    """Why the ASR CTC head cannot be copied ("" when it can)."""
    if task.model.ctc is None:
        return "no CTC head here"
    if info.model.ctc_weight <= 0:
        return "the ASR model has no CTC head"
    ctc_tokenizer = task.source_tokenizer if task.model_config.ctc_tokens == "source" else task.tokenizer
    if info.tokenizer != tokenizer_to_dict(ctc_tokenizer):
        return "the source tokenizer differs from the ASR model's"
    if info.model.listener.ctc_layer != task.model_config.listener.ctc_layer:
        return "the CTC layer differs"
    return ""
