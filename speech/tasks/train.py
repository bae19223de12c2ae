"""Entry points of ``speech train``: read a config, build a task, fit, export the model.

Nothing is written to the experiment folder until the config, the inputs and the trainer
settings have been checked. A rerun resumes from ``checkpoints/last.ckpt`` (checked, and read
weights-only, before training starts) when its config trains the same way as ``config.yaml``
says the experiment did (only :data:`RESUMABLE_KEYS` may differ, a longer step limit say).
SIGTERM or a first Ctrl-C stops training after the current batch, writes ``last.ckpt`` and
raises :class:`TrainingInterruptedError`, so the command exits non-zero and a rerun resumes.
"""

from __future__ import annotations

import functools
import logging
import os
import signal
import sys
import threading
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

import lightning as L
import yaml
from lightning.pytorch.utilities.exceptions import SIGTERMException

from speech.checkpoint import load_checkpoint, time_cap_warning
from speech.config import _show, apply_overrides, from_dict, load_config_yaml, load_yaml, save_yaml, to_dict
from speech.errors import ConfigError, SpeechError
from speech.io import check_output_dir
from speech.tasks import TASKS, task_classes
from speech.tasks.checkpoint import export_model
from speech.tasks.common import TrainerConfig, build_trainer, last_checkpoint

#: Config keys a resumed run may change: how long it trains, how fast, how verbosely, how often it
#: logs, checkpoints and validates, and how validation decodes or synthesizes (also the exported
#: model's defaults). Every other key changes the training itself, so a run resumed under another
#: value would continue a checkpoint that was not made with it.
RESUMABLE_KEYS = frozenset(
    {
        "trainer.max_epochs",
        "trainer.max_steps",
        "trainer.max_minutes",
        "trainer.num_threads",
        "trainer.progress_bar",
        "trainer.log_every_n_steps",
        "trainer.checkpoint_every_n_steps",
        "trainer.keep_checkpoints",
        "trainer.check_val_every_n_epoch",
        "data.num_workers",
        "data.synth_items",
    }
)
RESUMABLE_SECTIONS = ("search.", "inference.")


class TrainingInterruptedError(SpeechError):
    """Training was stopped by a signal before its budget was spent.

    Attributes:
        exit_code: 128 + the signal number (143 for SIGTERM, 130 for SIGINT).
    """

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code


class _Run(NamedTuple):
    """A checked experiment: the trainer, its folder, and the checkpoint to resume from."""

    trainer: L.Trainer
    exp_dir: Path
    resume: Path | None
    config: TrainerConfig
    export_last: bool = False


def load_config(cls, config_path: str | os.PathLike | None, overrides: list[str]):
    """Config dataclass ``cls`` from a YAML file plus ``key.sub=value`` overrides."""
    data = load_config_yaml(config_path) if config_path else {}
    apply_overrides(data, overrides)
    return from_dict(cls, data, str(config_path or "config"))


def train(
    task: str,
    config_path: str | os.PathLike | None,
    exp_dir: str | os.PathLike,
    overrides: list[str] = (),
    init_encoder_from: str | os.PathLike | None = None,
    init_from: str | os.PathLike | None = None,
) -> Path:
    """Train (or resume) a model of ``task``; returns the exported ``exp_dir/model.ckpt``.

    Every family goes the same way: read the config, check the files it names, check the
    experiment folder and write ``config.yaml``, seed, build the task (its ``from_config`` reads
    the tokenizers and statistics), fit, export.

    Args:
        task: ``"asr"``, ``"st"``, ``"tts"``, ``"lm"`` or ``"vocoder"`` (see :data:`TASKS`).
        config_path: YAML config (None = defaults).
        exp_dir: Experiment folder.
        overrides: ``key.sub=value`` overrides.
        init_encoder_from: ASR checkpoint for a speech-to-text model's encoder; overrides
            ``init.encoder_from``.
        init_from: Checkpoint of the same task whose weights (not its optimiser state) start a
            fine-tune; overrides ``init.model_from``.

    Raises:
        SpeechError: An unknown task, a bad config or input, or an option the task does not take.
    """
    if task not in TASKS:
        raise ConfigError(f"unknown task {task!r} (known: {', '.join(TASKS)})")
    config_class, task_class = task_classes(task)
    config = load_config(config_class, config_path, list(overrides))
    if init_encoder_from is not None:
        if not hasattr(config, "init"):
            raise ConfigError(f"--init-encoder-from applies to speech-to-text models (asr, st), not {task}")
        config.init.encoder_from = str(init_encoder_from)
    if init_from is not None:
        if not hasattr(config, "init"):
            raise ConfigError(f"--init-from applies to speech-to-text models (asr, st), not {task}")
        config.init.model_from = str(init_from)
        config.init.__post_init__()  # the two initialisations exclude each other
    _check_inputs(*config.inputs())
    return _train(
        config, exp_dir, task, lambda run: task_class.from_config(config, resume=run.resume is not None)
    )


