"""The vocoder LightningModule: a Vocos-style generator trained against HiFi-GAN/UnivNet discriminators.

Each training step reads a batch of whole utterances, computes their log-mel frames on the
training device, and cuts one segment of ``data.segment_frames`` frames from each, at a random
frame drawn from ``(seed, epoch, utterance)`` (so a resumed run cuts the same segments). The
generator turns the segment's frames into the waveform between their centres, which is
compared with the same samples of the recording. With ``data.tts_model`` set, the input frames
are the Tacotron2 model's teacher-forced predictions instead of the recording's own (fine-tuning
on the mels the vocoder will hear at synthesis time).

Two optimisers, stepped by hand (Lightning's manual optimisation): the discriminators on their
least-squares loss, then the generator on mel L1 + feature matching + its least-squares loss.
Before ``loss.adversarial_start`` steps, only the generator trains, on the mel loss alone
(Vocos' and HiFi-GAN fine-tuning recipes warm up the same way). ``trainer.global_step`` counts
generator steps. Validation synthesizes whole dev utterances and logs their mel L1 (``val/loss``,
which picks ``best.ckpt``), and writes the first one as ``samples/epochNNN.wav``.
"""

from __future__ import annotations

import dataclasses
import math
import random
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch.utils.data import DataLoader

from speech.config import check_non_negative, check_nonempty, check_positive, check_range
from speech.data import LengthBucketSampler, Utterance, is_shard_folder
from speech.data.dataset import pad_sequences
from speech.errors import ConfigError
from speech.features import LogMel, LogMelConfig
from speech.features._masks import valid_mask
from speech.inference.vocoder import features_difference
from speech.metadata import VocoderMeta, to_dict
from speech.models.discriminators import (
    DiscriminatorConfig,
    Discriminators,
    discriminator_loss,
    feature_matching_loss,
    generator_loss,
)
from speech.models.vocoder import VocosConfig, VocosGenerator
from speech.tasks.common import (
    BucketedTask,
    ManifestDataConfig,
    ResumableLoader,
    SummedMetrics,
    TrainerConfig,
    bucketed_loader,
    position_loader,
    warmup_decay,
)


@dataclass
class VocoderDataConfig(ManifestDataConfig):
    """Where the audio is and how segments are cut (see :class:`~speech.tasks.common.ManifestDataConfig`).

    Attributes:
        batch_size: Segments per training batch.
        segment_frames: Frames per training segment (``(segment_frames - 1) * hop`` samples).
        val_items: Dev utterances synthesized at each validation (None = all).
        tts_model: A Tacotron2 checkpoint whose teacher-forced mels replace the recordings' own
            as the generator's input (fine-tuning); None trains on the recordings' mels.

    ``cmvn`` is not used (the vocoder reads natural-log mels); ``max_seconds`` batches validation.
    """

    cmvn: str | None = None
    max_seconds: float = 60.0
    batch_size: int = 16
    segment_frames: int = 32
    val_items: int | None = None
    tts_model: str | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        check_positive(self, "batch_size", "val_items")
        check_range(self, "segment_frames", ge=2)


@dataclass
class VocoderLossConfig:
    """Weights of the generator's losses (HiFi-GAN's: 45, 2, 1).

    Attributes:
        mel_weight: L1 between the log-mels of the generated and the real segment.
        feature_weight: Feature matching.
        adversarial_weight: Least-squares adversarial loss.
        adversarial_start: Generator steps trained on the mel loss alone before the
            discriminators join.
        mel_f_max: Top of the mel loss's filterbank in Hz (None = Nyquist: the whole band is
            judged, also above the features' own ``f_max``).
    """

    mel_weight: float = 45.0
    feature_weight: float = 2.0
    adversarial_weight: float = 1.0
    adversarial_start: int = 0
    mel_f_max: float | None = None

    def __post_init__(self) -> None:
        check_non_negative(self, "mel_weight", "feature_weight", "adversarial_weight", "adversarial_start")


