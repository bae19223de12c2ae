"""Smoke run of every stage of recipes/mini/tts on a tiny corpus and config."""

import os
import subprocess
import sys
from pathlib import Path

RUN = Path("recipes/mini/tts/run.sh")


def run(tmp_path, *args, asr_model="none"):
    env = dict(os.environ)
    env["DATA_DIR"] = str(tmp_path / "data")
    env["CORPUS_OPTS"] = "--tts-train 4 --tts-dev 2 --tts-test 2 --jobs 2 --quiet"
    env["ASR_MODEL"] = str(tmp_path / asr_model)
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env["PATH"]
    env["PYTHON"] = sys.executable
    cmd = [
        "bash",
        str(RUN),
        "--config",
        "recipes/mini/tts/conf/smoke.yaml",
        "--exp-dir",
        str(tmp_path / "exp"),
    ]
    return subprocess.run([*cmd, *args], capture_output=True, text=True, env=env, timeout=900)


def test_all_stages_then_rerun_skips(tmp_path):
    proc = run(tmp_path)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    exp = tmp_path / "exp"
    results = (exp / "RESULTS.md").read_text()
    assert "| synthesized | 2 |" in results and "| reference | 2 |" in results
    assert "pocketsphinx WER" in results and "diagonality" in results
    assert (exp / "model.ckpt").is_file()
    assert len(list((exp / "synth_test").glob("*.wav"))) == 2
    again = run(tmp_path)
    assert again.returncode == 0
    assert again.stdout.count("up to date, skipped") == 6  # stages 0, 1 (tokenizer, mel stats), 2, 3, 4


def test_bad_options(tmp_path):
    proc = run(tmp_path, "--stop-stage", "y")
    assert proc.returncode == 2