train_asr = functools.partial(train, "asr")
train_st = functools.partial(train, "st")
train_tts = functools.partial(train, "tts")
train_lm = functools.partial(train, "lm")
train_vocoder = functools.partial(train, "vocoder")


def _train(
    config, exp_dir: str | os.PathLike, task_name: str, make_task: Callable[[_Run], L.LightningModule]
):
    """Check the experiment, write its config, seed, build the task and fit it."""
    run = _prepare(config, Path(exp_dir), task_name)
    L.seed_everything(config.trainer.seed, workers=True, verbose=False)
    return _fit(make_task(run), run)


def _prepare(config, exp_dir: Path, task_name: str) -> _Run:
    """Check the resume checkpoint, the trainer settings and the folder; then write ``config.yaml``.

    Raises:
        SpeechError: A bad ``last.ckpt`` or a config that trains differently from the one the
            experiment started with (both with how to start over), rejected trainer settings, or an
            experiment folder that cannot be written.
    """
    resume = last_checkpoint(exp_dir)
    resume_step = _check_resume(resume, exp_dir, task_name) if resume is not None else None
    if resume is not None:
        _check_same_config(config, exp_dir)
    _quiet_lightning()
    manual = not getattr(config, "automatic_optimization", True)  # the task clips its gradients itself
    clip = 0.0 if manual else config.optim.grad_clip
    trainer = build_trainer(
        config.trainer, exp_dir, clip, "val/loss", resume_step, find_unused_parameters=manual
    )
    check_output_dir(exp_dir, "experiment folder")
    save_yaml(to_dict(config), exp_dir / "config.yaml")
    return _Run(trainer, exp_dir, resume, config.trainer, getattr(config, "export_last", False))


def _check_resume(path: Path, exp_dir: Path, task_name: str) -> int:
    """The global step of a readable training checkpoint of this task at ``path``."""
    start_over = f"delete it (or the whole {exp_dir / 'checkpoints'} folder) to start over"
    try:
        ckpt = load_checkpoint(path, task=task_name)
    except SpeechError as e:
        raise SpeechError(f"cannot resume: {e}; {start_over}") from None
    step = ckpt.get("global_step")
    if not isinstance(ckpt.get("loops"), dict) or not isinstance(step, int):
        raise SpeechError(f"cannot resume: {path}: not a training checkpoint (no loop state); {start_over}")
    return step


def _check_same_config(config, exp_dir: Path) -> None:
    """Refuse to resume under a config whose training differs from the one ``exp_dir/config.yaml`` records.

    Keys in :data:`RESUMABLE_KEYS` and :data:`RESUMABLE_SECTIONS` may change; keys that only one
    of the two configs has (written by another version) are not compared.

    Raises:
        ConfigError: The differing keys with both values, and how to start over (one line).
    """
    path = exp_dir / "config.yaml"
    if not path.is_file():
        return
    start_over = f"use a new --exp-dir or delete {exp_dir / 'checkpoints'} to start over"
    try:
        before = _flat(load_yaml(path))
    except ConfigError as e:
        raise ConfigError(f"cannot resume: {e}; {start_over}") from None
    now = _flat(yaml.safe_load(yaml.safe_dump(to_dict(config))))  # tuples as lists, as in the file
    changed = [
        key
        for key, value in now.items()
        if key in before
        and before[key] != value
        and key not in RESUMABLE_KEYS
        and not key.startswith(RESUMABLE_SECTIONS)
    ]
    if changed:
        keys = ", ".join(f"{key} ({_show(before[key])} -> {_show(now[key])})" for key in changed)
        raise ConfigError(f"{path} differs from this run's config in {keys}; {start_over}")


def _flat(data: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """A nested mapping as ``{"section.key": value}``."""
    flat: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, dict) and value:
            flat |= _flat(value, f"{prefix}{key}.")
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def _fit(task: L.LightningModule, run: _Run) -> Path:
    """Fit (resuming when ``run.resume``) and export ``model.ckpt``; never claims a model it did not write.

    The exported weights are ``best.ckpt``'s (the lowest dev loss), or ``last.ckpt``'s for a config
    whose ``export_last`` is true.
    """
    trainer = run.trainer
    if run.resume is not None and trainer.is_global_zero:
        print(f"resuming from {run.resume}")
    with _StopOnSigint() as stop:
        try:
            trainer.fit(task, ckpt_path=run.resume)
        except SIGTERMException:
            raise _interrupted(stop.signal or signal.SIGTERM, run) from None
        except SystemExit:  # Lightning's answer to a KeyboardInterrupt (a second Ctrl-C)
            if trainer.interrupted:
                raise _interrupted(signal.SIGINT, run) from None
            raise
    if (trainer.received_sigterm or stop.signal) and not _budget_spent(trainer, run.config):
        raise _interrupted(stop.signal or signal.SIGTERM, run)
    best = trainer.checkpoint_callback.best_model_path or str(last_checkpoint(run.exp_dir) or "")
    if run.export_last:  # the task's dev loss does not pick its best model (a GAN's mel L1)
        best = str(last_checkpoint(run.exp_dir) or "")
    if trainer.global_step == 0 or not best or not Path(best).is_file():
        c = run.config
        raise SpeechError(
            f"{run.exp_dir}: training ran no step and wrote no checkpoint, so no model was written "
            f"(trainer.max_steps={c.max_steps}, max_epochs={c.max_epochs}, max_minutes={c.max_minutes})"
        )
    summary = _summary(trainer, run.config)
    warning = time_cap_warning(summary)
    if warning is not None and trainer.is_global_zero:
        print(f"warning: {warning}", file=sys.stderr)
    out = run.exp_dir / "model.ckpt"
    if trainer.is_global_zero:
        export_model(best, out, training=summary)
    return out


