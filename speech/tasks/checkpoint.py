"""Training checkpoints: atomic, weights-only reads, and resume that continues exactly where it stopped.

A training checkpoint is Lightning's dict plus a ``"speech"`` entry (task name, model,
feature and search configs, the tokenizer and the CMVN statistics as plain data). An
exported model (``model.ckpt``) keeps only ``"speech"`` and the model weights. The
lightning-free reader lives in :mod:`speech.checkpoint`; it is re-exported here.

:class:`ResumeState` makes a resumed run continue as if it had never stopped: it keeps the
random number generators' states in the checkpoint, writes ``last.ckpt`` when training stops
(at a step or time limit, on SIGTERM) and every ``checkpoint_every_n_steps`` steps, and hands
Lightning a loop position it restarts from without repeating an epoch's end or shifting the
logged step. :class:`HistoryCSVLogger` keeps the metric history of the runs before.
"""

from __future__ import annotations

import csv
import math
import os
import random
from pathlib import Path
from typing import Any

import lightning as L
import numpy as np
import torch
from lightning.fabric.plugins.io.torch_io import TorchCheckpointIO
from lightning.pytorch.loggers import CSVLogger
from lightning.pytorch.loggers.csv_logs import ExperimentWriter
from lightning.pytorch.loggers.logger import rank_zero_experiment
from lightning.pytorch.utilities.exceptions import SIGTERMException

from speech.checkpoint import _TASK_NAMES, FORMAT_VERSION, load_checkpoint
from speech.io import atomic_path, atomic_write

__all__ = [
    "FORMAT_VERSION",
    "_TASK_NAMES",
    "AtomicCheckpointIO",
    "HistoryCSVLogger",
    "KeptModels",
    "ResumeState",
    "export_model",
    "load_checkpoint",
]


class AtomicCheckpointIO(TorchCheckpointIO):
    """Lightning checkpoint I/O: atomic writes, and reads that are weights-only whatever the environment says.

    Lightning's resume (``trainer.fit(ckpt_path=...)``) reads through this plugin. Passing
    ``weights_only=True`` explicitly to :func:`torch.load` overrides
    ``TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD``, so a crafted checkpoint cannot run code.
    """

    def save_checkpoint(
        self, checkpoint: dict[str, Any], path: str | os.PathLike, storage_options=None
    ) -> None:
        """Save ``checkpoint`` at ``path`` without ever leaving a partial file there."""
        with atomic_path(path) as tmp:
            torch.save(checkpoint, tmp)

    def load_checkpoint(
        self, path: str | os.PathLike, map_location=None, weights_only: bool | None = None
    ) -> dict[str, Any]:
        """Load ``path`` with ``torch.load(..., weights_only=True)``; ``weights_only`` is ignored."""
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"Checkpoint file not found: {path}")
        with open(path, "rb") as f:
            return torch.load(f, map_location=map_location or "cpu", weights_only=True)


TRAINING_ONLY = ("discriminators.",)
"""Weights that only training uses (a GAN's discriminators): left out of exported models."""


def export_model(
    checkpoint: str | os.PathLike, out: str | os.PathLike, training: dict[str, Any] | None = None
) -> None:
    """Keep only the metadata and the weights of a training checkpoint (atomically).

    Weights under :data:`TRAINING_ONLY` prefixes are left out.

    Args:
        checkpoint: The training checkpoint.
        out: The exported model file.
        training: How training ended (:func:`speech.checkpoint.training_summary`'s fields), stored
            as the model's ``"training"`` entry.
    """
    ckpt = load_checkpoint(checkpoint)
    state = {k: v for k, v in ckpt["state_dict"].items() if not k.startswith(TRAINING_ONLY)}
    slim = {"speech": ckpt["speech"], "state_dict": state}
    if training is not None:
        slim["training"] = dict(training)
    with atomic_path(out) as tmp:
        torch.save(slim, tmp)


