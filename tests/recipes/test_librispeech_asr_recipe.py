"""Smoke run of every stage of recipes/librispeech/asr on a fixture LibriSpeech tree."""

from pathlib import Path

import pytest

from tests.data_prep.fixtures import make_librispeech
from tests.recipes.runner import run_recipe


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_librispeech(tmp_path_factory.mktemp("librispeech"), speakers=2, utterances=2)


def run(tmp_path, corpus, *args, **env_overrides):
    env = {
        "CORPUS_DIR": str(corpus),
        "CORPUS_OPTS": "--subsets train-clean-100,dev-clean,test-clean,test-other --jobs 2",
        "DATA_DIR": str(tmp_path / "data"),
        "VOCAB_SIZE": "40",
        "DECODE_OPTS": "--threads 1",
    }
    return run_recipe("librispeech/asr", *args, exp_dir=tmp_path / "exp", **{**env, **env_overrides})


def test_all_stages_then_rerun_skips(tmp_path, corpus):
    proc = run(tmp_path, corpus)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    exp = tmp_path / "exp"
    results = (exp / "RESULTS.md").read_text()
    for name in ("dev-clean", "test-clean", "test-other"):
        assert f"| {name} | 4 |" in results
        assert len((exp / f"decode_{name}" / "hyp.txt").read_text().splitlines()) == 4
    assert (exp / "model.ckpt").is_file()
    assert "librispeech: 20 utterances" in proc.stdout  # 4 subsets + train.jsonl
    again = run(tmp_path, corpus)
    assert again.returncode == 0
    assert again.stdout.count("up to date, skipped") == 8  # stages 0, 1 (tokenizer, CMVN), 2, 3 (x3), 4
    only_score = run(tmp_path, corpus, "--stage", "4", "--stop-stage", "4", CORPUS_DIR="")
    assert only_score.returncode == 0 and "stage 0" not in only_score.stdout


def test_missing_corpus_dir(tmp_path, corpus):
    proc = run(tmp_path, corpus, CORPUS_DIR="")
    assert proc.returncode == 2 and "set CORPUS_DIR" in proc.stderr
    proc = run(tmp_path, corpus, "--stop-stage", "0", CORPUS_DIR=str(tmp_path / "nowhere"))
    assert proc.returncode == 2 and "nowhere: no such folder" in proc.stderr
