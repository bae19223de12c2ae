"""bench/gpu.sh, the GPU benchmarks, in its CPU dry-run mode (GPU_SMOKE=1): every section runs on
tiny models and the Markdown report holds a measured figure for every row."""

import math
import os
import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_gpu_benchmarks_dry_run_reports_every_figure(tmp_path: Path) -> None:
    out = tmp_path / "RESULTS-gpu.md"
    env = dict(os.environ, GPU_SMOKE="1", OUT=str(out))
    result = subprocess.run(
        ["bash", str(ROOT / "bench" / "gpu.sh")],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    text = out.read_text(encoding="utf-8")
    assert "smoke run on CPU" in text and "skipped" not in text
    rows = [
        [c.strip() for c in line.strip("|").split("|")] for line in text.splitlines() if line.startswith("| ")
    ]
    tacotron = [r for r in rows if r[0] in ("1", "2") and r[2] in ("fp32", "bf16")]
    assert [(r[0], r[2]) for r in tacotron] == [("1", "fp32"), ("1", "bf16"), ("2", "fp32"), ("2", "bf16")]
    for r in tacotron:
        assert float(r[3]) > 0 and float(r[4].replace(",", "")) > 0
    assert [r[5] for r in tacotron[:2]] == ["31,500 (TF32)", "26,500 (AMP fp16)"]  # NVIDIA's A100 reference
    training = [r for r in rows if r[0] in ("LAS (ASR)", "ST") and r[4] in ("fp32", "bf16")]
    assert [(r[0], r[4]) for r in training] == [
        ("LAS (ASR)", "fp32"),
        ("LAS (ASR)", "bf16"),
        ("ST", "fp32"),
        ("ST", "bf16"),
    ]
    assert all(float(r[5]) > 0 for r in training)
    speed_ups = re.findall(r"bf16 speed-up \(fp32 time / bf16 time\) \| ([0-9.]+)x", text)
    assert len(speed_ups) == 4 and all(math.isfinite(float(x)) and float(x) > 0 for x in speed_ups)
    inference = [r for r in rows if r[0].startswith(("ASR beam 8", "Tacotron2 decoder"))]
    assert [(r[0].split(",")[0], r[1]) for r in inference] == [
        ("ASR beam 8 + CTC", "1"),
        ("ASR beam 8 + CTC", "32"),
        ("Tacotron2 decoder", "1"),
        ("Tacotron2 decoder", "32"),
    ]
    assert all(float(r[2]) > 0 for r in inference)
    assert "done" in result.stdout
