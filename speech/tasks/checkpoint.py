"""Checkpoints that carry everything inference needs, written atomically.

A training checkpoint is Lightning's dict plus a ``"speech"`` entry (task name, model,
feature and search configs, the tokenizer and the CMVN statistics as plain data). An
exported model (``model.ckpt``) keeps only ``"speech"`` and the model weights.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch
from lightning.fabric.plugins.io.torch_io import TorchCheckpointIO

from speech.errors import SpeechError
from speech.io import atomic_path

FORMAT_VERSION = 1
_TASK_NAMES = {
    "asr": "an ASR model",
    "lm": "a language model",
    "tts": "a TTS model",
    "st": "a speech translation model",
}


class AtomicCheckpointIO(TorchCheckpointIO):
    """Lightning checkpoint I/O that writes a temporary file and renames it into place."""

    def save_checkpoint(
        self, checkpoint: dict[str, Any], path: str | os.PathLike, storage_options=None
    ) -> None:
        """Save ``checkpoint`` at ``path`` without ever leaving a partial file there."""
        with atomic_path(path) as tmp:
            torch.save(checkpoint, tmp)


def load_checkpoint(
    path: str | os.PathLike, map_location: str | torch.device = "cpu", task: str | None = None
) -> dict[str, Any]:
    """Load a training or exported checkpoint and check that it is one of ours.

    Args:
        path: The checkpoint file.
        map_location: Where tensors are loaded.
        task: When given, the checkpoint must be of this task (``"asr"``, ``"lm"``).

    Raises:
        SpeechError: Missing file, not a torch checkpoint, no ``"speech"`` metadata, or another task.
    """
    path = Path(path)
    if not path.is_file():
        raise SpeechError(f"{path}: no such checkpoint")
    try:
        ckpt = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as e:  # noqa: BLE001 - torch raises many kinds for a bad file
        raise SpeechError(f"{path}: not a readable checkpoint ({e.__class__.__name__})") from None
    if not isinstance(ckpt, dict) or "speech" not in ckpt or "state_dict" not in ckpt:
        raise SpeechError(f"{path}: not a speech checkpoint (no model metadata)")
    if ckpt["speech"].get("format_version", 0) > FORMAT_VERSION:
        raise SpeechError(f"{path}: written by a newer version of speech")
    found = ckpt["speech"].get("task")
    if task is not None and found != task:
        raise SpeechError(f"{path}: a {found} checkpoint, not {_TASK_NAMES.get(task, task)}")
    return ckpt


def export_model(checkpoint: str | os.PathLike, out: str | os.PathLike) -> None:
    """Keep only the metadata and the weights of a training checkpoint (atomically)."""
    ckpt = load_checkpoint(checkpoint)
    slim = {"speech": ckpt["speech"], "state_dict": ckpt["state_dict"]}
    with atomic_path(out) as tmp:
        torch.save(slim, tmp)
