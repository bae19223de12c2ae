"""Reading our checkpoints without Lightning: the format version and the strict, weights-only loader.

A training checkpoint is Lightning's dict plus a ``"speech"`` entry (task name, model,
feature and search configs, the tokenizer and the CMVN statistics as plain data). An
exported model (``model.ckpt``) keeps only ``"speech"`` and the model weights. Inference
imports this module, so it must not import Lightning.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch

from speech.errors import SpeechError

FORMAT_VERSION = 2
"""Version of the "speech" metadata layout (:mod:`speech.metadata`); 1 = before ASR and ST were one family."""
_TASK_NAMES = {
    "asr": "an ASR model",
    "lm": "a language model",
    "tts": "a TTS model",
    "st": "a speech translation model",
    "vocoder": "a vocoder",
}


def load_checkpoint(
    path: str | os.PathLike, map_location: str | torch.device = "cpu", task: str | None = None
) -> dict[str, Any]:
    """Load a training or exported checkpoint (weights only) and check that it is one of ours.

    Args:
        path: The checkpoint file.
        map_location: Where tensors are loaded.
        task: When given, the checkpoint must be of this task (``"asr"``, ``"lm"``).

    Returns:
        The checkpoint dict, with at least ``"speech"`` and ``"state_dict"``.

    Raises:
        SpeechError: Missing file, not a torch checkpoint, no ``"speech"`` metadata, or another task.
    """
    path = Path(path)
    if not path.is_file():
        raise SpeechError(f"{path}: no such checkpoint")
    try:
        # weights_only=True explicitly: it wins over TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD
        ckpt = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as e:  # noqa: BLE001 - torch raises many kinds for a bad file
        raise SpeechError(f"{path}: not a readable checkpoint ({e.__class__.__name__})") from None
    if not isinstance(ckpt, dict) or not isinstance(ckpt.get("speech"), dict) or "state_dict" not in ckpt:
        raise SpeechError(f"{path}: not a speech checkpoint (no model metadata)")
    version = ckpt["speech"].get("format_version", 0)
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise SpeechError(f"{path}: written by a newer version of speech")
    found = ckpt["speech"].get("task")
    if task is not None and found != task:
        raise SpeechError(f"{path}: a {found} checkpoint, not {_TASK_NAMES.get(task, task)}")
    return ckpt


def training_summary(ckpt: dict[str, Any]) -> dict[str, Any] | None:
    """How training ended, as :func:`speech.tasks.train` stores it in ``model.ckpt``, or ``None``.

    Keys: ``global_step``, ``epochs`` (full epochs done), ``stopped_by`` (``"max_steps"``,
    ``"max_epochs"`` or ``"max_minutes"``), ``max_steps``, ``max_epochs``, ``max_minutes``.
    Older models, and entries of the wrong shape, give ``None``.
    """
    summary = ckpt.get("training")
    if not isinstance(summary, dict) or summary.get("stopped_by") not in STOP_REASONS:
        return None
    return summary


STOP_REASONS = ("max_steps", "max_epochs", "max_minutes")
"""Values of a training summary's ``stopped_by``."""


def time_cap_warning(summary: dict[str, Any] | None) -> str | None:
    """One line saying that the wall-clock cap, not the step or epoch budget, ended training."""
    if summary is None or summary["stopped_by"] != "max_minutes":
        return None
    return (
        f"training stopped at the trainer.max_minutes={summary.get('max_minutes')} time cap after "
        f"{summary.get('global_step')} steps ({summary.get('epochs')} full epochs), before "
        f"max_steps={summary.get('max_steps')}/max_epochs={summary.get('max_epochs')}: the model "
        "depends on how busy the machine was; set max_steps or max_epochs for a reproducible model"
    )
