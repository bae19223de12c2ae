"""Shared fixtures: small synthetic audio files and manifests written into tmp_path."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch

torch.set_num_threads(1)


def write_tone(
    path: Path, seconds: float = 0.5, sample_rate: int = 16000, freq: float = 440.0, channels: int = 1
) -> np.ndarray:
    """Write a sine tone (plus a little noise) and return the samples written (frames, channels)."""
    t = np.arange(int(seconds * sample_rate)) / sample_rate
    rng = np.random.default_rng(int(freq))
    mono = 0.5 * np.sin(2 * math.pi * freq * t) + 0.01 * rng.standard_normal(t.shape)
    data = np.stack([mono * (c + 1) / channels for c in range(channels)], axis=1).astype(np.float32)
    sf.write(str(path), data, sample_rate)
    return data


@pytest.fixture
def make_manifest(tmp_path: Path):
    """Factory: ``make_manifest(n, seconds=...)`` writes n tone wavs and a manifest; returns its path."""

    def make(
        n: int = 3, sample_rate: int = 16000, texts: list[str] | None = None, name: str = "m.jsonl"
    ) -> Path:
        audio_dir = tmp_path / "wavs"
        audio_dir.mkdir(exist_ok=True)
        lines = []
        for i in range(n):
            seconds = 0.2 + 0.1 * i
            write_tone(audio_dir / f"u{i}.wav", seconds, sample_rate, freq=200 + 50 * i)
            text = texts[i] if texts else f"utterance number {i}"
            lines.append(
                {
                    "id": f"u{i}",
                    "audio": f"wavs/u{i}.wav",
                    "duration": seconds,
                    "sample_rate": sample_rate,
                    "text": text,
                    "translation": f"énoncé {i}",
                }
            )
        path = tmp_path / name
        path.write_text("".join(json.dumps(x, ensure_ascii=False) + "\n" for x in lines), encoding="utf-8")
        return path

    return make
