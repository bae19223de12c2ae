"""Pieces every task shares: optimiser and LR schedule, trainer construction, data loaders.

:class:`BucketedTask` is the base of the ASR, ST and TTS modules: AdamW with warm-up and
decay, length-bucketed loaders over JSONL manifests or tar shard folders (``speech prepare shard``), and
the buckets reshuffled every epoch.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path

import lightning as L
import torch
from lightning.pytorch.callbacks import LearningRateMonitor, ModelCheckpoint
from lightning.pytorch.loggers import TensorBoardLogger
from lightning.pytorch.utilities.exceptions import MisconfigurationException
from torch.utils.data import DataLoader

from speech.config import check_non_negative, check_nonempty, check_positive
from speech.data import (
    Collate,
    LengthBucketSampler,
    ShardDataset,
    SpeechDataset,
    Utterance,
    is_shard_folder,
    read_utterances,
)
from speech.errors import ConfigError, SpeechError
from speech.features import CMVNStats, GlobalCMVN, LogMel, LogMelConfig
from speech.kernels import use_inference_kernels
from speech.tasks.checkpoint import AtomicCheckpointIO, HistoryCSVLogger, KeptModels, ResumeState


@dataclass
class ManifestDataConfig:
    """Where a task's data is and how it is batched: the fields every task on manifests shares.

    Attributes:
        train: Training manifest (JSONL), or a shard folder written by ``speech prepare shard`` (or
            its ``shards.json``), whose tar shards are streamed (:class:`~speech.data.ShardDataset`).
        dev: Validation manifest, or a shard folder.
        cmvn: Feature statistics file (``speech prepare cmvn``); None skips normalisation.
        max_seconds: Padded audio per batch, in seconds.
        max_batch_size: Cap on utterances per batch.
        max_duration: Training utterances longer than this (s) are skipped.
        num_workers: DataLoader worker processes (with shards, each rank needs this many shards at least).
    """

    train: str = "data/train.jsonl"
    dev: str = "data/dev.jsonl"
    cmvn: str | None = "data/cmvn.json"
    max_seconds: float = 100.0
    max_batch_size: int | None = None
    max_duration: float | None = None
    num_workers: int = 0

    def __post_init__(self) -> None:
        check_nonempty(self, "train", "dev", "cmvn")
        check_positive(self, "max_seconds", "max_batch_size", "max_duration")
        check_non_negative(self, "num_workers")


@dataclass
class OptimConfig:
    """Adam with linear warm-up then exponential decay.

    Attributes:
        lr: Peak learning rate.
        warmup_steps: Steps of linear warm-up from 0 to ``lr``.
        final_lr_ratio: The LR decays exponentially to ``lr * final_lr_ratio`` at the last step.
        weight_decay: Adam(W) weight decay.
        grad_clip: Max gradient norm (0 = no clipping).

    Raises:
        speech.config.FieldError: From ``__post_init__`` when a value is out of range.
    """

    lr: float = 1e-3
    warmup_steps: int = 300
    final_lr_ratio: float = 0.05
    weight_decay: float = 0.0
    grad_clip: float = 5.0

    def __post_init__(self) -> None:
        from speech.config import check_non_negative, check_positive, check_range

        check_positive(self, "lr")
        check_non_negative(self, "warmup_steps", "weight_decay", "grad_clip")
        check_range(self, "final_lr_ratio", gt=0, le=1)


@dataclass
class TrainerConfig:
    """Trainer settings.

    Attributes:
        max_epochs: Epoch limit (>= 1); -1 = none, allowed only with a ``max_steps`` limit.
        max_steps: Step limit (-1 = none); also sets the LR schedule's length when given.
        max_minutes: Wall-clock limit in minutes (None = none).
        precision: Lightning's precision: ``32-true``, ``bf16-mixed``, ``16-mixed``, ``bf16-true``,
            ``16-true``, ``64-true``, or the short forms ``32``, ``16``, ``64``, ``bf16`` (as
            numbers or strings), which are stored as the long ones; None picks bf16-mixed on
            GPU, 32-true on CPU.
        accelerator: ``auto``, ``cpu``, ``gpu`` (= ``cuda``) or ``mps``.
        devices: Devices (processes) to train on.
        strategy: ``auto`` or ``ddp`` (gloo on CPU, NCCL on GPU).
        seed: Global seed, in [0, 2^32 - 1].
        check_val_every_n_epoch: Validation frequency.
        log_every_n_steps: Logging frequency.
        num_threads: Torch CPU threads per process (0 = leave torch's default).
        checkpoint_every_n_steps: Also write ``checkpoints/last.ckpt`` every this many steps
            (0 = only at the end of each epoch), so a killed run loses minutes, not an epoch.
        progress_bar: Show Lightning's progress bar and model summary (``speech train --quiet``
            turns both off).
        keep_checkpoints: Keep this many best models (by validation loss) and this many most
            recent ones, one per validated epoch, in ``checkpoints/kept/`` for ``speech average``
            (0 = none).

    Raises:
        speech.config.FieldError: From ``__post_init__`` when a value is out of range or unknown.
    """

    max_epochs: int = 30
    max_steps: int = -1
    max_minutes: float | None = None
    precision: str | int | None = None
    accelerator: str = "auto"
    devices: int = 1
    strategy: str = "auto"
    seed: int = 0
    check_val_every_n_epoch: int = 1
    log_every_n_steps: int = 10
    num_threads: int = 0
    checkpoint_every_n_steps: int = 0
    progress_bar: bool = True
    keep_checkpoints: int = 5

    # Lightning's precision inputs (transformer-engine left out): short forms to the long ones.
    _PRECISIONS = {"32": "32-true", "16": "16-mixed", "64": "64-true", "bf16": "bf16-mixed"}
    _PRECISIONS |= {p: p for p in ("32-true", "16-mixed", "bf16-mixed", "bf16-true", "16-true", "64-true")}

    def __post_init__(self) -> None:
        from speech.config import (
            check_choice,
            check_finite,
            check_non_negative,
            check_positive,
            check_range,
            field_error,
        )

        check_finite(self, "max_steps", "max_epochs")  # ints
        if self.max_steps != -1 and self.max_steps < 1:
            raise field_error(self, "max_steps", f"must be -1 (no limit) or >= 1, got {self.max_steps}")
        if self.max_epochs < 1 and not (self.max_epochs == -1 and self.max_steps >= 1):
            problem = "must be >= 1, or -1 (no limit) with a max_steps limit"
            raise field_error(self, "max_epochs", f"{problem}, got {self.max_epochs}")
        check_positive(self, "max_minutes", "devices", "check_val_every_n_epoch", "log_every_n_steps")
        check_non_negative(
            self, "num_threads", "checkpoint_every_n_steps", "keep_checkpoints"
        )  # 0: torch's default; off
        check_range(self, "seed", ge=0, le=2**32 - 1)
        if self.precision is not None:
            short = str(self.precision) if type(self.precision) is int else self.precision
            if not isinstance(short, str) or short not in self._PRECISIONS:
                problem = f"must be one of {', '.join(self._PRECISIONS)} or null, got {self.precision!r}"
                raise field_error(self, "precision", problem)
            self.precision = self._PRECISIONS[short]
        check_choice(self, "accelerator", ("auto", "cpu", "gpu", "cuda", "mps"))
        check_choice(self, "strategy", ("auto", "ddp"))


def build_optimizer(module: L.LightningModule, config: OptimConfig, epoch_batches: int | None = None) -> dict:
    """Adam + warm-up/exponential-decay schedule stepped every batch, in Lightning's format.

    Args:
        module: The module being trained (its trainer's limits size the schedule).
        config: The optimiser settings.
        epoch_batches: Batches in the first epoch, when the module knows them. Without it the
            schedule is sized with ``trainer.estimated_stepping_batches``, which makes Lightning set
            up and start iterating the training loader before a resumed run's loops are restored
            (see :func:`stepping_batches`).
    """
    opt = torch.optim.AdamW(module.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    trainer = module.trainer
    if epoch_batches is None:
        total = trainer.estimated_stepping_batches
    else:
        total = stepping_batches(trainer, epoch_batches)
    schedule = warmup_decay(opt, config.warmup_steps, config.final_lr_ratio, total)
    return {"optimizer": opt, "lr_scheduler": {"scheduler": schedule, "interval": "step"}}


def warmup_decay(
    optimizer: torch.optim.Optimizer, warmup_steps: int, final_lr_ratio: float, total: int | float
) -> torch.optim.lr_scheduler.LambdaLR:
    """Linear warm-up over ``warmup_steps``, then exponential decay to ``final_lr_ratio`` at ``total``."""
    total = max(int(min(total, 2**62)), warmup_steps + 1)
    decay_steps = total - warmup_steps
    rate = math.log(final_lr_ratio) / decay_steps

    def factor(step: int) -> float:
        if step < warmup_steps:
            return (step + 1) / warmup_steps
        return math.exp(rate * min(step - warmup_steps, decay_steps))

    return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)


def stepping_batches(trainer: L.Trainer, epoch_batches: int) -> int | float:
    """Lightning's ``trainer.estimated_stepping_batches`` for a first epoch of ``epoch_batches`` batches.

    The same number, without the property's side effect: when the training loader is not set up
    yet, Lightning sets it up and creates its iterator on the spot. ``configure_optimizers`` runs
    before a resumed run's loop progress is restored, so that loader is positioned at the first
    batch of epoch 0, and Lightning keeps that iterator when the run resumes inside epoch 0 (it
    sets the loader up again only for another epoch): the epoch's first batches are trained
    twice. Batch limits (``limit_train_batches``) are not applied.
    """
    if trainer.max_epochs == -1:
        return float("inf") if trainer.max_steps == -1 else trainer.max_steps
    steps = math.ceil(epoch_batches / trainer.accumulate_grad_batches) * max(trainer.max_epochs, 1)
    return min(steps, trainer.max_steps) if trainer.max_steps != -1 else steps


def default_precision(accelerator: str) -> str:
    """bf16-mixed when a GPU will be used, 32 on CPU."""
    gpu = accelerator in ("gpu", "cuda") or (accelerator == "auto" and torch.cuda.is_available())
    return "bf16-mixed" if gpu else "32-true"


def build_trainer(
    config: TrainerConfig,
    exp_dir: str | os.PathLike,
    grad_clip: float,
    monitor: str,
    resume_step: int | None = None,
    find_unused_parameters: bool = False,
) -> L.Trainer:
    """A Trainer with atomic checkpoints (last + best by ``monitor``), TensorBoard and CSV logs.

    With ``config.keep_checkpoints`` set, :class:`~speech.tasks.checkpoint.KeptModels` also keeps
    that many best and most recent models in ``checkpoints/kept/`` for ``speech average``.

    ``checkpoints/last.ckpt`` is written at every epoch's end, every
    ``config.checkpoint_every_n_steps`` steps, and when training stops early (see
    :class:`~speech.tasks.checkpoint.ResumeState`). The loaders are asked for again every epoch,
    since the number of length buckets changes from one epoch to the next.

    Args:
        config: Trainer settings.
        exp_dir: Experiment folder (``checkpoints/``, ``tb/``, ``csv/``).
        grad_clip: Max gradient norm (0 = none).
        monitor: Metric that picks ``best.ckpt`` (lower is better).
        resume_step: Global step of the checkpoint a resumed run starts from; ``csv/metrics.csv``
            keeps the rows logged before it. None = a fresh run with a fresh history.
        find_unused_parameters: DDP looks for parameters a backward pass leaves out (a GAN's
            two networks, each stepped on its own loss).

    Raises:
        ConfigError: Lightning rejects a setting.
    """
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
        save_on_train_epoch_end=True,  # after the epoch's validation, once its batches are all done
        enable_version_counter=False,  # last.ckpt is rewritten (also by ResumeState), never last-v1.ckpt
    )
    resume = ResumeState(exp_dir / "checkpoints" / "last.ckpt", config.checkpoint_every_n_steps)
    callbacks = [checkpoints, resume, LearningRateMonitor(logging_interval="step")]
    if config.keep_checkpoints:
        callbacks.append(KeptModels(exp_dir / "checkpoints" / "kept", monitor, config.keep_checkpoints))
    loggers = [TensorBoardLogger(exp_dir, name="tb", version=""), HistoryCSVLogger(exp_dir, resume_step)]
    strategy = config.strategy
    if strategy == "ddp" and (find_unused_parameters or not torch.cuda.is_available()):
        strategy = L.pytorch.strategies.DDPStrategy(
            process_group_backend=None if torch.cuda.is_available() else "gloo",
            find_unused_parameters=find_unused_parameters,
        )
    try:
        return L.Trainer(
            max_epochs=config.max_epochs,
            max_steps=config.max_steps,
            max_time={"minutes": config.max_minutes} if config.max_minutes is not None else None,
            precision=precision,
            accelerator=config.accelerator,
            devices=config.devices,
            strategy=strategy,
            gradient_clip_val=grad_clip or None,
            check_val_every_n_epoch=config.check_val_every_n_epoch,
            log_every_n_steps=config.log_every_n_steps,
            callbacks=callbacks,
            logger=loggers,
            plugins=[AtomicCheckpointIO()],
            use_distributed_sampler=False,  # LengthBucketSampler splits batches between ranks itself
            reload_dataloaders_every_n_epochs=1,  # re-reads len(): the bucket count changes every epoch
            default_root_dir=exp_dir,
            enable_model_summary=config.progress_bar,
            enable_progress_bar=config.progress_bar,
        )
    except (MisconfigurationException, ValueError, TypeError) as e:
        reason = str(e).strip().splitlines()[0] if str(e).strip() else e.__class__.__name__
        raise ConfigError(f"trainer settings rejected: {reason}") from None


def bucketed_loader(
    dataset: SpeechDataset,
    max_seconds: float,
    shuffle: bool,
    seed: int,
    collate: Collate,
    num_workers: int = 0,
    max_batch_size: int | None = None,
) -> DataLoader:
    """A DataLoader over length buckets of at most ``max_seconds`` of padded audio per batch.

    It has its own generator (worker seeds), so starting an epoch draws nothing from torch's
    global generator and a resumed run draws the same random numbers as an uninterrupted one.
    """
    sampler = LengthBucketSampler(
        dataset.durations(), max_frames=max_seconds, max_batch_size=max_batch_size, shuffle=shuffle, seed=seed
    )
    return ResumableLoader(
        dataset,
        batch_sampler=sampler,
        collate_fn=collate,
        num_workers=num_workers,
        persistent_workers=num_workers > 0,
        generator=torch.Generator().manual_seed(seed),
    )


def sharded_loader(dataset: ShardDataset, collate: Collate, num_workers: int = 0) -> DataLoader:
    """A DataLoader over the batches of a :class:`~speech.data.ShardDataset` (``batch_size=None``).

    Its workers are started again every epoch (not persistent): each takes a copy of the dataset,
    and so of the epoch that :func:`position_loader` selected, when the epoch's iteration starts.
    """
    return ResumableLoader(
        dataset,
        batch_size=None,
        collate_fn=collate,
        num_workers=num_workers,
        generator=torch.Generator().manual_seed(dataset.seed),
    )


class ResumableLoader(DataLoader):
    """A DataLoader that can start an epoch at any batch: over a :class:`LengthBucketSampler` or shards.

    :func:`position_loader` sets the epoch and the batches to skip from the trainer's restored
    progress, before Lightning iterates. The ``state_dict`` / ``load_state_dict`` pair marks the
    loader as resumable for Lightning; the state it stores is informative only.
    """

    def state_dict(self) -> dict[str, int]:
        """The epoch and skip the sampler (or sharded dataset) was last set to."""
        source = _position_source(self)
        return {"epoch": source.epoch, "skip": source.skip}

    def load_state_dict(self, state_dict: dict[str, int]) -> None:
        """Nothing to do: :func:`position_loader` derives the position from the trainer's progress."""


def _position_source(loader: DataLoader) -> LengthBucketSampler | ShardDataset | None:
    """What holds a loader's epoch and skip: its bucket sampler, or its sharded dataset."""
    for source in (getattr(loader, "batch_sampler", None), getattr(loader, "dataset", None)):
        if callable(getattr(source, "set_position", None)):
            return source
    return None


def position_loader(loader: DataLoader, epoch: int, skip: int = 0) -> None:
    """Select the epoch (and batches to skip) of a bucketed or sharded loader, and reseed its generator.

    Lightning calls ``set_epoch`` only on a loader's ``sampler``, never on its ``batch_sampler``
    (and a sharded loader has neither).
    """
    source = _position_source(loader)
    if source is not None:
        source.set_position(epoch, skip)
    if loader.generator is not None:
        loader.generator.manual_seed(getattr(source, "seed", 0) + epoch)


def trainer_position(trainer: L.Trainer) -> tuple[int, int]:
    """The epoch a trainer is about to run and how many of its batches a resumed run already trained.

    Read when Lightning asks for the training loader: after it restored a checkpoint's loops,
    before it iterates, as long as nothing asks for the loader earlier (:func:`stepping_batches`;
    :meth:`BucketedTask.on_train_start` checks it).
    """
    fit = trainer.fit_loop
    skip = fit.epoch_loop.batch_progress.current.processed if fit.restarting else 0
    return trainer.current_epoch, skip


def last_checkpoint(exp_dir: str | os.PathLike) -> Path | None:
    """``checkpoints/last.ckpt`` of an experiment when a previous run left one."""
    path = Path(exp_dir) / "checkpoints" / "last.ckpt"
    return path if path.is_file() else None


class BucketedTask(L.LightningModule):
    """A LightningModule trained on length buckets of manifest utterances.

    A subclass sets ``self.config`` with ``optim`` (:class:`OptimConfig`), ``trainer.seed`` and
    ``data`` (``train``, ``dev``, ``max_seconds``, ``max_batch_size``, ``max_duration``,
    ``num_workers``), and implements :meth:`_dataset` and :meth:`_collate`. The loaders are
    built once and handed to Lightning again every epoch, set to that epoch.
    """

    def _dataset(self, manifest: str, train: bool) -> SpeechDataset:
        """The dataset of a manifest; :meth:`_utterances` reads it."""
        raise NotImplementedError

    def _collate(self) -> Collate:
        """How a batch is padded."""
        raise NotImplementedError

    def _utterances(self, manifest: str, train: bool) -> list[Utterance]:
        """A manifest's utterances; in training, those longer than ``data.max_duration`` are left out.

        For a shard folder they are read from its index; their ``audio`` names their shard's tar file.
        """
        utterances = read_utterances(manifest)
        limit = self.config.data.max_duration
        if not (train and limit):
            return utterances
        kept = [u for u in utterances if u.duration <= limit]
        if not kept:
            shortest = min(u.duration for u in utterances)
            raise SpeechError(
                f"{manifest}: no utterance is at most data.max_duration={limit:g} s long "
                f"(the shortest is {shortest:.2f} s)"
            )
        return kept

    def _loader(self, manifest: str, train: bool) -> DataLoader:
        loaders = self.__dict__.setdefault("_bucketed_loaders", {})
        if train not in loaders and is_shard_folder(manifest):
            d = self.config.data
            dataset = ShardDataset(
                manifest,
                self._dataset(manifest, train),  # checks the utterances; makes the samples
                d.max_seconds,
                d.max_batch_size,
                shuffle=train,
                seed=self.config.trainer.seed if train else 0,
                num_workers=d.num_workers,
                max_duration=d.max_duration if train else None,
            )
            loaders[train] = sharded_loader(dataset, self._collate(), d.num_workers)
        if train not in loaders:
            d = self.config.data
            loaders[train] = bucketed_loader(
                self._dataset(manifest, train),
                d.max_seconds,
                train,
                self.config.trainer.seed if train else 0,
                self._collate(),
                d.num_workers,
                d.max_batch_size,
            )
        return loaders[train]

    def train_dataloader(self) -> DataLoader:
        """Length-bucketed, shuffled per epoch, split between DDP ranks, set to the epoch about to run."""
        loader = self._loader(self.config.data.train, True)
        if getattr(self, "_trainer", None) is not None:
            position_loader(loader, *trainer_position(self.trainer))
        return loader

    def val_dataloader(self) -> DataLoader:
        """Length-bucketed in sorted order."""
        return self._loader(self.config.data.dev, False)

    def configure_optimizers(self) -> dict:
        """AdamW with warm-up and exponential decay, sized from the batch count of epoch 0.

        The count is read from the training loader without handing it to Lightning, which sets it
        up only once a resumed run's loop progress is restored (:func:`stepping_batches`).
        """
        loader = self._loader(self.config.data.train, True)
        position_loader(loader, 0)
        return build_optimizer(self, self.config.optim, len(loader))

    def on_fit_start(self) -> None:
        """Select the kernels of the training device once (:func:`speech.kernels.use_inference_kernels`).

        They speed up what runs without gradients on CPU (the log-mel front end, validation
        decoding); with gradients every module computes the reference maths.
        """
        use_inference_kernels(self, self.device)

    def on_train_start(self) -> None:
        """Check that the training loader was positioned from the trainer's restored progress.

        Raises:
            RuntimeError: The loader was set up at another position (before a checkpoint's loops were
                restored, say), so a resumed run would train batches again or leave some out.
        """
        loader = self.__dict__.get("_bucketed_loaders", {}).get(True)
        sampler = _position_source(loader) if loader is not None else None
        if not isinstance(sampler, LengthBucketSampler | ShardDataset):
            return
        expected = trainer_position(self.trainer)
        if (sampler.epoch, sampler.skip) != expected:
            raise RuntimeError(
                f"the training loader starts at epoch {sampler.epoch}, batch {sampler.skip}, but training "
                f"resumes at epoch {expected[0]}, batch {expected[1]}: it was set up before the "
                "checkpoint's loop progress was restored"
            )


def training_front_end(features: LogMelConfig, cmvn: CMVNStats | None) -> tuple[LogMel, GlobalCMVN]:
    """Log-mel and global CMVN of a task (identity statistics when ``cmvn`` is None)."""
    stats = GlobalCMVN.from_stats(cmvn) if cmvn is not None else GlobalCMVN(features.n_mels)
    return LogMel(features), stats


def cmvn_to_dict(cmvn: GlobalCMVN) -> dict[str, list[float]]:
    """A :class:`~speech.features.GlobalCMVN`'s statistics for a checkpoint."""
    return {"mean": cmvn.mean.cpu().tolist(), "std": cmvn.std.cpu().tolist()}


class SummedMetrics:
    """Validation statistics summed over batches, then over DDP ranks: the one way tasks reduce metrics.

    Every task accumulates additive statistics (error counts, sentence statistics, sums of
    alignment scores) in one float64 vector and turns the rank-summed vector into its metrics at
    the epoch's end, so a metric over the whole dev set never depends on how it was split.

    Args:
        size: Number of statistics.
    """

    def __init__(self, size: int) -> None:
        self.values = torch.zeros(size, dtype=torch.float64)

    def reset(self, device: torch.device) -> None:
        """Zero the statistics (at a validation epoch's start)."""
        self.values = torch.zeros_like(self.values, device=device)

    def add(self, values) -> None:
        """Add one batch's statistics (a sequence of numbers or a tensor of ``size``)."""
        self.values += torch.as_tensor(values, dtype=torch.float64, device=self.values.device)

    def reduce(self, trainer: L.Trainer) -> torch.Tensor:
        """The statistics summed over every rank (on CPU)."""
        return trainer.strategy.reduce(self.values, reduce_op="sum").cpu()
