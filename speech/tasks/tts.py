"""The TTS LightningModule: a thin wrapper around :class:`~speech.models.tacotron2.Tacotron2`.

Targets are log-mel frames computed on the training device and normalised with global CMVN.
One shared step computes the losses. Every epoch, validation logs the alignment health of the
teacher-forced attention over the dev set (focus rate, diagonality, monotonicity), synthesizes
the first dev batch free-running (how many items stop by themselves, and their alignment
health), and saves both alignments as PNGs. Training logs the batch's diagonality too, so
the step where attention is learned can be read from the logs.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path

import torch

from speech.config import check_non_negative, check_nonempty, check_range
from speech.data import Batch, Collate, SpeechDataset, read_utterances
from speech.errors import ConfigError
from speech.features import CMVNStats, LogMelConfig
from speech.metadata import TTSMeta, to_dict
from speech.metrics.alignment import alignment_health
from speech.models.tacotron2 import (
    InferenceConfig,
    Tacotron2,
    Tacotron2Config,
    Tacotron2LossConfig,
    tacotron2_loss,
)
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
from speech.text import Tokenizer, load_tokenizer, tokenizer_to_dict, word_vocabulary
from speech.text.frontend import TextFrontEndConfig, text_front_end


@dataclass
class TTSDataConfig(ManifestDataConfig):
    """Where the data is and how it is batched (see :class:`~speech.tasks.common.ManifestDataConfig`).

    Attributes:
        tokenizer: Symbol tokenizer file (``speech prepare tokenizer``, built with the same front end).
        multi_speaker: Learn a speaker embedding per ``speaker`` of the training manifest.
        synth_items: Dev items synthesized free-running each validation.

    ``cmvn`` holds mel statistics (``speech prepare cmvn --preset tts``); ``max_seconds`` is 60 by default.
    """

    max_seconds: float = 60.0
    tokenizer: str = "data/tokenizer.json"
    multi_speaker: bool = False
    synth_items: int = 8

    def __post_init__(self) -> None:
        super().__post_init__()
        check_nonempty(self, "tokenizer")
        check_non_negative(self, "synth_items")


@dataclass
class TTSConfig:
    """Everything a TTS training run reads from its YAML config.

    Attributes:
        alignment_band: Half-width of the diagonal band of the diagonality metric, as a
            fraction of the input length.
    """

    data: TTSDataConfig = field(default_factory=TTSDataConfig)
    features: LogMelConfig = field(default_factory=LogMelConfig.tts)
    text: TextFrontEndConfig = field(default_factory=TextFrontEndConfig)
    model: Tacotron2Config = field(default_factory=Tacotron2Config)
    loss: Tacotron2LossConfig = field(default_factory=Tacotron2LossConfig)
    inference: InferenceConfig = field(default_factory=InferenceConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    trainer: TrainerConfig = field(default_factory=TrainerConfig)
    alignment_band: float = 0.2

    def __post_init__(self) -> None:
        check_range(self, "alignment_band", gt=0, le=1)

    def inputs(self) -> list[str | None]:
        """Files the run reads (checked before anything is written)."""
        d = self.data
        return [d.train, d.dev, d.tokenizer, d.cmvn]


class TTSTask(BucketedTask):
    """Train a Tacotron2 synthesizer.

    Args:
        config: The run's config.
        tokenizer: Symbol tokenizer (its vocabulary sizes the embedding).
        cmvn: Mel statistics, or None.
        speakers: Speaker names of a multi-speaker model (index = embedding row), or None.
    """

    def __init__(
        self,
        config: TTSConfig,
        tokenizer: Tokenizer,
        cmvn: CMVNStats | None = None,
        speakers: list[str] | None = None,
    ) -> None:
        super().__init__()
        self.config = config
        self.tokenizer = tokenizer
        self.speakers = list(speakers or [])
        self.model_config = dataclasses.replace(
            config.model,
            n_symbols=tokenizer.vocab_size,
            pad_id=tokenizer.pad_id,
            n_mels=config.features.n_mels,
            n_speakers=len(self.speakers),
        )
        self.logmel, self.cmvn = training_front_end(config.features, cmvn)
        self.model = Tacotron2(self.model_config)
        self.front_end = text_front_end(config.text)
        self._val_sums = SummedMetrics(4)  # items, focus, diagonality, monotonicity
        self._word_vocabulary: list[str] | None = None

    @classmethod
    def from_config(cls, config: TTSConfig, resume: bool) -> TTSTask:
        """The task with its tokenizer, statistics and speakers read from the files the config names."""
        d = config.data
        speakers = None
        if d.multi_speaker:
            speakers = sorted({u.speaker or "" for u in read_utterances(d.train)})
            if speakers == [""]:
                raise ConfigError(f"{d.train}: data.multi_speaker is set but no utterance names a speaker")
        cmvn = CMVNStats.load(d.cmvn) if d.cmvn else None
        return cls(config, load_tokenizer(d.tokenizer), cmvn, speakers)

    # Shared -----------------------------------------------------------------------------------
    def targets(self, batch: Batch) -> tuple[torch.Tensor, torch.Tensor]:
        """Normalised log-mel frames (B, T, F) and frame lengths (B,), in fp32."""
        feats, frame_lengths = self.logmel(batch.waveforms, batch.waveform_lengths)
        return self.cmvn(feats, frame_lengths), frame_lengths

    def _step(self, batch: Batch, stage: str):
        mels, mel_lengths = self.targets(batch)
        out = self.model(batch.text, batch.text_lengths, mels, mel_lengths, batch.speakers)
        loss = tacotron2_loss(out, mels, mel_lengths, batch.text_lengths, self.config.loss, self.global_step)
        B, sync = len(batch), stage != "train"
        self.log(f"{stage}/loss", loss.loss, batch_size=B, prog_bar=True, sync_dist=sync)
        for name in ("mel_loss", "postnet_loss", "stop_loss", "guided_loss"):
            self.log(f"{stage}/{name}", getattr(loss, name), batch_size=B, sync_dist=sync)
        return loss, out

    def training_step(self, batch: Batch, batch_idx: int) -> torch.Tensor:
        """Mel, stop and guided-attention losses of one batch; logs the batch's diagonality."""
        loss, out = self._step(batch, "train")
        if self.global_step % self.trainer.log_every_n_steps == 0:
            health = alignment_health(
                out.attention, batch.text_lengths, out.step_lengths, self.config.alignment_band
            )
            self.log("train/diagonality", health.diagonality.mean(), batch_size=len(batch))
            self.log(
                "train/guided_weight",
                self.config.loss.guided_weight_at(self.global_step),
                batch_size=len(batch),
            )
        return loss.loss

    # Validation -------------------------------------------------------------------------------
    def on_validation_epoch_start(self) -> None:
        """Reset the alignment sums."""
        self._val_sums.reset(self.device)

    def validation_step(self, batch: Batch, batch_idx: int) -> None:
        """Losses and teacher-forced alignment health; the first batch is also synthesized."""
        _, out = self._step(batch, "val")
        health = alignment_health(
            out.attention, batch.text_lengths, out.step_lengths, self.config.alignment_band
        )
        self._val_sums.add([float(len(batch)), *(float(h.sum()) for h in health)])
        if batch_idx == 0 and self.trainer.is_global_zero:
            self._synthesize_first(batch, out)

    def _synthesize_first(self, batch: Batch, out) -> None:
        n = min(self.config.data.synth_items, len(batch))
        speakers = batch.speakers[:n] if batch.speakers is not None else None
        synth = self.model.synthesize(batch.text[:n], batch.text_lengths[:n], speakers, self.config.inference)
        health = alignment_health(
            synth.attention, batch.text_lengths[:n], synth.steps, self.config.alignment_band
        )
        self.log("val/stop_rate", synth.stopped.float().mean(), batch_size=n, rank_zero_only=True)
        self.log("val/synth_diagonality", health.diagonality.mean(), batch_size=n, rank_zero_only=True)
        folder = Path(self.trainer.default_root_dir) / "alignments"
        i = int(batch.text_lengths.argmax())
        S, N = int(batch.text_lengths[i]), int(out.step_lengths[i])
        save_alignment(
            out.attention[i, :N, :S].float().cpu(),
            folder / f"epoch{self.current_epoch:03d}.png",
            title=f"epoch {self.current_epoch}, teacher-forced: {batch.ids[i]}",
        )
        save_alignment(
            synth.attention[0, : int(synth.steps[0]), : int(batch.text_lengths[0])].float().cpu(),
            folder / f"epoch{self.current_epoch:03d}_synth.png",
            title=f"epoch {self.current_epoch}, synthesized: {batch.ids[0]}",
        )

    def on_validation_epoch_end(self) -> None:
        """Mean alignment health over the dev set (summed over DDP ranks)."""
        sums = self._val_sums.reduce(self.trainer)
        if sums[0] > 0:
            for i, name in enumerate(("focus_rate", "diagonality", "monotonicity"), start=1):
                self.log(
                    f"val/{name}",
                    float(sums[i] / sums[0]),
                    prog_bar=name == "diagonality",
                    rank_zero_only=True,
                )

    # Checkpoints ------------------------------------------------------------------------------
    def on_save_checkpoint(self, checkpoint: dict) -> None:
        """Store what inference needs next to the weights."""
        meta = TTSMeta(
            task="tts",
            model=self.model_config,
            features=self.config.features,
            text=self.config.text,
            inference=self.config.inference,
            tokenizer=tokenizer_to_dict(self.tokenizer),
            cmvn=cmvn_to_dict(self.cmvn),
            speakers=self.speakers,
            word_vocabulary=self.word_vocabulary(),
        )
        checkpoint["speech"] = to_dict(meta)

    def word_vocabulary(self) -> list[str]:
        """The sorted distinct words of the training texts after the text front end's normaliser.

        Stored in checkpoints as ``"word_vocabulary"``, so that synthesis can warn about texts of
        words the model never heard (:class:`~speech.inference.synthesizer.UnseenWordsWarning`).
        Read from ``data.train`` once (the utterances training keeps: ``data.max_duration`` applies).
        """
        if self._word_vocabulary is None:
            utterances = self._utterances(self.config.data.train, train=True)
            self._word_vocabulary = word_vocabulary(self.front_end.normalize(u.text) for u in utterances)
        return self._word_vocabulary

    # Data -------------------------------------------------------------------------------------
    def _dataset(self, manifest: str, train: bool) -> SpeechDataset:
        utterances = self._utterances(manifest, train)
        self.front_end.prepare(u.text for u in utterances)  # phonemes in one espeak-ng call
        return SpeechDataset(
            utterances,
            self.config.features.sample_rate,
            text_tokenizer=self.tokenizer,
            text_transform=self.front_end,
            speaker_ids={s: i for i, s in enumerate(self.speakers)} if self.speakers else None,
        )

    def _collate(self) -> Collate:
        return Collate(self.tokenizer.pad_id)
