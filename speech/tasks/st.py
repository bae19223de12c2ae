"""The speech-translation LightningModule: a thin wrapper around :class:`SpeechTranslator`.

Same conventions as :mod:`speech.tasks.asr`: features are computed on the training device
(waveform augmentation in training, log-mel, global CMVN, SpecAugment in training), one shared
step computes the loss, and validation decodes greedily, reports corpus BLEU and the exact-match
rate of the dev set, and saves an attention-alignment picture each epoch.
:func:`init_encoder_from_asr` copies an ASR checkpoint's listener (and, when the source
tokenizers match, its CTC head) into the model.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

import torch

from speech.config import check_non_negative, check_nonempty, check_positive
from speech.data import Batch, Collate, SpeechDataset
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
from speech.metrics import translation_scores
from speech.models.translator import SpeechTranslator, TranslatorConfig
from speech.tasks.asr import ASRTask, ScheduledSampling
from speech.tasks.checkpoint import FORMAT_VERSION, load_checkpoint
from speech.tasks.common import BucketedTask, OptimConfig, TrainerConfig, cmvn_to_dict, training_front_end
from speech.tasks.plots import save_alignment
from speech.text import Tokenizer, tokenizer_to_dict


@dataclass
class STDataConfig:
    """Where the data is and how it is batched.

    Attributes:
        train: Training manifest (every utterance needs a ``translation``).
        dev: Validation manifest.
        target_tokenizer: Tokenizer of the translations (``--field translation``).
        source_tokenizer: Tokenizer of the transcripts for the auxiliary CTC loss; None (or
            a corpus whose transcripts are all empty) turns that loss off. To copy the CTC head
            of an ASR model, use that model's tokenizer.
        cmvn: CMVN statistics file; None skips normalisation. Use the ASR model's when the
            encoder is initialised from it.
        target_lang: Target language code, recorded in the checkpoint (recipes pick the
            manifests and tokenizer by it).
        max_seconds: Padded audio per batch, in seconds.
        max_batch_size: Cap on utterances per batch.
        max_duration: Training utterances longer than this (s) are skipped.
        num_workers: DataLoader worker processes.
    """

    train: str = "data/train.jsonl"
    dev: str = "data/dev.jsonl"
    target_tokenizer: str = "data/target_tokenizer.json"
    source_tokenizer: str | None = "data/tokenizer.json"
    cmvn: str | None = "data/cmvn.json"
    target_lang: str = "fr"
    max_seconds: float = 100.0
    max_batch_size: int | None = None
    max_duration: float | None = None
    num_workers: int = 0

    def __post_init__(self) -> None:
        check_nonempty(self, "train", "dev", "target_tokenizer", "source_tokenizer", "cmvn", "target_lang")
        check_positive(self, "max_seconds", "max_batch_size", "max_duration")
        check_non_negative(self, "num_workers")


@dataclass
class InitConfig:
    """Weights loaded before training starts (a resumed run takes its own checkpoint's instead).

    Attributes:
        encoder_from: ASR checkpoint whose listener (and, when the source tokenizer is the
            same, CTC head) initialises the encoder; None trains from scratch.
    """

    encoder_from: str | None = None

    def __post_init__(self) -> None:
        check_nonempty(self, "encoder_from")


@dataclass
class STConfig:
    """Everything a speech-translation training run reads from its YAML config."""

    data: STDataConfig = field(default_factory=STDataConfig)
    features: LogMelConfig = field(default_factory=LogMelConfig.asr)
    augment: AugmentConfig = field(default_factory=AugmentConfig)  # off unless the YAML enables it
    specaugment: SpecAugmentConfig = field(default_factory=SpecAugmentConfig)
    model: TranslatorConfig = field(default_factory=TranslatorConfig)
    init: InitConfig = field(default_factory=InitConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    trainer: TrainerConfig = field(default_factory=TrainerConfig)
    scheduled_sampling: ScheduledSampling = field(default_factory=ScheduledSampling)
    search: SearchConfig = field(default_factory=lambda: SearchConfig(beam_size=8, max_length_ratio=1.0))


class STTask(BucketedTask):
    """Train a direct speech translator.

    Args:
        config: The run's config.
        target_tokenizer: Translation tokenizer (its vocabulary sizes the decoder).
        source_tokenizer: Transcript tokenizer for the CTC loss, or None (no CTC head).
        cmvn: Global CMVN statistics, or None.
    """

    def __init__(
        self,
        config: STConfig,
        target_tokenizer: Tokenizer,
        source_tokenizer: Tokenizer | None = None,
        cmvn: CMVNStats | None = None,
    ) -> None:
        super().__init__()
        self.config = config
        self.target_tokenizer = target_tokenizer
        self.source_tokenizer = source_tokenizer
        self.model_config = config.model.for_tokenizer(
            target_tokenizer,
            config.features.n_mels,
            source_vocab_size=source_tokenizer.vocab_size if source_tokenizer is not None else 0,
            source_pad_id=source_tokenizer.pad_id if source_tokenizer is not None else 0,
        )
        self.logmel, self.cmvn = training_front_end(config.features, cmvn)
        self.wave_augment = WaveAugment(config.augment, config.features.sample_rate)
        self.specaugment = SpecAugment(config.specaugment)
        self.model = SpeechTranslator(self.model_config)
        self._val_pairs: list[tuple[str, str]] = []  # (reference, hypothesis)

    # Shared -----------------------------------------------------------------------------------
    features = ASRTask.features  # (augmentation +) log-mel + CMVN (+ SpecAugment), as in ASR

    def _step(self, batch: Batch, stage: str):
        feats, frame_lengths = self.features(batch.waveforms, batch.waveform_lengths)
        p = self.config.scheduled_sampling.at(self.global_step) if stage == "train" else 0.0
        out = self.model(
            feats,
            frame_lengths,
            batch.translation,
            batch.translation_lengths,
            source=batch.text,
            source_lengths=batch.text_lengths,
            sampling_probability=p,
        )
        B, sync = len(batch), stage != "train"
        self.log(f"{stage}/loss", out.loss, batch_size=B, prog_bar=True, sync_dist=sync)
        self.log(f"{stage}/attention_loss", out.attention_loss, batch_size=B, sync_dist=sync)
        if self.model.ctc is not None:
            self.log(f"{stage}/ctc_loss", out.ctc_loss, batch_size=B, sync_dist=sync)
        return out, feats, frame_lengths

    def training_step(self, batch: Batch, batch_idx: int) -> torch.Tensor:
        """Attention (+ source CTC) loss of one batch."""
        return self._step(batch, "train")[0].loss

    # Validation -------------------------------------------------------------------------------
    def on_validation_epoch_start(self) -> None:
        """Forget the previous epoch's translations."""
        self._val_pairs = []

    def validation_step(self, batch: Batch, batch_idx: int) -> None:
        """Loss and greedy translations; the first batch's alignment is plotted."""
        out, feats, frame_lengths = self._step(batch, "val")
        greedy = dataclasses.replace(self.config.search, beam_size=1, nbest=1)
        hyps = self.model.decode(feats, frame_lengths, greedy)
        decode = self.target_tokenizer.decode
        refs = [
            decode(batch.translation[i, : batch.translation_lengths[i]].tolist()) for i in range(len(batch))
        ]
        texts = [decode(h[0].tokens) for h in hyps]
        self._val_pairs += list(zip(refs, texts, strict=True))
        if batch_idx == 0 and self.trainer.is_global_zero:
            i = int(batch.translation_lengths.argmax())  # the longest translation shows the alignment best
            n = int(batch.translation_lengths[i]) + 1
            m = int(self.model.listener.output_lengths(frame_lengths[i : i + 1])[0])
            save_alignment(
                out.attention[i, :n, :m].float().cpu(),
                Path(self.trainer.default_root_dir) / "alignments" / f"epoch{self.current_epoch:03d}.png",
                title=f"epoch {self.current_epoch}: {texts[i][:60]}",
            )

    def on_validation_epoch_end(self) -> None:
        """Corpus BLEU and exact-match rate over the whole dev set (gathered from DDP ranks)."""
        pairs = self._val_pairs
        if torch.distributed.is_available() and torch.distributed.is_initialized():
            gathered: list = [None] * torch.distributed.get_world_size()
            torch.distributed.all_gather_object(gathered, pairs)
            pairs = [p for part in gathered for p in part]
        if pairs:
            scores = translation_scores([r for r, _ in pairs], [h for _, h in pairs])
            self.log("val/bleu", scores.bleu, prog_bar=True, rank_zero_only=True)
            self.log("val/exact", scores.exact_match, prog_bar=True, rank_zero_only=True)

    # Checkpoints ------------------------------------------------------------------------------
    def on_save_checkpoint(self, checkpoint: dict) -> None:
        """Store what inference needs next to the weights."""
        source = self.source_tokenizer
        checkpoint["speech"] = {
            "format_version": FORMAT_VERSION,
            "task": "st",
            "model": dataclasses.asdict(self.model_config),
            "features": self.config.features.to_dict(),
            "search": dataclasses.asdict(self.config.search),
            "target_tokenizer": tokenizer_to_dict(self.target_tokenizer),
            "source_tokenizer": tokenizer_to_dict(source) if source is not None else None,
            "target_lang": self.config.data.target_lang,
            "cmvn": cmvn_to_dict(self.cmvn),
        }

    # Data -------------------------------------------------------------------------------------
    def _dataset(self, manifest: str, train: bool) -> SpeechDataset:
        utterances = self._utterances(manifest, train)
        missing = [u.id for u in utterances if u.translation is None]
        if missing:
            raise ConfigError(
                f"{manifest}: utterance '{missing[0]}' has no 'translation' ({len(missing)} in all)"
            )
        return SpeechDataset(
            utterances,
            self.config.features.sample_rate,
            text_tokenizer=self.source_tokenizer if self.model.ctc is not None else None,
            translation_tokenizer=self.target_tokenizer,
        )

    def _collate(self) -> Collate:
        source_pad = self.source_tokenizer.pad_id if self.source_tokenizer is not None else 0
        return Collate(source_pad, self.target_tokenizer.pad_id)


class EncoderInit(NamedTuple):
    """What :func:`init_encoder_from_asr` copied: listener tensors and whether the CTC head came too."""

    listener_tensors: int
    ctc_head: bool
    note: str

    def summary(self) -> str:
        """One line for the training log."""
        ctc = "and the source CTC head" if self.ctc_head else "only"
        return f"{self.listener_tensors} listener tensors {ctc}" + (f" ({self.note})" if self.note else "")


def init_encoder_from_asr(task: STTask, path: str) -> EncoderInit:
    """Copy an ASR checkpoint's listener (and CTC head, if the source tokenizers match) into ``task``.

    Raises:
        SpeechError: Not an ASR checkpoint, or its features or listener sizes differ from the config's.
    """
    ckpt = load_checkpoint(path, task="asr")
    meta = ckpt["speech"]
    if meta["features"] != task.config.features.to_dict():
        raise ConfigError(f"{path}: the ASR model's features differ from this config's 'features'")
    asr_listener = meta["model"]["listener"]
    ours = dataclasses.asdict(task.model_config.listener)
    for key in sorted(set(ours) - {"dropout", "ctc_layer"}):
        if asr_listener.get(key) != ours[key]:
            theirs = asr_listener.get(key)
            raise ConfigError(f"{path}: model.listener.{key} is {ours[key]} here, {theirs} in the ASR model")
    listener = _under(ckpt["state_dict"], "model.listener")
    task.model.listener.load_state_dict(listener)
    ctc_note = _ctc_note(task, meta)
    if not ctc_note:
        task.model.ctc.load_state_dict(_under(ckpt["state_dict"], "model.ctc"))
    notes = [ctc_note] if ctc_note else []
    cmvn = meta["cmvn"]
    if not (
        torch.allclose(task.cmvn.mean.cpu(), torch.tensor(cmvn["mean"]), atol=1e-4)
        and torch.allclose(task.cmvn.std.cpu(), torch.tensor(cmvn["std"]), atol=1e-4)
    ):
        notes.append("the ASR model was trained with other CMVN statistics")
    return EncoderInit(len(listener), not ctc_note, "; ".join(notes))


def _under(state: dict[str, torch.Tensor], prefix: str) -> dict[str, torch.Tensor]:
    """Entries of a state dict under ``prefix.``, with the prefix removed."""
    return {k[len(prefix) + 1 :]: v for k, v in state.items() if k.startswith(prefix + ".")}


def _ctc_note(task: STTask, meta: dict) -> str:
    """Why the ASR CTC head cannot be copied ("" when it can)."""
    if task.model.ctc is None:
        return "no source CTC head here"
    if meta["model"].get("ctc_weight", 0) <= 0:
        return "the ASR model has no CTC head"
    if task.source_tokenizer is None or meta["tokenizer"] != tokenizer_to_dict(task.source_tokenizer):
        return "the source tokenizer differs from the ASR model's"
    if meta["model"]["listener"]["ctc_layer"] != task.model_config.listener.ctc_layer:
        return "the CTC layer differs"
    return ""
