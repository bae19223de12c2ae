"""Pictures saved during training (attention alignments)."""

from __future__ import annotations

import os
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402 - the backend must be chosen first
import torch  # noqa: E402

from speech.io import atomic_path  # noqa: E402


def save_alignment(weights: torch.Tensor, path: str | os.PathLike, title: str = "") -> None:
    """Save an attention matrix (U decoder steps, S memory frames) as a PNG, atomically."""
    fig, ax = plt.subplots(figsize=(6, 4))
    image = ax.imshow(weights.numpy().T, aspect="auto", origin="lower", interpolation="none")
    ax.set_xlabel("decoder step")
    ax.set_ylabel("encoder frame")
    ax.set_title(title, fontsize=9)
    fig.colorbar(image, ax=ax)
    fig.tight_layout()
    path = Path(path)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=80)
    plt.close(fig)