@dataclass
class GANOptimConfig:
    """AdamW for both networks (HiFi-GAN's betas), warm-up then exponential decay.

    Attributes:
        lr: Peak learning rate of the generator.
        discriminator_lr: Peak learning rate of the discriminators (None = ``lr``).
        betas: Adam's betas.
        warmup_steps: Linear warm-up steps.
        final_lr_ratio: The rate decays exponentially to ``lr * final_lr_ratio`` at the last step.
        weight_decay: AdamW weight decay.
        grad_clip: Max gradient norm of each network (0 = none).
    """

    lr: float = 2e-4
    discriminator_lr: float | None = None
    betas: tuple[float, float] = (0.8, 0.99)
    warmup_steps: int = 0
    final_lr_ratio: float = 0.1
    weight_decay: float = 0.01
    grad_clip: float = 100.0

    def __post_init__(self) -> None:
        self.betas = tuple(self.betas)
        check_positive(self, "lr", "discriminator_lr")
        check_non_negative(self, "warmup_steps", "weight_decay", "grad_clip")
        check_range(self, "final_lr_ratio", gt=0, le=1)
        if len(self.betas) != 2 or not all(0 <= b < 1 for b in self.betas):
            from speech.config import field_error

            raise field_error(self, "betas", f"must be two numbers in [0, 1), got {list(self.betas)}")


@dataclass
class VocoderConfig:
    """Everything a vocoder training run reads from its YAML config."""

    data: VocoderDataConfig = field(default_factory=VocoderDataConfig)
    features: LogMelConfig = field(default_factory=LogMelConfig.tts)
    model: VocosConfig = field(default_factory=VocosConfig)
    discriminator: DiscriminatorConfig = field(default_factory=DiscriminatorConfig)
    loss: VocoderLossConfig = field(default_factory=VocoderLossConfig)
    optim: GANOptimConfig = field(default_factory=GANOptimConfig)
    trainer: TrainerConfig = field(default_factory=TrainerConfig)
    init_from: str | None = None
    """A vocoder checkpoint (training or exported) of the same features and generator size whose
    weights start the run (its discriminators too, when it has them); the optimisers start afresh.
    With ``data.tts_model``, this fine-tunes a vocoder on teacher-forced mels."""

    #: The optimisers are stepped by hand, so the trainer clips no gradient itself.
    automatic_optimization = False
    #: ``model.ckpt`` holds the last step's weights, as HiFi-GAN and Vocos ship theirs: once the
    #: discriminators join, the dev mel L1 rises a little while the audio gets better, so the lowest
    #: one (``checkpoints/best.ckpt``, still written) would pick a model from before them.
    export_last = True

    def __post_init__(self) -> None:
        check_nonempty(self, "init_from")

    def inputs(self) -> list[str | None]:
        """Files the run reads (checked before anything is written)."""
        d = self.data
        return [d.train, d.dev, d.tts_model, self.init_from]


@dataclass
class VocoderBatch:
    """Whole utterances and the first frame of each one's training segment.

    Attributes:
        ids: Utterance ids.
        waveforms: Zero-padded waveforms (B, T_samples).
        lengths: Valid samples (B,).
        offsets: First frame of each segment (B,) (0 in validation).
        text: Padded token ids for teacher-forced mels (B, U), or None.
        text_lengths: (B,) or None.
    """

    ids: list[str]
    waveforms: torch.Tensor
    lengths: torch.Tensor
    offsets: torch.Tensor
    text: torch.Tensor | None = None
    text_lengths: torch.Tensor | None = None

    def __len__(self) -> int:
        return len(self.ids)


