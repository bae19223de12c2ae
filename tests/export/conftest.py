"""Tiny real checkpoints (see ``tests/inference/tiny.py``) and a tiny vocoder, made once."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
import torch

from speech.checkpoint import FORMAT_VERSION
from speech.features import LogMelConfig
from speech.models.vocoder import VocosConfig, VocosGenerator
from tests.inference.tiny import all_checkpoints


@pytest.fixture(scope="session")
def checkpoints(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """``{"asr", "st", "tts", "lm", "vocoder"}``: paths of tiny checkpoints."""
    root = tmp_path_factory.mktemp("tiny_export_checkpoints")
    paths = all_checkpoints(root)
    torch.manual_seed(0)
    features = LogMelConfig.tts()
    config = VocosConfig(n_mels=features.n_mels, dim=16, intermediate_dim=32, layers=2)
    generator = VocosGenerator(config, features)
    meta = {
        "format_version": FORMAT_VERSION,
        "task": "vocoder",
        "model": dataclasses.asdict(config),
        "features": features.to_dict(),
    }
    state = {f"generator.{k}": v for k, v in generator.state_dict().items()}
    paths["vocoder"] = root / "vocoder.ckpt"
    torch.save({"speech": meta, "state_dict": state}, paths["vocoder"])
    return paths
