"""bench/loader.py: its --quick run times both loaders with 1 and 4 workers and writes the figures."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_quick_run_reports_both_loaders(tmp_path):
    out = tmp_path / "loader.json"
    result = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "loader.py"), "--quick", "--out", str(out)],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    results = json.loads(out.read_text())
    assert {(r["loader"], r["workers"]) for r in results["rows"]} == {
        (kind, w) for kind in ("jsonl", "shards") for w in (1, 4)
    }
    assert all(r["utt_per_s_median"] > 0 and r["utterances"] > 0 for r in results["rows"])
    assert results["shards"] >= 4 and results["torch_threads"] == 1
    assert "| shards | 4 |" in result.stdout
