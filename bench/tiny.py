"""Inputs of the benchmarks' ``--quick`` runs when the mini recipes' corpora and checkpoints are absent.

- :func:`checkpoints`: tiny untrained checkpoints with real metadata (the test suite's
  ``tests/inference/tiny.py``: 8 mels, char tokenizer), written into a folder;
- :func:`noise_corpus`: a manifest of short generated recordings (a few tones in noise, with
  silences) and number-word texts, so that anything reading a manifest has one.

Timing them says nothing about real models; it only shows that every code path runs.
"""

from __future__ import annotations

import math
import random
import sys
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
WORDS = "zero one two three four five six seven eight nine ten hundred thousand and".split()


def checkpoints(folder: Path) -> dict[str, Path]:
    """``{"asr", "st", "tts", "lm"}``: tiny untrained checkpoints written into ``folder``."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from tests.inference.tiny import all_checkpoints

    folder.mkdir(parents=True, exist_ok=True)
    return all_checkpoints(folder)


def utterance_wave(seconds: float, sample_rate: int, generator: torch.Generator) -> torch.Tensor:
    """Tone bursts in low noise with 0.3 s of silence at both ends: ``seconds`` long."""
    n = round(seconds * sample_rate)
    t = torch.arange(n) / sample_rate
    wave = 0.003 * torch.randn(n, generator=generator)
    edge = round(0.3 * sample_rate)
    f0 = 120 + 80 * float(torch.rand(1, generator=generator))
    voiced = sum(torch.sin(2 * math.pi * k * f0 * t) / k for k in range(1, 6))
    envelope = (torch.sin(2 * math.pi * 3 * t).abs() > 0.3).float()
    wave[edge : n - edge] += 0.2 * (voiced * envelope)[edge : n - edge]
    return wave


def noise_corpus(
    folder: Path, n: int, sample_rate: int = 16000, min_seconds: float = 1.0, max_seconds: float = 3.0
) -> Path:
    """Write ``n`` generated recordings and their manifest (``folder/test.jsonl``); return its path."""
    from speech.audio import save
    from speech.data.manifest import Utterance, write_manifest

    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(0)
    g = torch.Generator().manual_seed(0)
    utts = []
    for i in range(n):
        seconds = rng.uniform(min_seconds, max_seconds)
        path = folder / f"utt{i:04d}.wav"
        save(path, utterance_wave(seconds, sample_rate, g), sample_rate)
        text = " ".join(rng.choice(WORDS) for _ in range(max(1, round(2 * seconds))))
        utts.append(Utterance(f"utt{i:04d}", str(path), round(seconds, 4), sample_rate, text, text))
    manifest = folder / "test.jsonl"
    write_manifest(utts, manifest)
    return manifest
