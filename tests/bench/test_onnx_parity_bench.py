"""bench/onnx_parity.py --quick runs and finds the exports identical to PyTorch."""

import json
import subprocess
import sys
from pathlib import Path

from tests.inference.tiny import asr_checkpoint, tts_checkpoint

ROOT = Path(__file__).resolve().parents[2]


def test_quick_run_reports_identical_transcripts(tmp_path):
    from data_prep.synthetic import MiniConfig, prepare_mini

    asr = asr_checkpoint(tmp_path / "asr.ckpt")
    tts = tts_checkpoint(tmp_path / "tts.ckpt")
    corpus = tmp_path / "corpus"
    prepare_mini(
        MiniConfig(
            out=corpus, train=1, dev=1, test=4, voices=("slt",), jobs=1, tts_train=0, tts_dev=0, tts_test=0
        ),
        progress=False,
    )
    out = tmp_path / "r.json"
    cmd = [
        sys.executable,
        str(ROOT / "bench/onnx_parity.py"),
        "--quick",
        "--asr",
        str(asr),
        "--tts",
        str(tts),
    ]
    cmd += ["--manifest", str(corpus / "test.jsonl"), "--out", str(out)]
    subprocess.run(cmd, check=True, capture_output=True, cwd=ROOT)
    result = json.loads(out.read_text())
    assert result["asr"]["utterances"] == 4 and result["asr"]["identical"] == 4
    assert result["asr"]["max_score_difference"] < 1e-4
    assert result["tts"]["same_frames_and_stop"] == result["tts"]["texts"] == 2