class SegmentDataset(torch.utils.data.Dataset):
    """Utterances of a manifest with a segment offset drawn per ``(seed, epoch, index)``.

    Items are indexed by ``(index, epoch)`` pairs (as :class:`EpochSampler` yields them) or by a
    plain index (offset 0).

    Args:
        utterances: Manifest entries.
        features: The front end (sample rate and hop).
        segment_frames: Frames per segment.
        seed: Base seed of the offsets.
        encode: Text to token ids, for teacher-forced mels; None reads no text.
    """

    def __init__(
        self,
        utterances: Sequence[Utterance],
        features: LogMelConfig,
        segment_frames: int,
        seed: int = 0,
        encode=None,
    ) -> None:
        self.utterances = list(utterances)
        self.features = features
        self.segment_frames = segment_frames
        self.seed = seed
        self.encode = encode

    def __len__(self) -> int:
        return len(self.utterances)

    def durations(self) -> list[float]:
        """Duration of every utterance in seconds (from the manifest)."""
        return [u.duration for u in self.utterances]

    def __getitem__(self, key):
        from speech.audio import load

        index, epoch = key if isinstance(key, tuple) else (key, None)
        utt = self.utterances[index]
        waveform = load(utt.audio, self.features.sample_rate)
        offset = 0
        if epoch is not None:
            frames = self.features.num_frames(len(waveform))
            rng = random.Random(f"{self.seed}:{epoch}:{index}")
            offset = rng.randint(0, max(frames - self.segment_frames, 0))
        text = torch.tensor(self.encode(utt.text), dtype=torch.long) if self.encode is not None else None
        return utt.id, waveform, offset, text


def collate_segments(items) -> VocoderBatch:
    """Pad the waveforms (and token ids) of :class:`SegmentDataset` items into a :class:`VocoderBatch`."""
    waveforms, lengths = pad_sequences([w for _, w, _, _ in items])
    batch = VocoderBatch(
        [i for i, _, _, _ in items], waveforms, lengths, torch.tensor([o for _, _, o, _ in items])
    )
    if items[0][3] is not None:
        batch.text, batch.text_lengths = pad_sequences([t for _, _, _, t in items])
    return batch


class EpochSampler(LengthBucketSampler):
    """Shuffled batches of ``batch_size`` items, each index paired with the epoch: ``(index, epoch)``."""

    def __init__(self, size: int, batch_size: int, seed: int) -> None:
        super().__init__([1.0] * size, max_frames=batch_size, shuffle=True, seed=seed)

    def __iter__(self):
        return ([(i, self.epoch) for i in batch] for batch in super().__iter__())


