"""bench/serve_load.py against the real ``speech serve``: 50 concurrent requests, all answered 200."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _quick_run(tmp_path: Path, checkpoints: dict, kinds: tuple[str, ...]) -> dict:
    out = tmp_path / "load.json"
    argv = [sys.executable, str(ROOT / "bench" / "serve_load.py"), "--quick", "--requests", "50"]
    for kind in kinds:
        argv += [f"--{kind}", str(checkpoints[kind])]
    proc = subprocess.run([*argv, "--out", str(out)], capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr[-3000:]
    return json.loads(out.read_text())


def _check(results: dict, endpoints: list[str]) -> None:
    assert [r["endpoint"] for r in results["rounds"]] == endpoints
    for r in results["rounds"]:
        assert r["requests"] == r["ok"] == 50 and r["statuses"] == {"200": 50}
        assert r["lost"] == 0 and r["errors"] == []
        assert 0 < r["p50_s"] <= r["p95_s"] <= r["max_s"]


def test_fifty_concurrent_recordings_are_all_answered(tmp_path, checkpoints):
    results = _quick_run(tmp_path, checkpoints, ("asr", "st"))
    _check(results, ["transcribe", "translate"])
    assert results["server"]["limits"]["queue_size"] >= 50  # the default queue holds them all


@pytest.mark.slow
def test_fifty_concurrent_requests_per_endpoint_with_synthesis(tmp_path, checkpoints):
    results = _quick_run(tmp_path, checkpoints, ("asr", "tts", "st"))
    _check(results, ["transcribe", "translate", "synthesize"])
