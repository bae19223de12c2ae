"""Pieces every task shares: optimiser and LR schedule, trainer construction, data loaders.

:class:`BucketedTask` is the base of the ASR, ST and TTS modules: AdamW with warm-up and
decay, length-bucketed loaders over JSONL manifests, and the buckets reshuffled every epoch.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path

import lightning as L
import torch
from lightning.pytorch.callbacks import LearningRateMonitor, ModelCheckpoint
from lightning.pytorch.loggers import CSVLogger, TensorBoardLogger
from torch.utils.data import DataLoader

from speech.data import Collate, LengthBucketSampler, SpeechDataset, Utterance, read_manifest
from speech.features import CMVNStats, GlobalCMVN, LogMel, LogMelConfig
from speech.tasks.checkpoint import AtomicCheckpointIO


@dataclass
class OptimConfig:
    """Adam with linear warm-up then exponential decay.

    Attributes:
        lr: Peak learning rate.
        warmup_steps: Steps of linear warm-up from 0 to ``lr``.
        final_lr_ratio: The LR decays exponentially to ``lr * final_lr_ratio`` at the last step.
        weight_decay: Adam(W) weight decay.
        grad_clip: Max gradient norm (0 = no clipping).
    """

    lr: float = 1e-3
    warmup_steps: int = 300
    final_lr_ratio: float = 0.05
    weight_decay: float = 0.0
    grad_clip: float = 5.0


@dataclass
class TrainerConfig:
    """Trainer settings.

    Attributes:
        max_epochs: Epoch limit.
        max_steps: Step limit (-1 = none); also sets the LR schedule's length when given.
        max_minutes: Wall-clock limit in minutes (None = none).
        precision: ``32``, ``bf16-mixed`` or ``16-mixed``; None picks bf16-mixed on GPU, 32 on CPU.
        accelerator: ``auto``, ``cpu`` or ``gpu``.
        devices: Devices (processes) to train on.
        strategy: ``auto`` or ``ddp`` (gloo on CPU, NCCL on GPU).
        seed: Global seed.
        check_val_every_n_epoch: Validation frequency.
        log_every_n_steps: Logging frequency.
        num_threads: Torch CPU threads per process (0 = leave torch's default).
    """

    max_epochs: int = 30
    max_steps: int = -1
    max_minutes: float | None = None
    precision: str | None = None
    accelerator: str = "auto"
    devices: int = 1
    strategy: str = "auto"
    seed: int = 0
    check_val_every_n_epoch: int = 1
    log_every_n_steps: int = 10
    num_threads: int = 0


def build_optimizer(module: L.LightningModule, config: OptimConfig) -> dict:
    """Adam + warm-up/exponential-decay schedule stepped every batch, in Lightning's format."""
    opt = torch.optim.AdamW(module.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    total = max(int(module.trainer.estimated_stepping_batches), config.warmup_steps + 1)
    decay_steps = total - config.warmup_steps
    rate = math.log(config.final_lr_ratio) / decay_steps

    def factor(step: int) -> float:
        if step < config.warmup_steps:
            return (step + 1) / config.warmup_steps
        return math.exp(rate * min(step - config.warmup_steps, decay_steps))

    schedule = torch.optim.lr_scheduler.LambdaLR(opt, factor)
    return {"optimizer": opt, "lr_scheduler": {"scheduler": schedule, "interval": "step"}}


def default_precision(accelerator: str) -> str:
    """bf16-mixed when a GPU will be used, 32 on CPU."""
    gpu = accelerator in ("gpu", "cuda") or (accelerator == "auto" and torch.cuda.is_available())
    return "bf16-mixed" if gpu else "32-true"


def build_trainer(
    config: TrainerConfig, exp_dir: str | os.PathLike, grad_clip: float, monitor: str
) -> L.Trainer:
    """A Trainer with atomic checkpoints (last + best by ``monitor``), TensorBoard and CSV logs."""
    exp_dir = Path(exp_dir)
    if config.num_threads > 0:
        torch.set_num_threads(config.num_threads)
    precision = config.precision or default_precision(config.accelerator)
    checkpoints = ModelCheckpoint(
        dirpath=exp_dir / "checkpoints",
        filename="best",
        monitor=monitor,
        mode="min",
        save_last=True,
        save_top_k=1,
    )
    loggers = [TensorBoardLogger(exp_dir, name="tb", version=""), CSVLogger(exp_dir, name="csv", version="")]
    strategy = config.strategy
    if strategy == "ddp" and not torch.cuda.is_available():
        strategy = L.pytorch.strategies.DDPStrategy(process_group_backend="gloo")
    return L.Trainer(
        max_epochs=config.max_epochs,
        max_steps=config.max_steps,
        max_time={"minutes": config.max_minutes} if config.max_minutes else None,
        precision=precision,
        accelerator=config.accelerator,
        devices=config.devices,
        strategy=strategy,
        gradient_clip_val=grad_clip or None,
        check_val_every_n_epoch=config.check_val_every_n_epoch,
        log_every_n_steps=config.log_every_n_steps,
        callbacks=[checkpoints, LearningRateMonitor(logging_interval="step")],
        logger=loggers,
        plugins=[AtomicCheckpointIO()],
        use_distributed_sampler=False,  # LengthBucketSampler splits batches between ranks itself
        default_root_dir=exp_dir,
        enable_model_summary=True,
    )


def bucketed_loader(
    dataset: SpeechDataset,
    max_seconds: float,
    shuffle: bool,
    seed: int,
    collate: Collate,
    num_workers: int = 0,
    max_batch_size: int | None = None,
) -> DataLoader:
    """A DataLoader over length buckets of at most ``max_seconds`` of padded audio per batch."""
    sampler = LengthBucketSampler(
        dataset.durations(), max_frames=max_seconds, max_batch_size=max_batch_size, shuffle=shuffle, seed=seed
    )
    return DataLoader(
        dataset,
        batch_sampler=sampler,
        collate_fn=collate,
        num_workers=num_workers,
        persistent_workers=num_workers > 0,
    )


def last_checkpoint(exp_dir: str | os.PathLike) -> Path | None:
    """``checkpoints/last.ckpt`` of an experiment when a previous run left one."""
    path = Path(exp_dir) / "checkpoints" / "last.ckpt"
    return path if path.is_file() else None


def set_batch_sampler_epoch(loader, epoch: int) -> None:
    """Call ``set_epoch`` on a DataLoader's batch sampler (Lightning reaches only its ``sampler``)."""
    batch_sampler = getattr(loader, "batch_sampler", None)
    if callable(getattr(batch_sampler, "set_epoch", None)):
        batch_sampler.set_epoch(epoch)


class BucketedTask(L.LightningModule):
    """A LightningModule trained on length buckets of manifest utterances.

    A subclass sets ``self.config`` with ``optim`` (:class:`OptimConfig`), ``trainer.seed`` and
    ``data`` (``train``, ``dev``, ``max_seconds``, ``max_batch_size``, ``max_duration``,
    ``num_workers``), and implements :meth:`_dataset` and :meth:`_collate`.
    """

    def _dataset(self, manifest: str, train: bool) -> SpeechDataset:
        """The dataset of a manifest; :meth:`_utterances` reads it."""
        raise NotImplementedError

    def _collate(self) -> Collate:
        """How a batch is padded."""
        raise NotImplementedError

    def _utterances(self, manifest: str, train: bool) -> list[Utterance]:
        """A manifest's utterances; in training, those longer than ``data.max_duration`` are left out."""
        utterances = read_manifest(manifest)
        limit = self.config.data.max_duration
        return [u for u in utterances if u.duration <= limit] if train and limit else utterances

    def _loader(self, manifest: str, train: bool) -> DataLoader:
        d = self.config.data
        return bucketed_loader(
            self._dataset(manifest, train),
            d.max_seconds,
            train,
            self.config.trainer.seed if train else 0,
            self._collate(),
            d.num_workers,
            d.max_batch_size,
        )

    def train_dataloader(self) -> DataLoader:
        """Length-bucketed, shuffled per epoch, split between DDP ranks."""
        return self._loader(self.config.data.train, True)

    def val_dataloader(self) -> DataLoader:
        """Length-bucketed in sorted order."""
        return self._loader(self.config.data.dev, False)

    def on_train_epoch_start(self) -> None:
        """Reshuffle the length buckets: Lightning only calls ``set_epoch`` on plain samplers."""
        set_batch_sampler_epoch(self.trainer.train_dataloader, self.current_epoch)

    def configure_optimizers(self) -> dict:
        """AdamW with warm-up and exponential decay."""
        return build_optimizer(self, self.config.optim)


def training_front_end(features: LogMelConfig, cmvn: CMVNStats | None) -> tuple[LogMel, GlobalCMVN]:
    """Log-mel and global CMVN of a task (identity statistics when ``cmvn`` is None)."""
    stats = GlobalCMVN.from_stats(cmvn) if cmvn is not None else GlobalCMVN(features.n_mels)
    return LogMel(features), stats


def cmvn_to_dict(cmvn: GlobalCMVN) -> dict[str, list[float]]:
    """A :class:`~speech.features.GlobalCMVN`'s statistics for a checkpoint."""
    return {"mean": cmvn.mean.cpu().tolist(), "std": cmvn.std.cpu().tolist()}
