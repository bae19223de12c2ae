"""Reading a checkpoint's typed metadata and weights strictly: every problem is one line.

A checkpoint with our task tag can still be wrong: a setting missing, unknown or of the
wrong type (refused by :func:`speech.metadata.read_metadata`, the YAML configs' strict
loader), a tokenizer or CMVN entry that is malformed, weights that do not fit the model its
metadata describes. :class:`CheckpointMeta` turns each of these into a
:class:`~speech.errors.SpeechError` naming the file and the key, instead of a ``KeyError``,
``TypeError`` or ``RuntimeError`` from deep inside torch.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from typing import Any, TypeVar

import torch

from speech.checkpoint import load_checkpoint
from speech.errors import SpeechError
from speech.features import GlobalCMVN
from speech.metadata import read_metadata
from speech.text import Tokenizer, tokenizer_from_dict

M = TypeVar("M", bound=torch.nn.Module)
_SHOWN = 3  # keys named in a weights mismatch message


class CheckpointMeta:
    """A loaded checkpoint of one task: its typed metadata (:mod:`speech.metadata`) and its weights.

    Args:
        path: The checkpoint file (named in every error).
        task: The task it must be (``"asr"``, ``"st"``, ``"tts"``, ``"lm"``).

    Attributes:
        info: The typed metadata (:class:`~speech.metadata.S2TMeta`, ``TTSMeta`` or ``LMMeta``),
            migrated from older layouts.

    Raises:
        SpeechError: Missing or unreadable file, not one of ours, another task, or metadata
            the strict loader refuses.
    """

    def __init__(self, path: str | os.PathLike, task: str) -> None:
        self.path = path
        ckpt = load_checkpoint(path, task=task)
        self.info: Any = read_metadata(ckpt["speech"], path)
        self.state_dict = ckpt["state_dict"]
        if not isinstance(self.state_dict, dict):
            raise SpeechError(f"{path}: 'state_dict' is not a mapping of weights")

    def tokenizer(self, key: str = "tokenizer") -> Tokenizer:
        """The tokenizer stored under ``key``."""
        where = f"{self.path}: metadata '{key}'"
        try:
            return tokenizer_from_dict(getattr(self.info, key), where=where)
        except (KeyError, TypeError, ValueError, AttributeError) as e:
            raise SpeechError(f"{where}: malformed tokenizer ({e.__class__.__name__}: {e})") from None

    def cmvn(self, n_features: int) -> GlobalCMVN:
        """The global CMVN: ``mean`` and ``std`` lists of ``n_features`` finite numbers, std > 0."""
        entry = self.info.cmvn
        where = f"{self.path}: metadata 'cmvn'"
        values = {}
        for name in ("mean", "std"):
            stats = entry.get(name) if isinstance(entry, dict) else None
            if (
                not isinstance(stats, list | tuple)
                or len(stats) != n_features
                or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in stats)
                or not all(math.isfinite(v) for v in stats)
            ):
                raise SpeechError(f"{where}: '{name}' must be a list of {n_features} finite numbers")
            values[name] = torch.tensor(stats, dtype=torch.float32)
        if not bool((values["std"] > 0).all()):
            raise SpeechError(f"{where}: 'std' must be positive")
        cmvn = GlobalCMVN(n_features)
        cmvn.mean.copy_(values["mean"])
        cmvn.std.copy_(values["std"])
        return cmvn

    def check_match(self, what: str, value: Any, other_what: str, other: Any) -> None:
        """Two metadata entries that must agree (e.g. the model's vocabulary and the tokenizer's)."""
        if value != other:
            raise SpeechError(f"{self.path}: metadata {what} ({value}) does not match {other_what} ({other})")

    def build(self, factory: Callable[[Any], M], config: Any) -> M:
        """``factory(config)``; a config no model can be built from is a one-line error."""
        try:
            return factory(config)
        except (ValueError, TypeError, RuntimeError) as e:
            raise SpeechError(
                f"{self.path}: metadata 'model' describes no valid model ({str(e).splitlines()[0]})"
            ) from None

    def load_weights(self, model: M, prefix: str = "model") -> M:
        """Load the weights under ``prefix.`` into ``model``; they must match it key for key and in shape.

        Raises:
            SpeechError: ``x.ckpt: weights do not match the model in its metadata (...)``.
        """
        state = model_state(self.state_dict, prefix)
        problem = weights_mismatch(model.state_dict(), state)
        if problem:
            raise SpeechError(f"{self.path}: weights do not match the model in its metadata ({problem})")
        model.load_state_dict(state)
        return model


def model_state(state_dict: dict[str, torch.Tensor], prefix: str) -> dict[str, torch.Tensor]:
    """The entries of a Lightning state dict under ``prefix.`` with the prefix removed."""
    return {k[len(prefix) + 1 :]: v for k, v in state_dict.items() if k.startswith(prefix + ".")}


def weights_mismatch(expected: dict[str, torch.Tensor], found: dict[str, Any]) -> str | None:
    """What differs between a model's state dict and the weights found, or None when they fit."""
    missing = [k for k in expected if k not in found]
    unexpected = [k for k in found if k not in expected]
    wrong = [
        k
        for k in expected
        if k in found and (not isinstance(found[k], torch.Tensor) or found[k].shape != expected[k].shape)
    ]
    parts = []
    if missing:
        parts.append(f"{len(missing)} missing: {_names(missing)}")
    if unexpected:
        parts.append(f"{len(unexpected)} unexpected: {_names(unexpected)}")
    if wrong:
        k = wrong[0]
        got = tuple(found[k].shape) if isinstance(found[k], torch.Tensor) else type(found[k]).__name__
        parts.append(
            f"{len(wrong)} of another shape: {k} is {got}, the model's is {tuple(expected[k].shape)}"
        )
    return "; ".join(parts) or None


def _names(keys: list[str]) -> str:
    return ", ".join(keys[:_SHOWN]) + (" ..." if len(keys) > _SHOWN else "")
