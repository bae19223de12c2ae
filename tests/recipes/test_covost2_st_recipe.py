"""Smoke run of every stage of recipes/covost2/st on a fixture Common Voice + CoVoST 2 tree."""

from pathlib import Path

import pytest

from speech.config import from_dict, load_yaml
from speech.tasks.st import STConfig
from tests.data_prep.fixtures import make_covost2, mp3_supported
from tests.recipes.runner import run_recipe


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not mp3_supported():
        pytest.skip("this libsndfile cannot write mp3 clips")
    return make_covost2(tmp_path_factory.mktemp("covost2"), "fr", "en", {"train": 6, "dev": 2, "test": 2})


def run(tmp_path, corpus, *args, **env_overrides):
    env = {
        "CORPUS_DIR": str(corpus),
        "DATA_DIR": str(tmp_path / "data"),
        "CORPUS_OPTS": "--jobs 2",
        "VOCAB_SIZE": "48",
        "DECODE_OPTS": "--threads 1",
    }
    return run_recipe("covost2/st", *args, exp_dir=tmp_path / "exp", **{**env, **env_overrides})


def test_all_stages_then_rerun_skips(tmp_path, corpus):
    proc = run(tmp_path, corpus)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    exp, data = tmp_path / "exp", tmp_path / "data"
    assert "covost2: 10 utterances" in proc.stdout and "data.target_lang=en" in proc.stdout
    results = (exp / "RESULTS.md").read_text()
    assert "| dev | 2 |" in results and "| test | 2 |" in results
    assert "| BLEU | chrF | exact match % |" in results
    assert len((exp / "decode_test" / "hyp.txt").read_text().splitlines()) == 2
    assert (exp / "decode_test" / "ref.txt").read_text().startswith("common_voice_fr_")
    for name in ("source_tokenizer.json", "target_tokenizer.json", "cmvn.json"):
        assert (data / name).is_file()
    again = run(tmp_path, corpus)
    assert again.returncode == 0
    assert again.stdout.count("up to date, skipped") == 8  # 0, 1 (2 tokenizers, CMVN), 2, 3 (dev, test), 4


def test_configs_load():
    for name in ("train", "smoke"):
        config = from_dict(STConfig, load_yaml(f"recipes/covost2/st/conf/{name}.yaml"), name)
        assert config.features.sample_rate == 16000
    train = from_dict(STConfig, load_yaml("recipes/covost2/st/conf/train.yaml"), "train")
    librispeech = load_yaml("recipes/librispeech/asr/conf/train.yaml")
    for key in ("hidden_size", "n_layers", "n_pyramid"):  # ASR_MODEL can initialise the encoder
        assert getattr(train.model.listener, key) == librispeech["model"]["listener"][key]


def test_bad_options(tmp_path, corpus):
    proc = run(tmp_path, corpus, CORPUS_DIR="")
    assert proc.returncode == 2 and "set CORPUS_DIR" in proc.stderr
    proc = run(tmp_path, corpus, PAIR="fr-en")
    assert proc.returncode == 2 and "PAIR must look like <src>_<tgt>" in proc.stderr
    proc = run(tmp_path, corpus, "--stop-stage", "0", PAIR="fr_de")
    assert proc.returncode == 2 and "covost_v2.fr_de.tsv: no such file" in proc.stderr