class VocoderTask(BucketedTask):
    """Train a Vocos-style GAN vocoder.

    Args:
        config: The run's config.
        teacher: A Tacotron2 :class:`~speech.inference.synthesizer.Synthesizer` whose
            teacher-forced mels are the generator's input, or None.
    """

    def __init__(self, config: VocoderConfig, teacher=None) -> None:
        super().__init__()
        self.automatic_optimization = False
        self.config = config
        self.model_config = dataclasses.replace(config.model, n_mels=config.features.n_mels)
        self.generator = VocosGenerator(self.model_config, config.features)
        self.discriminators = Discriminators(config.discriminator)
        self.logmel = LogMel(config.features)
        self.loss_mel = LogMel(dataclasses.replace(config.features, f_max=config.loss.mel_f_max))
        self.teacher = [teacher] if teacher is not None else []  # a list keeps it out of the state dict
        self._val_sums = SummedMetrics(2)  # frames, summed mel L1 over frames

    @classmethod
    def from_config(cls, config: VocoderConfig, resume: bool) -> VocoderTask:
        """The task, with its teacher (``data.tts_model``) and its initial weights (``init_from``)."""
        teacher = None
        if config.data.tts_model:
            from speech.inference.synthesizer import Synthesizer

            teacher = Synthesizer.from_checkpoint(config.data.tts_model)
            if teacher.features != config.features:
                raise ConfigError(
                    f"{config.data.tts_model}: its mel features differ from this config's "
                    f"({features_difference(teacher.features, config.features)})"
                )
        task = cls(config, teacher)
        if config.init_from and not resume:
            task.init_from(config.init_from)
        return task

    def init_from(self, path: str) -> None:
        """Start from the weights of a vocoder checkpoint of the same features and generator size.

        Raises:
            SpeechError: Not a vocoder, other features or sizes, or weights that do not fit.
        """
        from speech.inference.metadata import CheckpointMeta

        meta = CheckpointMeta(path, "vocoder")
        if meta.info.features != self.config.features:
            difference = features_difference(meta.info.features, self.config.features)
            raise ConfigError(f"{path}: its mel features differ from this config's ({difference})")
        if meta.info.model != self.model_config:
            raise ConfigError(f"{path}: its generator ({meta.info.model}) differs from this config's 'model'")
        meta.load_weights(self.generator, "generator")
        if any(k.startswith("discriminators.") for k in meta.state_dict):
            meta.load_weights(self.discriminators, "discriminators")

    # Data -------------------------------------------------------------------------------------
    def _segments(self, manifest: str, train: bool) -> SegmentDataset:
        if is_shard_folder(manifest):  # SegmentDataset reads random windows of every file each epoch
            raise ConfigError(
                f"{manifest}: the vocoder task reads a JSONL manifest, not tar shards "
                f"(give data.{'train' if train else 'dev'} the manifest the shards were written from)"
            )
        utterances = self._utterances(manifest, train)
        if not train and self.config.data.val_items:
            utterances = utterances[: self.config.data.val_items]
        encode = None
        if self.teacher:
            teacher = self.teacher[0]
            teacher.front_end.prepare(u.text for u in utterances)
            encode = teacher.encode
        d = self.config.data
        return SegmentDataset(
            utterances, self.config.features, d.segment_frames, self.config.trainer.seed, encode
        )

    def _loader(self, manifest: str, train: bool) -> DataLoader:
        loaders = self.__dict__.setdefault("_bucketed_loaders", {})
        if train not in loaders:
            d, seed = self.config.data, self.config.trainer.seed
            dataset = self._segments(manifest, train)
            if train:
                loaders[train] = ResumableLoader(
                    dataset,
                    batch_sampler=EpochSampler(len(dataset), d.batch_size, seed),
                    collate_fn=collate_segments,
                    num_workers=d.num_workers,
                    persistent_workers=d.num_workers > 0,
                    generator=torch.Generator().manual_seed(seed),
                )
            else:
                loaders[train] = bucketed_loader(
                    dataset, d.max_seconds, False, 0, collate_segments, d.num_workers
                )
        return loaders[train]

    def transfer_batch_to_device(self, batch, device: torch.device, dataloader_idx: int):
        """Move every tensor of a :class:`VocoderBatch`."""
        if isinstance(batch, VocoderBatch):
            moved = {f.name: getattr(batch, f.name) for f in dataclasses.fields(batch)}
            for name, value in moved.items():
                if isinstance(value, torch.Tensor):
                    moved[name] = value.to(device)
            return VocoderBatch(**moved)
        return super().transfer_batch_to_device(batch, device, dataloader_idx)

    # Inputs -----------------------------------------------------------------------------------
    def input_mels(self, batch: VocoderBatch) -> tuple[torch.Tensor, torch.Tensor]:
        """The generator's input for whole utterances: log-mels (B, T, F) and frame lengths (B,).

        The recordings' own, or the teacher's teacher-forced prediction (CMVN undone), fp32.
        """
        mels, frame_lengths = self.logmel(batch.waveforms, batch.lengths)
        if not self.teacher:
            return mels, frame_lengths
        teacher = self.teacher[0]
        teacher.cmvn.to(self.device)
        with torch.no_grad():
            normalised = teacher.cmvn(mels, frame_lengths)
            out = teacher.model.to(self.device)(batch.text, batch.text_lengths, normalised, frame_lengths)
            predicted = out.mel_postnet[:, : mels.shape[1]].float() * teacher.cmvn.std + teacher.cmvn.mean
        padded = ~valid_mask(frame_lengths, mels.shape[1])[..., None]  # silence, as the recordings' mels
        return predicted.masked_fill(padded, math.log(self.config.features.log_floor)), frame_lengths

    def segments(self, batch: VocoderBatch) -> tuple[torch.Tensor, torch.Tensor]:
        """Each utterance's training segment: input frames (B, S, F) and real samples (B, (S - 1) * hop)."""
        mels, _ = self.input_mels(batch)
        S, hop = self.config.data.segment_frames, self.config.features.hop_length
        B, T, _ = mels.shape
        if T < S:  # every utterance is shorter than a segment: pad with silence frames
            floor = math.log(self.config.features.log_floor)
            mels = torch.nn.functional.pad(mels, (0, 0, 0, S - T), value=floor)
        need = (batch.offsets.max().item() + S - 1) * hop
        waveforms = torch.nn.functional.pad(batch.waveforms, (0, max(need - batch.waveforms.shape[1], 0)))
        frames = batch.offsets[:, None] + torch.arange(S, device=mels.device)  # (B, S)
        inputs = mels.gather(1, frames[..., None].expand(-1, -1, mels.shape[2]))
        samples = batch.offsets[:, None] * hop + torch.arange((S - 1) * hop, device=mels.device)
        return inputs, waveforms.gather(1, samples)

    # Training ---------------------------------------------------------------------------------
    def loss_features(self, waveforms: torch.Tensor) -> torch.Tensor:
        """Log-mels (B, T, F) of the mel loss's filterbank, in float32, with finite gradients everywhere.

        :func:`speech.features.log_mel` takes the square root of the power spectrum, whose gradient
        is infinite at an exactly silent bin; a generator that learns the recordings' digital
        silence would get NaN gradients. The magnitude here is the complex ``abs`` (gradient 0 at 0).
        """
        c, m = self.loss_mel.config, self.loss_mel
        with torch.autocast(device_type=waveforms.device.type, enabled=False):
            spec = torch.stft(
                waveforms.float(),
                c.n_fft,
                c.hop_length,
                c.win_length,
                m.window,
                center=True,
                pad_mode="constant",
                return_complex=True,
            ).abs()
            spec = spec.square() if c.power == 2.0 else spec
            return torch.matmul(spec.transpose(1, 2), m.mel_fbank).clamp(min=c.log_floor).log()

    def mel_loss(self, generated: torch.Tensor, real: torch.Tensor) -> torch.Tensor:
        """L1 between the log-mels (of the loss's filterbank) of two waveform batches."""
        return (self.loss_features(generated) - self.loss_features(real)).abs().mean()

    def training_step(self, batch: VocoderBatch, batch_idx: int) -> None:
        """One discriminator step (once adversarial training has started), then one generator step."""
        c = self.config.loss
        opt_g, opt_d = self.optimizers()
        sched_g, sched_d = self.lr_schedulers()
        inputs, real = self.segments(batch)
        fake = self.generator(inputs).waveforms
        adversarial = self.global_step >= c.adversarial_start
        B = len(batch)
        if adversarial:
            self.toggle_optimizer(opt_d)
            real_scores, _ = self.discriminators(real)
            fake_scores, _ = self.discriminators(fake.detach())
            loss_d = discriminator_loss(real_scores, fake_scores)
            self.manual_backward(loss_d)
            self._step(opt_d, count=False)
            self.untoggle_optimizer(opt_d)
            self.log("train/d_loss", loss_d, batch_size=B, prog_bar=True)
        with warnings.catch_warnings():  # before adversarial training, opt_d has not stepped yet
            warnings.filterwarnings("ignore", message="Detected call of `lr_scheduler.step()`")
            sched_d.step()  # on the generator's clock, so that both rates decay together

        self.toggle_optimizer(opt_g)
        mel = self.mel_loss(fake, real)
        loss_g = c.mel_weight * mel
        if adversarial:
            with torch.no_grad():
                _, real_features = self.discriminators(real)
            fake_scores, fake_features = self.discriminators(fake)
            adv = generator_loss(fake_scores)
            fm = feature_matching_loss(real_features, fake_features)
            loss_g = loss_g + c.adversarial_weight * adv + c.feature_weight * fm
            self.log("train/adv_loss", adv, batch_size=B)
            self.log("train/fm_loss", fm, batch_size=B)
        self.manual_backward(loss_g)
        self._step(opt_g, count=True)
        self.untoggle_optimizer(opt_g)
        sched_g.step()
        self.log("train/mel_loss", mel, batch_size=B, prog_bar=True)
        self.log("train/g_loss", loss_g, batch_size=B)

    def _step(self, optimizer, count: bool) -> None:
        """Clip and step one optimiser. Only the generator's steps count as the trainer's global step."""
        if self.config.optim.grad_clip > 0:
            self.clip_gradients(
                optimizer, gradient_clip_val=self.config.optim.grad_clip, gradient_clip_algorithm="norm"
            )
        if not count:  # Lightning counts every manual optimizer.step(); keep the count to one per batch
            optimizer._on_before_step = optimizer._on_after_step = _nothing
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)

    def configure_optimizers(self):
        """AdamW for the generator and for the discriminators, each with warm-up and decay."""
        o = self.config.optim
        loader = self._loader(self.config.data.train, True)
        position_loader(loader, 0)
        from speech.tasks.common import stepping_batches

        total = stepping_batches(self.trainer, len(loader))
        opt_g = torch.optim.AdamW(
            self.generator.parameters(), o.lr, betas=o.betas, weight_decay=o.weight_decay
        )
        opt_d = torch.optim.AdamW(
            self.discriminators.parameters(),
            o.discriminator_lr or o.lr,
            betas=o.betas,
            weight_decay=o.weight_decay,
        )
        schedules = [warmup_decay(opt, o.warmup_steps, o.final_lr_ratio, total) for opt in (opt_g, opt_d)]
        return [opt_g, opt_d], [{"scheduler": s, "interval": "step"} for s in schedules]

    # Validation -------------------------------------------------------------------------------
    def on_validation_epoch_start(self) -> None:
        """Reset the sums."""
        self._val_sums.reset(self.device)

    def validation_step(self, batch: VocoderBatch, batch_idx: int) -> None:
        """Mel L1 of whole dev utterances synthesized from their mels; the first one is saved."""
        mels, frame_lengths = self.input_mels(batch)
        out = self.generator(mels, frame_lengths)
        generated, _ = self.loss_mel(out.waveforms, out.lengths)
        real, _ = self.loss_mel(batch.waveforms[:, : out.waveforms.shape[1]], out.lengths)
        mask = valid_mask(frame_lengths, generated.shape[1])[..., None]
        l1 = ((generated - real).abs() * mask).mean(dim=2).sum()
        self._val_sums.add([float(frame_lengths.sum()), float(l1)])
        if batch_idx == 0 and self.trainer.is_global_zero and not self.trainer.sanity_checking:
            from speech.audio import save

            folder = Path(self.trainer.default_root_dir) / "samples"
            folder.mkdir(parents=True, exist_ok=True)
            wav = out.waveforms[0, : int(out.lengths[0])].float().cpu()
            save(folder / f"epoch{self.current_epoch:03d}.wav", wav, self.config.features.sample_rate)

    def on_validation_epoch_end(self) -> None:
        """Mean mel L1 per frame over the dev set (summed over DDP ranks)."""
        sums = self._val_sums.reduce(self.trainer)
        if sums[0] > 0:
            self.log("val/loss", float(sums[1] / sums[0]), prog_bar=True, rank_zero_only=True)

    # Checkpoints ------------------------------------------------------------------------------
    def on_save_checkpoint(self, checkpoint: dict) -> None:
        """Store what inference needs next to the weights."""
        meta = VocoderMeta(task="vocoder", model=self.model_config, features=self.config.features)
        checkpoint["speech"] = to_dict(meta)


def _nothing() -> None:
    pass
