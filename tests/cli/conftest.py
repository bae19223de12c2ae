"""Tiny real checkpoints, made once per session (see ``tiny.py``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.inference.tiny import all_checkpoints


@pytest.fixture(scope="session")
def checkpoints(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """``{"asr", "st", "tts", "lm"}``: paths of tiny exported checkpoints."""
    return all_checkpoints(tmp_path_factory.mktemp("tiny_checkpoints"))
