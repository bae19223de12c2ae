"""Smoke runs of every stage of recipes/mini/st on a tiny corpus and config."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

RUN = Path("recipes/mini/st/run.sh")
CORPUS_OPTS = "--train 6 --dev 2 --test 2 --voices slt,en-us+m3 --jobs 2 --quiet"


def run(tmp_path, *args, **extra_env):
    env = dict(os.environ)
    env["DATA_DIR"] = str(tmp_path / "data")
    env["CORPUS_OPTS"] = CORPUS_OPTS
    env["ASR_EXP_DIR"] = str(tmp_path / "asr")  # never the real ASR model (its listener is bigger)
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env["PATH"]
    env["PYTHON"] = sys.executable
    env.update(extra_env)
    return subprocess.run(
        [
            "bash",
            str(RUN),
            "--config",
            "recipes/mini/st/conf/smoke.yaml",
            "--exp-dir",
            str(tmp_path / "exp"),
            *args,
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=900,
    )


def check_results(exp: Path) -> None:
    results = (exp / "RESULTS.md").read_text()
    assert "| dev | 2 |" in results and "| test | 2 |" in results
    assert "| BLEU | chrF | exact match % |" in results
    assert (exp / "model.ckpt").is_file()
    assert len((exp / "decode_test" / "hyp.txt").read_text().splitlines()) == 2


def test_all_stages_from_scratch_then_rerun_skips(tmp_path):
    proc = run(tmp_path)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    assert "encoder initialised" not in proc.stdout
    check_results(tmp_path / "exp")
    assert (tmp_path / "data" / "st_tokenizer_fr.json").is_file() and (
        tmp_path / "data" / "cmvn.json"
    ).is_file()
    again = run(tmp_path)
    assert again.returncode == 0
    assert again.stdout.count("up to date, skipped") == 6  # 0, 1 (target tokenizer), 2, 3 (dev, test), 4


@pytest.mark.slow
def test_builds_the_asr_model_first_and_initialises_the_encoder_from_it(tmp_path):
    proc = run(tmp_path, BUILD_ASR="1", ASR_CONFIG="recipes/mini/asr/conf/smoke.yaml")
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    assert (tmp_path / "asr" / "model.ckpt").is_file()
    assert f"encoder initialised from {tmp_path / 'asr' / 'model.ckpt'}" in proc.stdout
    assert "and the source CTC head" in proc.stdout  # the recipes share the source tokenizer
    check_results(tmp_path / "exp")


def test_bad_options(tmp_path):
    proc = run(tmp_path, "--bogus")
    assert proc.returncode == 2 and "unknown option" in proc.stderr
    assert run(tmp_path, "--stage", "x").returncode == 2
