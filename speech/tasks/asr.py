"""The ASR LightningModule: a thin wrapper around :class:`~speech.models.las.ListenAttendSpell`.

Features are computed on the training device inside the module (waveform augmentation in
training, log-mel, global CMVN, SpecAugment in training). One shared step computes the loss;
validation also decodes greedily and reports CER/WER, and saves an attention-alignment picture
each epoch.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path

import jiwer
import torch

from speech.config import check_non_negative, check_nonempty, check_positive, check_probability, check_range
from speech.data import Batch, Collate, SpeechDataset
from speech.decoding import SearchConfig
from speech.features import (
    AugmentConfig,
    CMVNStats,
    LogMelConfig,
    SpecAugment,
    SpecAugmentConfig,
    WaveAugment,
)
from speech.models.las import LASConfig, ListenAttendSpell
from speech.tasks.checkpoint import FORMAT_VERSION
from speech.tasks.common import BucketedTask, OptimConfig, TrainerConfig, cmvn_to_dict, training_front_end
from speech.tasks.plots import save_alignment
from speech.text import Tokenizer, tokenizer_to_dict


@dataclass
class ASRDataConfig:
    """Where the data is and how it is batched.

    Attributes:
        train: Training manifest.
        dev: Validation manifest.
        tokenizer: Tokenizer file (``speech prepare tokenizer``).
        cmvn: CMVN statistics file (``speech prepare cmvn``); None skips normalisation.
        max_seconds: Padded audio per batch, in seconds.
        max_batch_size: Cap on utterances per batch.
        max_duration: Training utterances longer than this (s) are skipped.
        num_workers: DataLoader worker processes.
    """

    train: str = "data/train.jsonl"
    dev: str = "data/dev.jsonl"
    tokenizer: str = "data/tokenizer.json"
    cmvn: str | None = "data/cmvn.json"
    max_seconds: float = 100.0
    max_batch_size: int | None = None
    max_duration: float | None = None
    num_workers: int = 0

    def __post_init__(self) -> None:
        check_nonempty(self, "train", "dev", "tokenizer", "cmvn")
        check_positive(self, "max_seconds", "max_batch_size", "max_duration")
        check_non_negative(self, "num_workers")


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
class ASRConfig:
    """Everything an ASR training run reads from its YAML config."""

    data: ASRDataConfig = field(default_factory=ASRDataConfig)
    features: LogMelConfig = field(default_factory=LogMelConfig.asr)
    augment: AugmentConfig = field(default_factory=AugmentConfig)  # off unless the YAML enables it
    specaugment: SpecAugmentConfig = field(default_factory=SpecAugmentConfig)
    model: LASConfig = field(default_factory=LASConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    trainer: TrainerConfig = field(default_factory=TrainerConfig)
    scheduled_sampling: ScheduledSampling = field(default_factory=ScheduledSampling)
    search: SearchConfig = field(default_factory=lambda: SearchConfig(beam_size=8, max_length_ratio=1.0))


class ASRTask(BucketedTask):
    """Train a LAS recognizer.

    Args:
        config: The run's config.
        tokenizer: Transcript tokenizer (its vocabulary sizes the model).
        cmvn: Global CMVN statistics, or None.
    """

    def __init__(self, config: ASRConfig, tokenizer: Tokenizer, cmvn: CMVNStats | None = None) -> None:
        super().__init__()
        self.config = config
        self.tokenizer = tokenizer
        self.model_config = model_config = config.model.for_tokenizer(tokenizer, config.features.n_mels)
        self.logmel, self.cmvn = training_front_end(config.features, cmvn)
        self.wave_augment = WaveAugment(config.augment, config.features.sample_rate)
        self.specaugment = SpecAugment(config.specaugment)
        self.model = ListenAttendSpell(model_config)
        self._val_counts = torch.zeros(4, dtype=torch.float64)  # word errors, words, char errors, chars

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

    def _step(self, batch: Batch, stage: str):
        feats, frame_lengths = self.features(batch.waveforms, batch.waveform_lengths)
        p = self.config.scheduled_sampling.at(self.global_step) if stage == "train" else 0.0
        out = self.model(feats, frame_lengths, batch.text, batch.text_lengths, sampling_probability=p)
        B = len(batch)
        self.log(f"{stage}/loss", out.loss, batch_size=B, prog_bar=True, sync_dist=stage != "train")
        self.log(f"{stage}/attention_loss", out.attention_loss, batch_size=B, sync_dist=stage != "train")
        self.log(f"{stage}/ctc_loss", out.ctc_loss, batch_size=B, sync_dist=stage != "train")
        return out, feats, frame_lengths

    def training_step(self, batch: Batch, batch_idx: int) -> torch.Tensor:
        """Joint CTC-attention loss of one batch."""
        return self._step(batch, "train")[0].loss

    # Validation -------------------------------------------------------------------------------
    def on_validation_epoch_start(self) -> None:
        """Reset the error counts."""
        self._val_counts = torch.zeros(4, dtype=torch.float64, device=self.device)

    def validation_step(self, batch: Batch, batch_idx: int) -> None:
        """Loss, greedy decoding and error counts; the first batch's alignment is plotted."""
        out, feats, frame_lengths = self._step(batch, "val")
        greedy = dataclasses.replace(self.config.search, beam_size=1, nbest=1)
        hyps = self.model.decode(feats, frame_lengths, greedy)
        refs = [
            self.tokenizer.decode(batch.text[i, : batch.text_lengths[i]].tolist()) for i in range(len(batch))
        ]
        texts = [self.tokenizer.decode(h[0].tokens) for h in hyps]
        self._val_counts += torch.tensor(_error_counts(refs, texts), dtype=torch.float64, device=self.device)
        if batch_idx == 0 and self.trainer.is_global_zero:
            i = int(batch.text_lengths.argmax())  # the longest transcript shows the alignment best
            n = int(batch.text_lengths[i]) + 1
            m = int(self.model.listener.output_lengths(frame_lengths[i : i + 1])[0])
            save_alignment(
                out.attention[i, :n, :m].float().cpu(),
                Path(self.trainer.default_root_dir) / "alignments" / f"epoch{self.current_epoch:03d}.png",
                title=f"epoch {self.current_epoch}: {texts[i][:60]}",
            )

    def on_validation_epoch_end(self) -> None:
        """CER and WER over the whole dev set (summed over DDP ranks)."""
        counts = self.trainer.strategy.reduce(self._val_counts, reduce_op="sum")
        if counts[1] > 0:
            self.log("val/wer", float(counts[0] / counts[1]), prog_bar=True, rank_zero_only=True)
            self.log("val/cer", float(counts[2] / counts[3].clamp(min=1)), prog_bar=True, rank_zero_only=True)

    # Checkpoints ------------------------------------------------------------------------------
    def on_save_checkpoint(self, checkpoint: dict) -> None:
        """Store what inference needs next to the weights."""
        checkpoint["speech"] = {
            "format_version": FORMAT_VERSION,
            "task": "asr",
            "model": dataclasses.asdict(self.model_config),
            "features": self.config.features.to_dict(),
            "search": dataclasses.asdict(self.config.search),
            "tokenizer": tokenizer_to_dict(self.tokenizer),
            "cmvn": cmvn_to_dict(self.cmvn),
        }

    # Data -------------------------------------------------------------------------------------
    def _dataset(self, manifest: str, train: bool) -> SpeechDataset:
        utterances = self._utterances(manifest, train)
        return SpeechDataset(utterances, self.config.features.sample_rate, text_tokenizer=self.tokenizer)

    def _collate(self) -> Collate:
        return Collate(self.tokenizer.pad_id)


def _error_counts(refs: list[str], hyps: list[str]) -> tuple[int, int, int, int]:
    """(word errors, reference words, char errors, reference chars)."""
    hyps = [h if h else "" for h in hyps]
    w = jiwer.process_words(refs, hyps)
    c = jiwer.process_characters(refs, hyps)
    return (
        w.substitutions + w.deletions + w.insertions,
        w.hits + w.substitutions + w.deletions,
        c.substitutions + c.deletions + c.insertions,
        c.hits + c.substitutions + c.deletions,
    )