def _budget_spent(trainer: L.Trainer, config: TrainerConfig) -> bool:
    """Whether training reached its step or epoch limit."""
    steps = config.max_steps > 0 and trainer.global_step >= config.max_steps
    return steps or (config.max_epochs >= 0 and trainer.current_epoch >= config.max_epochs)


def _summary(trainer: L.Trainer, config: TrainerConfig) -> dict:
    """How training ended, stored in ``model.ckpt`` (see :func:`speech.checkpoint.training_summary`)."""
    steps = config.max_steps > 0 and trainer.global_step >= config.max_steps
    if steps:
        stopped_by = "max_steps"
    elif config.max_epochs >= 0 and trainer.current_epoch >= config.max_epochs:
        stopped_by = "max_epochs"
    else:  # Lightning's fit ends at a step, epoch or time limit (signals are handled before)
        stopped_by = "max_minutes" if config.max_minutes is not None else "max_epochs"
    return {
        "global_step": int(trainer.global_step),
        "epochs": _full_epochs(trainer),
        "stopped_by": stopped_by,
        "max_steps": config.max_steps,
        "max_epochs": config.max_epochs,
        "max_minutes": config.max_minutes,
    }


def _full_epochs(trainer: L.Trainer) -> int:
    """Whole passes over the training data; Lightning counts an epoch cut short by max_steps as done."""
    batches = trainer.num_training_batches
    if not isinstance(batches, int) or batches < 1:  # inf for an iterable of unknown length
        return int(trainer.current_epoch)
    return trainer.global_step // batches


def _interrupted(signum: int, run: _Run) -> TrainingInterruptedError:
    name = signal.Signals(signum).name
    step = run.trainer.global_step
    last = last_checkpoint(run.exp_dir)
    if last is not None:
        saved = load_checkpoint(last).get("global_step")
        then = f"rerun the same command to resume from {last} (step {saved})"
    else:
        then = "no checkpoint was written yet, so a rerun starts over"
    return TrainingInterruptedError(f"training interrupted by {name} at step {step}; {then}", 128 + signum)


class _StopOnSigint:
    """While fitting, a first Ctrl-C stops training the way SIGTERM does; a second one at once.

    Lightning stops gracefully on SIGTERM (after the current batch) but turns Ctrl-C into an
    immediate stop and exit code 1. The first SIGINT is handed to Lightning's SIGTERM handler
    instead, so that ``last.ckpt`` is written; ``signal`` records which signal arrived.
    """

    def __init__(self) -> None:
        self.signal: int | None = None
        self._previous = None

    def __enter__(self) -> _StopOnSigint:
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._on_sigint)
        return self

    def __exit__(self, *exc) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)

    def _on_sigint(self, signum: int, frame) -> None:
        self.signal = signal.SIGINT
        signal.signal(signal.SIGINT, signal.default_int_handler)
        handler = signal.getsignal(signal.SIGTERM)
        if not callable(handler):  # Lightning is not in its training loop yet
            raise KeyboardInterrupt
        handler(signal.SIGTERM, frame)


def _check_inputs(*paths: str | None) -> None:
    from speech.data import is_shard_folder

    for path in paths:
        if path and not (Path(path).is_file() or is_shard_folder(path)):
            raise ConfigError(f"{path}: no such file (named in the config)")


def _quiet_lightning() -> None:
    warnings.filterwarnings("ignore", message=".*does not have many workers.*")
    warnings.filterwarnings("ignore", message=".*LeafSpec.*")
    # a resumed run writes into its own checkpoints folder on purpose
    warnings.filterwarnings("ignore", message=".*Checkpoint directory .* exists and is not empty.*")
    # a resumed run reaches an epoch's end before its first validation has logged val/loss
    warnings.filterwarnings("ignore", message=".*could not find the monitored key.*")
    logging.getLogger("lightning.pytorch.utilities.rank_zero").setLevel(logging.WARNING)
