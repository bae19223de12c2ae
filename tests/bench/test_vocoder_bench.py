"""bench/vocoder.py: its --quick smoke run reports every row with positive finite numbers."""

import importlib.util
import json
import math
import subprocess
import sys
from pathlib import Path

import torch

from speech.features import LogMelConfig

ROOT = Path(__file__).resolve().parents[2]
spec = importlib.util.spec_from_file_location("vocoder_bench", ROOT / "bench" / "vocoder.py")
vocoder_bench = importlib.util.module_from_spec(spec)
sys.modules["vocoder_bench"] = vocoder_bench  # its dataclasses look their module up while being built
spec.loader.exec_module(vocoder_bench)

ROWS = [
    ("Griffin-Lim", 1),
    ("ours (Vocos)", 1),
    ("HiFi-GAN V1", 1),
    ("HiFi-GAN V3", 1),
    ("Griffin-Lim", 2),
    ("ours (Vocos)", 2),
]


def test_quick_run_reports_every_row(tmp_path):
    out = tmp_path / "vocoder.json"
    result = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "vocoder.py"), "--quick", "--out", str(out)],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    table = [line for line in result.stdout.splitlines() if line.startswith("| ") and "---" not in line]
    assert table[0].startswith("| vocoder | batch |")
    cells = [[c.strip() for c in line.strip("|").split("|")] for line in table[1:]]
    assert [(c[0], int(c[1])) for c in cells] == ROWS
    for c in cells:
        numbers = [float(c[3]), float(c[4].split()[0]), float(c[5].replace(",", "")), float(c[6].split()[0])]
        assert all(math.isfinite(x) and x > 0 for x in numbers), c
    assert "--quick" in result.stdout.splitlines()[0]
    assert any(line.startswith(("PASS: ours RTF", "FAIL: ours RTF")) for line in result.stdout.splitlines())

    report = json.loads(out.read_text(encoding="utf-8"))
    assert report["threads"] == 1 and report["rounds"] == 2
    assert [(r["name"], r["batch"]) for r in report["rows"]] == ROWS
    for r in report["rows"]:
        values = [
            r["audio_seconds"],
            r["samples_per_second"],
            *r["rtf"].values(),
            *r["vs_griffin_lim"].values(),
        ]
        assert all(math.isfinite(x) and x > 0 for x in values), r
        assert r["rtf"]["q1"] <= r["rtf"]["median"] <= r["rtf"]["q3"]
    assert set(report["ours_speed_up"]) == {"HiFi-GAN V1", "HiFi-GAN V3"}


def test_hifigan_generators_have_the_papers_sizes():
    """Kong et al. 2020, table 1: V1 13.92 M and V3 1.46 M parameters; 256 samples per frame."""
    for name, millions in (("V1", 13.92), ("V3", 1.46)):
        model = vocoder_bench.HiFiGANGenerator(vocoder_bench.HIFIGAN[name]).eval()
        params = sum(p.numel() for p in model.parameters()) / 1e6
        assert abs(params - millions) < 0.01 * millions, (name, params)
        with torch.inference_mode():
            out = model(torch.randn(2, 3, 80), torch.tensor([3, 2]))
        assert out.waveforms.shape == (2, 3 * 256)
        assert out.lengths.tolist() == [768, 512]


def test_without_the_corpus_the_input_is_noise_of_the_asked_length(monkeypatch, tmp_path):
    monkeypatch.setattr(vocoder_bench, "MANIFEST", tmp_path / "absent.jsonl")
    waves, source = vocoder_bench.speech_waveforms(LogMelConfig.tts(), 1000)
    assert [w.numel() for w in waves] == [1000] and "noise" in source


def test_precision_pair_dry_run_on_cpu(tmp_path):
    out = tmp_path / "vocoder.md"
    proc = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "vocoder.py"),
            "--precision-pair",
            "--device",
            "cpu",
            "--quick",
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    rows = [line for line in out.read_text().splitlines() if line.startswith(("| synthesis", "| training"))]
    assert len(rows) == 2
    for row in rows:
        fp32, bf16, ratio = (float(c.replace(",", "")) for c in row.strip("|").split("|")[1:])
        assert fp32 > 0 and bf16 > 0 and ratio > 0
