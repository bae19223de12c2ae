"""Smoke run of every stage of recipes/mustc/st on a fixture MuST-C tree."""

from pathlib import Path

import pytest

from speech.config import from_dict, load_yaml
from speech.tasks.st import STConfig
from tests.data_prep.fixtures import make_mustc
from tests.recipes.runner import run_recipe


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_mustc(tmp_path_factory.mktemp("mustc"), "en-de", talks=2, segments=2)


def run(tmp_path, corpus, *args, **env_overrides):
    env = {
        "CORPUS_DIR": str(corpus),
        "TEST_SETS": "tst-COMMON",  # the fixture has no tst-HE
        "DATA_DIR": str(tmp_path / "data"),
        "CORPUS_OPTS": "--jobs 2",
        "VOCAB_SIZE": "48",
        "DECODE_OPTS": "--threads 1",
    }
    return run_recipe("mustc/st", *args, exp_dir=tmp_path / "exp", **{**env, **env_overrides})


def test_all_stages_then_rerun_skips(tmp_path, corpus):
    proc = run(tmp_path, corpus)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    exp, data = tmp_path / "exp", tmp_path / "data"
    assert "mustc: 12 utterances" in proc.stdout and "data.target_lang=de" in proc.stdout
    assert len(list((data / "corpus" / "wav" / "tst-COMMON").glob("*.wav"))) == 4  # cut segments
    results = (exp / "RESULTS.md").read_text()
    assert "| dev | 4 |" in results and "| tst-COMMON | 4 |" in results
    assert "| BLEU | chrF | exact match % |" in results
    assert len((exp / "decode_tst-COMMON" / "hyp.txt").read_text().splitlines()) == 4
    assert "Die katze sass auf der matte." in (exp / "decode_tst-COMMON" / "ref.txt").read_text()
    again = run(tmp_path, corpus)
    assert again.returncode == 0
    assert again.stdout.count("up to date, skipped") == 8  # 0, 1 (x3), 2, 3 (dev, tst-COMMON), 4


def test_configs_load():
    for name in ("train", "smoke"):
        config = from_dict(STConfig, load_yaml(f"recipes/mustc/st/conf/{name}.yaml"), name)
        assert config.features.sample_rate == 16000
    train = from_dict(STConfig, load_yaml("recipes/mustc/st/conf/train.yaml"), "train")
    librispeech = load_yaml("recipes/librispeech/asr/conf/train.yaml")
    assert train.features.to_dict() == from_dict(STConfig, {}, "defaults").features.to_dict()
    for key in ("hidden_size", "n_layers", "n_pyramid"):  # ASR_MODEL can initialise the encoder
        assert getattr(train.model.listener, key) == librispeech["model"]["listener"][key]


def test_bad_options(tmp_path, corpus):
    proc = run(tmp_path, corpus, CORPUS_DIR="")
    assert proc.returncode == 2 and "set CORPUS_DIR" in proc.stderr
    proc = run(tmp_path, corpus, PAIR="de-en")
    assert proc.returncode == 2 and "PAIR must look like en-<tgt>" in proc.stderr
    proc = run(tmp_path, corpus, "--stop-stage", "0", PAIR="en-fr")
    assert proc.returncode == 2 and "no such folder" in proc.stderr
