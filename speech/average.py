"""Checkpoint averaging: one model whose weights are the mean of an experiment's kept models.

Training keeps the ``trainer.keep_checkpoints`` best models by validation loss and the same
number of most recent ones in ``EXP/checkpoints/kept/`` (see
:class:`speech.tasks.checkpoint.KeptModels`). Each kept file is an exported model (the
``"speech"`` metadata and the weights, loadable by every inference class) plus a ``"kept"``
entry: its global step, epoch, and the validation metric's name and value when it had one.

:func:`average_models` picks the N best (lowest validation metric) or the N last (highest
step) and averages their floating-point weights, as ESPnet's ``average_checkpoints`` and
NeMo's checkpoint averaging do; integer buffers must agree and are copied. Inference imports
nothing from Lightning, and neither does this module.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from speech.checkpoint import load_checkpoint
from speech.errors import SpeechError
from speech.io import atomic_path

KEPT_DIR = Path("checkpoints") / "kept"
"""Where training keeps models for averaging, under the experiment folder."""


@dataclass(frozen=True)
class KeptModel:
    """One kept model: its file, step, epoch and validation metric (None when it had none)."""

    path: Path
    step: int
    epoch: int
    metric: str | None
    value: float | None


def kept_info(path: str | os.PathLike, ckpt: dict[str, Any]) -> KeptModel:
    """The ``"kept"`` entry of a loaded kept model.

    Raises:
        SpeechError: The file has no well-formed ``"kept"`` entry.
    """
    entry = ckpt.get("kept")
    ok = isinstance(entry, dict) and all(isinstance(entry.get(k), int) for k in ("step", "epoch"))
    value = entry.get("value") if ok else None
    if not ok or not (value is None or (isinstance(value, float) and math.isfinite(value))):
        raise SpeechError(f"{path}: not a model kept by training (no step, epoch and metric entry)")
    return KeptModel(Path(path), entry["step"], entry["epoch"], entry.get("metric"), value)


def kept_models(exp_dir: str | os.PathLike) -> list[KeptModel]:
    """The models kept in ``exp_dir/checkpoints/kept/``, oldest first.

    Raises:
        SpeechError: No such folder, or a file in it that is not a kept model.
    """
    folder = Path(exp_dir) / KEPT_DIR
    if not folder.is_dir():
        raise SpeechError(
            f"{folder}: no kept models (train with trainer.keep_checkpoints > 0, the default, to keep them)"
        )
    found = [kept_info(p, load_checkpoint(p)) for p in sorted(folder.glob("*.ckpt"))]
    return sorted(found, key=lambda k: k.step)


def select(models: list[KeptModel], n: int, by: str) -> list[KeptModel]:
    """The ``n`` best (lowest metric; ties to the later step) or ``n`` last models.

    Raises:
        SpeechError: Fewer than ``n`` models qualify (only those with a metric count for ``best``).
    """
    if by not in ("best", "last"):
        raise SpeechError(f"choose the models by 'best' or 'last', not {by!r}")
    if by == "best":
        pool = sorted((m for m in models if m.value is not None), key=lambda m: (m.value, -m.step))
    else:
        pool = sorted(models, key=lambda m: -m.step)
    if len(pool) < n:
        what = "with a validation metric " if by == "best" else ""
        raise SpeechError(f"asked for the {by} {n} models, but only {len(pool)} kept models {what}exist")
    return pool[:n]


def average_state_dicts(states: list[dict[str, torch.Tensor]], names: list[str]) -> dict[str, torch.Tensor]:
    """The element-wise mean of floating-point tensors (in float64, cast back); other tensors must agree.

    Raises:
        SpeechError: The models have different weights (keys or shapes), or integer buffers differ.
    """
    first = states[0]
    for state, name in zip(states[1:], names[1:], strict=True):
        if state.keys() != first.keys():
            raise SpeechError(f"{name}: its weights are not the same set as {names[0]}'s")
        for key, value in state.items():
            if value.shape != first[key].shape or value.dtype != first[key].dtype:
                raise SpeechError(f"{name}: weight {key} differs in shape or type from {names[0]}'s")
    out = {}
    for key, value in first.items():
        if value.is_floating_point() or value.is_complex():
            total = sum(
                s[key].to(torch.float64 if value.is_floating_point() else torch.complex128) for s in states
            )
            out[key] = (total / len(states)).to(value.dtype)
        else:
            for state, name in zip(states[1:], names[1:], strict=True):
                if not torch.equal(state[key], value):
                    raise SpeechError(f"{name}: integer buffer {key} differs from {names[0]}'s")
            out[key] = value.clone()
    return out


def average_models(
    exp_dir: str | os.PathLike, n: int, by: str = "best", out: str | os.PathLike | None = None
) -> tuple[Path, list[KeptModel]]:
    """Average the ``n`` best or last kept models of ``exp_dir`` into one model file (atomically).

    Args:
        exp_dir: The experiment folder.
        n: How many models (at least 1).
        by: ``"best"`` (lowest validation metric) or ``"last"`` (most recent).
        out: The model file written; default ``exp_dir/model_avg_{by}{n}.ckpt``.

    Returns:
        The file written and the models averaged, in the order chosen.

    Raises:
        SpeechError: Too few models, models of different tasks, configs or weights, or a bad ``n``.
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise SpeechError(f"the number of models must be at least 1, got {n!r}")
    chosen = select(kept_models(exp_dir), n, by)
    out = Path(out) if out is not None else Path(exp_dir) / f"model_avg_{by}{n}.ckpt"
    ckpts = [load_checkpoint(m.path) for m in chosen]
    names = [str(m.path) for m in chosen]
    for ckpt, name in zip(ckpts[1:], names[1:], strict=True):
        if ckpt["speech"] != ckpts[0]["speech"]:
            raise SpeechError(
                f"{name}: its model metadata (task, config, tokenizer) differs from {names[0]}'s"
            )
    state = average_state_dicts([c["state_dict"] for c in ckpts], names)
    model = {
        "speech": ckpts[0]["speech"],
        "state_dict": state,
        "averaged": {
            "by": by,
            "metric": chosen[0].metric,
            "models": [
                {"file": m.path.name, "step": m.step, "epoch": m.epoch, "value": m.value} for m in chosen
            ],
        },
    }
    with atomic_path(out) as tmp:
        torch.save(model, tmp)
    return out, chosen


__all__ = [
    "KEPT_DIR",
    "KeptModel",
    "average_models",
    "average_state_dicts",
    "kept_info",
    "kept_models",
    "select",
]
