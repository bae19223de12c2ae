"""Smoke runs of every stage of recipes/mini/st on a tiny corpus and config."""

import re
from pathlib import Path

import pytest

from tests.recipes.runner import run_recipe

CORPUS_OPTS = "--train 6 --dev 2 --test 2 --voices slt,en-us+m3 --jobs 2 --quiet"


def run(tmp_path, *args, recipe="mini/st", exp="exp", **extra_env):
    env = {"DATA_DIR": str(tmp_path / "data"), "CORPUS_OPTS": CORPUS_OPTS}
    env["ASR_MODEL"] = ""  # never the real ASR model (its listener is bigger): from scratch
    return run_recipe(recipe, *args, exp_dir=tmp_path / exp, **{**env, **extra_env})


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
    # The optional sequence training: minimum risk (sentence BLEU) from the trained model.
    model = tmp_path / "exp" / "model.ckpt"
    tuned = run(
        tmp_path,
        "--stage",
        "2",
        exp="exp_mrt",
        INIT_FROM=str(model),
        TRAIN_OPTS="loss.criterion=mrt loss.nbest=2",
    )
    assert tuned.returncode == 0, tuned.stdout[-2000:] + tuned.stderr[-3000:]
    assert f"model initialised from {model}" in tuned.stdout and "encoder initialised" not in tuned.stdout
    check_results(tmp_path / "exp_mrt")


@pytest.mark.slow
def test_initialises_the_encoder_from_the_asr_recipe_model(tmp_path):
    asr = run(tmp_path, "--stop-stage", "2", recipe="mini/asr", exp="asr")
    assert asr.returncode == 0, asr.stdout[-2000:] + asr.stderr[-3000:]
    model = tmp_path / "asr" / "model.ckpt"
    proc = run(tmp_path, ASR_MODEL=str(model))
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    assert f"encoder initialised from {model}" in proc.stdout
    assert re.search(r"and the (source )?CTC head", proc.stdout)  # the recipes share the source tokenizer
    assert "stage 1 (source tokenizer)" not in proc.stdout  # the ASR recipe's, and its CMVN stats
    assert "stage 1 (CMVN stats)" not in proc.stdout
    check_results(tmp_path / "exp")


def test_bad_options(tmp_path):
    proc = run(tmp_path, "--bogus")
    assert proc.returncode == 2 and "unknown option" in proc.stderr
    assert run(tmp_path, "--stage", "x").returncode == 2
