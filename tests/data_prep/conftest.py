"""Fixtures for the built-in corpora: a tiny ``mini`` corpus made once per module."""

from __future__ import annotations

from pathlib import Path

import pytest

from data_prep.synthetic import MiniConfig, prepare_mini

UNSEEN = ("festival:ked", "en-us-nyc+f5")
"""Two held-out voices of two engines, none of them in ``TINY``'s voices."""
TINY = {
    "train": 4,
    "dev": 2,
    "test": 2,
    "tts_train": 2,
    "tts_dev": 1,
    "tts_test": 1,
    "voices": ("slt", "en-us+m3"),
    "unseen_voices": UNSEEN,
}


def tiny_config(out: Path, **overrides) -> MiniConfig:
    """A mini config with a few utterances per split and two voices."""
    return MiniConfig(out=out, **{"jobs": 1, **TINY, **overrides})


@pytest.fixture(scope="module")
def tiny_mini(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny mini corpus made with two worker processes; returns its folder."""
    out = tmp_path_factory.mktemp("mini") / "corpus"
    prepare_mini(tiny_config(out, jobs=2), progress=False)
    return out


def files_under(root: Path) -> dict[str, bytes]:
    """Every file below ``root`` (relative POSIX path -> bytes)."""
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}