class KeptModels(L.Callback):
    """Keep the ``keep`` best models by a validation metric and the ``keep`` most recent, for averaging.

    At the end of every training epoch whose validation logged ``monitor``, rank zero writes
    the model as an exported model plus a ``"kept"`` entry (step, epoch, metric name and value)
    to ``kept/epochNNN-stepNNNNNNN.ckpt``, atomically, then deletes every kept file that is
    neither among the ``keep`` lowest values nor the ``keep`` highest steps.
    :func:`speech.average.average_models` averages them (``speech average``). The files are
    the folder's own state: a resumed run finds them there, and files it did not write are
    left alone.

    Args:
        folder: The folder of kept models (``EXP/checkpoints/kept``).
        monitor: The validation metric (lower is better).
        keep: How many of each kind to keep (at least 1).
    """

    def __init__(self, folder: str | os.PathLike, monitor: str, keep: int) -> None:
        self.folder = Path(folder)
        self.monitor = monitor
        self.keep = keep
        self._validated = False

    def on_validation_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        """Note that this epoch was validated (the sanity check does not count)."""
        if not trainer.sanity_checking:
            self._validated = True

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        """Write this epoch's model when it was validated, then prune."""
        validated, self._validated = self._validated, False
        value = trainer.callback_metrics.get(self.monitor)
        if not validated or value is None or not trainer.is_global_zero:
            return
        value = float(value)
        meta: dict[str, Any] = {}
        pl_module.on_save_checkpoint(meta)
        state = {
            k: v.detach().cpu().clone()
            for k, v in pl_module.state_dict().items()
            if not k.startswith(TRAINING_ONLY)
        }
        step, epoch = int(trainer.global_step), int(trainer.current_epoch)
        kept = {
            "step": step,
            "epoch": epoch,
            "metric": self.monitor,
            "value": value if math.isfinite(value) else None,
        }
        path = self.folder / f"epoch{epoch:03d}-step{step:07d}.ckpt"
        self.folder.mkdir(parents=True, exist_ok=True)
        with atomic_path(path) as tmp:
            torch.save({"speech": meta["speech"], "state_dict": state, "kept": kept}, tmp)
        self._prune()

    def _prune(self) -> None:
        from speech.average import kept_info

        models = []
        for p in self.folder.glob("epoch*-step*.ckpt"):
            try:
                models.append(kept_info(p, torch.load(p, map_location="cpu", weights_only=True)))
            except Exception:  # noqa: BLE001 - not ours, or unreadable: never deleted
                continue
        scored = sorted((m for m in models if m.value is not None), key=lambda m: (m.value, -m.step))
        recent = sorted(models, key=lambda m: -m.step)
        wanted = {m.path for m in scored[: self.keep]} | {m.path for m in recent[: self.keep]}
        for m in models:
            if m.path not in wanted:
                m.path.unlink(missing_ok=True)


