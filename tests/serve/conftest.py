"""Tiny real checkpoints (see ``tests/inference/tiny.py``), the models loaded once."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.inference.tiny import all_checkpoints


@pytest.fixture(scope="session")
def checkpoints(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """``{"asr", "st", "tts", "lm"}``: paths of tiny exported checkpoints."""
    return all_checkpoints(tmp_path_factory.mktemp("tiny_checkpoints"))


@pytest.fixture(scope="session")
def models(checkpoints):
    """The tiny ASR, ST and TTS models (Griffin-Lim with 2 iterations), loaded once."""
    from speech.serve import load_models

    return load_models(
        asr=str(checkpoints["asr"]),
        st=str(checkpoints["st"]),
        tts=str(checkpoints["tts"]),
        griffin_lim_iters=2,
    )
