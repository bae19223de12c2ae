"""Pictures of attention alignments: saved during training, and by ``speech synthesize --alignment``."""

from __future__ import annotations

import os
import warnings
from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402 - the backend must be chosen first
import torch  # noqa: E402

from speech.io import atomic_path  # noqa: E402

_DPI = 80
_MAX_PIXELS = 60_000  # Agg cannot draw an image more than 2**16 pixels high


def save_alignment(weights: torch.Tensor, path: str | os.PathLike, title: str = "") -> None:
    """Save an attention matrix (U decoder steps, S memory frames) as a PNG, atomically."""
    save_alignments([weights], path, [title])


def save_synthesis_alignment(path: str | os.PathLike, result) -> None:
    """The alignment of a synthesized text: one panel per sentence, titled with it and how it ended.

    Args:
        path: The PNG (written atomically).
        result: A :class:`~speech.inference.synthesizer.TextSynthesis` (its ``sentences`` and
            ``utterances``, each with ``attention`` and ``stopped``).
    """
    ends = {True: "stopped by itself", False: "no stop: cut at the frame limit"}
    titles = [
        f"{i}: {_shorten(sentence)} ({ends[u.stopped]})"
        for i, (sentence, u) in enumerate(zip(result.sentences, result.utterances, strict=True), start=1)
    ]
    save_alignments([u.attention for u in result.utterances], path, titles, ylabel="input symbol")


def _shorten(sentence: str, limit: int = 40) -> str:
    """The sentence on one line, cut to ``limit`` characters with ``...``."""
    text = " ".join(sentence.split())
    return text if len(text) <= limit else text[: limit - 3].rstrip() + "..."


def save_alignments(
    weights_list: Sequence[torch.Tensor],
    path: str | os.PathLike,
    titles: Sequence[str] | None = None,
    ylabel: str = "encoder frame",
) -> None:
    """Save attention matrices as one PNG, one panel under the other, atomically.

    Each panel shows one matrix with the decoder steps along x and the memory (encoder frames,
    or input symbols) along y. Titles are drawn as plain text (a ``$`` is not mathematics).

    Args:
        weights_list: Attention matrices, each of shape (U decoder steps, S memory positions).
        path: The PNG; written through a temporary file in its folder, then renamed.
        titles: One title per matrix (default: none).
        ylabel: What the y axis counts.

    Raises:
        ValueError: No matrix, or not one title per matrix.
    """
    if not weights_list:
        raise ValueError("save_alignments: no attention matrix to plot")
    titles = list(titles) if titles is not None else [""] * len(weights_list)
    if len(titles) != len(weights_list):
        raise ValueError(f"save_alignments: {len(titles)} titles for {len(weights_list)} matrices")
    n = len(weights_list)
    height = max(4.0, 3.0 * n)  # inches: one panel keeps the 6 x 4 of a training plot
    fig, axes = plt.subplots(n, 1, figsize=(6, height), squeeze=False)
    try:
        for ax, weights, title in zip(axes[:, 0], weights_list, titles, strict=True):
            image = ax.imshow(
                weights.detach().float().cpu().numpy().T, aspect="auto", origin="lower", interpolation="none"
            )
            ax.set_xlabel("decoder step")
            ax.set_ylabel(ylabel)
            ax.set_title(title, fontsize=9, parse_math=False)
            fig.colorbar(image, ax=ax)
        with warnings.catch_warnings():  # a character the font lacks is drawn as a box
            warnings.filterwarnings("ignore", message="Glyph .* missing from", category=UserWarning)
            fig.tight_layout()
            with atomic_path(Path(path)) as tmp:
                fig.savefig(tmp, format="png", dpi=min(_DPI, _MAX_PIXELS / height))
    finally:
        plt.close(fig)