class ResumeState(L.Callback):
    """Everything exact resume needs that Lightning leaves out.

    * The states of torch's (CPU and CUDA), Python's and NumPy's generators, saved with every
      checkpoint and restored when training starts again.
    * ``last.ckpt`` written when training stops before an epoch's end (step or time limit),
      when it is stopped by SIGTERM (one process only: under DDP the step checkpoints cover it),
      and every ``every_n_steps`` steps.
    * The loop position of a loaded checkpoint normalised (:func:`restart_position`).
    * The logged step of a run resumed at an epoch's start kept in line with the steps trained.
      With a step limit Lightning always restarts its loops from a checkpoint's counters; when
      they say "after a batch" (``restarted_on_last``) and the epoch is at batch 0, the
      validation check of batch -1 fires, so Lightning runs one iteration that trains nothing
      (it skips the validation it believes done) and yet counts a step for the loggers: every
      later step would be logged one too high.

    Args:
        last: Path of ``last.ckpt``.
        every_n_steps: Also write ``last`` every this many steps (0 = not between epochs).
    """

    def __init__(self, last: str | os.PathLike, every_n_steps: int = 0) -> None:
        self.last = Path(last)
        self.every_n_steps = every_n_steps
        self._saved_step: int | None = None
        self._rng: dict[str, Any] | None = None
        self._resumed = False
        self._logged_steps: int | None = None

    def state_dict(self) -> dict[str, Any]:
        """The generators' states at the moment the checkpoint is written."""
        return {"rng": rng_states()}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Keep the generators' states until training starts (after the sanity check)."""
        self._rng = state_dict.get("rng")

    def on_load_checkpoint(self, trainer: L.Trainer, pl_module: L.LightningModule, checkpoint: dict) -> None:
        """Normalise the loop position before Lightning restores its loops from it."""
        loops = checkpoint.get("loops", {}).get("fit_loop")
        if isinstance(loops, dict):
            restart_position(loops)
        self._resumed = True

    def on_save_checkpoint(self, trainer: L.Trainer, pl_module: L.LightningModule, checkpoint: dict) -> None:
        """Remember the step saved, and flush the loggers so the metric history matches the checkpoint."""
        self._saved_step = trainer.global_step
        for logger in trainer.loggers:
            logger.save()

    def on_train_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        """Restore the generators of a resumed run, and note the step count its loggers resume from."""
        if self._rng is not None:
            set_rng_states(self._rng)
            self._rng = None
        if self._resumed and trainer.fit_loop.epoch_loop.restarted_on_last:
            self._logged_steps = trainer.fit_loop.epoch_loop._batches_that_stepped

    def on_train_batch_start(self, trainer: L.Trainer, pl_module: L.LightningModule, *args: Any) -> None:
        """Undo a step counted before a resumed run's first batch (see the class): none was trained."""
        if self._logged_steps is not None:
            trainer.fit_loop.epoch_loop._batches_that_stepped = self._logged_steps
            self._logged_steps = None

    def on_train_batch_end(self, trainer: L.Trainer, pl_module: L.LightningModule, *args: Any) -> None:
        """Write ``last`` every ``every_n_steps`` steps (an epoch's last batch is saved at its end)."""
        step = trainer.global_step
        if (
            self.every_n_steps > 0
            and step % self.every_n_steps == 0
            and step != self._saved_step
            and not trainer.fit_loop.epoch_loop.batch_progress.is_last_batch
        ):
            trainer.save_checkpoint(self.last, weights_only=False)  # a full, resumable checkpoint

    def on_train_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        """Write ``last`` when training stopped after the last checkpoint (a step or time limit)."""
        if trainer.global_step > 0 and trainer.global_step != self._saved_step:
            trainer.save_checkpoint(self.last, weights_only=False)  # a full, resumable checkpoint

    def on_exception(
        self, trainer: L.Trainer, pl_module: L.LightningModule, exception: BaseException
    ) -> None:
        """On SIGTERM between two training batches, write ``last`` so that a rerun resumes there."""
        if (
            isinstance(exception, SIGTERMException)
            and trainer.world_size == 1
            and trainer.training
            and not trainer.sanity_checking
            and trainer.global_step > 0
            and trainer.global_step != self._saved_step
        ):
            trainer.save_checkpoint(self.last, weights_only=False)  # a full, resumable checkpoint


class HistoryCSVLogger(CSVLogger):
    """Lightning's CSV logger (``csv/metrics.csv``), except that a resumed run keeps the history.

    Lightning deletes an existing ``metrics.csv``. Here a resumed run keeps every row logged
    before the step it resumes from and drops the later ones (the run repeats those steps); a
    fresh run (``resume_step`` None) starts a fresh file.

    Args:
        save_dir: The experiment folder.
        resume_step: Global step of the checkpoint the run resumes from, or None.
    """

    def __init__(self, save_dir: str | os.PathLike, resume_step: int | None = None) -> None:
        super().__init__(save_dir, name="csv", version="")
        self.resume_step = resume_step

    @property
    @rank_zero_experiment
    def experiment(self) -> ExperimentWriter:
        """The writer, created on first use (rank 0 only)."""
        if self._experiment is None:
            self._fs.makedirs(self.root_dir, exist_ok=True)
            self._experiment = _HistoryWriter(self.log_dir, self.resume_step)
        return self._experiment


