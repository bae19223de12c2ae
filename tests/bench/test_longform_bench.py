"""bench/longform.py: its --quick smoke run builds a recording, decodes it both ways, reports figures."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

from tests.inference.tiny import asr_checkpoint
from tests.metrics.flite import render

ROOT = Path(__file__).resolve().parents[2]


def test_quick_run_reports_every_figure(tmp_path):
    manifest = render(tmp_path / "corpus")  # four flite sentences; skips without flite
    model = asr_checkpoint(tmp_path / "asr.ckpt")
    out = tmp_path / "results.json"
    argv = [
        "--quick",
        "--model",
        str(model),
        "--manifest",
        str(manifest),
        "--threads",
        "1",
        "--out",
        str(out),
    ]
    result = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "longform.py"), *argv],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert "| long-form |" in result.stdout and "| one by one |" in result.stdout
    report = json.loads(out.read_text(encoding="utf-8"))
    assert 20 <= report["audio_seconds"] <= 30
    b = report["boundaries"]
    assert b["utterances"] >= 4 and b["matched"] >= b["utterances"] - 1  # Silero finds the sentences
    assert b["start_error_median_s"] < 0.5 and b["end_error_median_s"] < 0.5
    for figure in (report["long_form"]["rtf"], report["one_by_one"]["rtf"], report["wer_difference"]):
        assert math.isfinite(figure)
    assert report["long_form"]["wer"] >= 0 and report["one_by_one"]["wer"] >= 0
