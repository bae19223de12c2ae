"""Sentences rendered by flite (CMU's synthesizer) for the pocketsphinx tests."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

SENTENCES = {
    "fox": "The quick brown fox jumps over the lazy dog.",
    "weather": "The weather is nice today.",
    "call": "Please call me tomorrow morning.",
    "cats": "I have 3 cats and 2 dogs!",
}
"""Short sentences pocketsphinx's general model recognizes from flite's slt voice."""


def render(folder: Path, voice: str = "slt") -> Path:
    """Render :data:`SENTENCES` into ``folder/<id>.wav`` and write ``folder/m.jsonl``; skip without flite."""
    if shutil.which("flite") is None:
        pytest.skip("flite is not installed")
    folder.mkdir(parents=True, exist_ok=True)
    lines = []
    for name, text in SENTENCES.items():
        wav = folder / f"{name}.wav"
        subprocess.run(
            ["flite", "-voice", voice, "-t", text, "-o", str(wav)], check=True, capture_output=True
        )
        record = {"id": name, "audio": wav.name, "duration": 3.0, "sample_rate": 16000, "text": text}
        lines.append(json.dumps(record) + "\n")
    manifest = folder / "m.jsonl"
    manifest.write_text("".join(lines))
    return manifest