class _HistoryWriter(ExperimentWriter):
    """A writer that trims an earlier ``metrics.csv`` to ``resume_step`` instead of deleting it."""

    def __init__(self, log_dir: str, resume_step: int | None) -> None:
        self._resume_step = resume_step
        super().__init__(log_dir)

    def _check_log_dir_exists(self) -> None:
        path = Path(self.metrics_file_path)
        if not path.is_file():
            return
        if self._resume_step is None:
            path.unlink()  # a fresh run: the rows of a run whose checkpoints are gone mean nothing
            return
        with open(path, newline="", encoding="utf-8") as f:
            reader = csv.DictReader(f)
            keys = list(reader.fieldnames or [])
            rows = [row for row in reader if _row_step(row) < self._resume_step]
        with atomic_write(path) as f:
            writer = csv.DictWriter(f, fieldnames=keys)
            writer.writeheader()
            writer.writerows(rows)
        self.metrics_keys = keys  # later rows are appended under the same header


def _row_step(row: dict[str, str]) -> float:
    try:
        return float(row.get("step") or "-inf")
    except ValueError:
        return float("-inf")


def restart_position(fit_loop: dict[str, Any]) -> None:
    """Rewrite a checkpoint's fit-loop progress, in place, into a state Lightning restarts exactly.

    Lightning 2.6 restores two positions well: between two batches of an unfinished epoch, and
    inside a batch saved from ``on_train_batch_end``. Two others go wrong, and are mapped onto
    the first or onto a clean epoch boundary:

    * saved in ``on_train_epoch_end`` (the default ``last.ckpt``): with a step limit Lightning
      runs that epoch's end again and logs every later step one too high. The epoch is marked
      completed and the next one starts afresh.
    * saved after training stopped mid-epoch (a step or time limit): Lightning has counted the
      unfinished epoch as done, so the rest of it would be skipped. The epoch is marked unfinished
      and resumes at its next batch.

    Args:
        fit_loop: ``checkpoint["loops"]["fit_loop"]``.
    """
    epochs = fit_loop.get("epoch_progress")
    batches = fit_loop.get("epoch_loop.batch_progress")
    if not isinstance(epochs, dict) or not isinstance(batches, dict):
        return
    batch = batches["current"]
    if batch["processed"] != batch["completed"]:
        return  # saved inside a batch: Lightning finishes it itself
    started = epochs["current"]["started"]  # the epoch in progress or just trained is started - 1
    if batches.get("is_last_batch"):  # that epoch ran to its end: validated, its end hooks called
        done = started
        batches["current"] = dict.fromkeys(batch, 0)
        batches["is_last_batch"] = False
    else:
        done = started - 1
    for name in ("processed", "completed"):
        shift = done - epochs["current"][name]
        epochs["current"][name] += shift
        epochs["total"][name] += shift


def rng_states() -> dict[str, Any]:
    """The states of torch's, Python's and NumPy's global generators (loadable weights-only)."""
    kind, keys, pos, has_gauss, gauss = np.random.get_state()
    return {
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
        "python": random.getstate(),
        "numpy": [str(kind), torch.from_numpy(keys.astype(np.int64)), int(pos), int(has_gauss), float(gauss)],
    }


def set_rng_states(states: dict[str, Any]) -> None:
    """Restore what :func:`rng_states` returned."""
    torch.set_rng_state(states["torch"])
    if states.get("cuda") and torch.cuda.is_available() and len(states["cuda"]) == torch.cuda.device_count():
        torch.cuda.set_rng_state_all(states["cuda"])
    version, internal, gauss = states["python"]
    random.setstate((version, tuple(internal), gauss))
    kind, keys, pos, has_gauss, cached = states["numpy"]
    np.random.set_state((kind, keys.numpy().astype(np.uint32), pos, has_gauss, cached))
