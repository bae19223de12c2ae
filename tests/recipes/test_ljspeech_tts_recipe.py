"""Smoke run of every stage of recipes/ljspeech/tts on a fixture LJSpeech tree."""

import json
from pathlib import Path

import pytest

from data_prep.ljspeech import prepare_ljspeech
from speech.config import from_dict, load_yaml
from speech.tasks.tts import TTSConfig
from speech.tasks.vocoder import VocoderConfig
from tests.data_prep.fixtures import make_ljspeech
from tests.recipes.runner import ROOT, run_recipe

SMOKE = "recipes/ljspeech/tts/conf/smoke.yaml"
VOCODER_SMOKE = str(ROOT / "recipes" / "mini" / "tts" / "conf" / "vocoder_smoke.yaml")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_ljspeech(tmp_path_factory.mktemp("ljspeech"), utterances=8)


def run(tmp_path, corpus, *args, config=SMOKE, **env_overrides):
    env = {
        "CORPUS_DIR": str(corpus),
        "DATA_DIR": str(tmp_path / "data"),
        "CORPUS_OPTS": "--dev 2 --test 2 --jobs 2",
        "DECODE_OPTS": "--threads 1",
        "ASR_MODEL": str(tmp_path / "no-asr-model.ckpt"),
        "VOCODER_CONFIG": VOCODER_SMOKE,  # conf/vocoder.yaml is for a GPU
    }
    return run_recipe(
        "ljspeech/tts", *args, config=config, exp_dir=tmp_path / "exp", **{**env, **env_overrides}
    )


def test_all_stages_then_rerun_skips(tmp_path, corpus):
    proc = run(tmp_path, corpus)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    exp, data = tmp_path / "exp", tmp_path / "data"
    assert "ljspeech: 8 utterances" in proc.stdout
    symbols = json.loads((data / "tokenizer.json").read_text())
    assert "c" in json.dumps(symbols) and "ɪ" not in json.dumps(symbols)  # characters, not phonemes
    results = (exp / "RESULTS.md").read_text()
    assert "| synthesized (Griffin-Lim 32) | 2 |" in results and "| reference | 2 |" in results
    assert f"| copy-synthesis (vocoder `{exp / 'vocoder' / 'model.ckpt'}`) | 2 |" in results
    assert "pocketsphinx WER" in results and "diagonality" in results
    assert "no ASR model was given" in results
    assert len(list((exp / "synth_test").glob("*.wav"))) == 2
    assert len(list((exp / "synth_test_vocoder").glob("*.wav"))) == 2
    again = run(tmp_path, corpus)
    assert again.returncode == 0
    # stages 0, 1 (tokenizer, mel stats), 2 (tts, vocoder), 3 (griffin-lim, vocoder), 4
    assert again.stdout.count("up to date, skipped") == 8
    later = run(tmp_path, corpus, "--stage", "1", "--stop-stage", "1", CORPUS_DIR="")  # stage 0 not needed
    assert later.returncode == 0 and "stage 0" not in later.stdout


def test_phonemes_from_the_config(tmp_path, corpus):
    config = tmp_path / "phonemes.yaml"
    config.write_text(Path(SMOKE).read_text() + "text:\n  phonemes: true\n")
    prepare_ljspeech(corpus, tmp_path / "data" / "corpus", dev=2, test=2, progress=False)
    proc = run(tmp_path, corpus, "--stage", "1", "--stop-stage", "1", config=config)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    assert "--phonemes" in proc.stdout
    assert "ɪ" in (tmp_path / "data" / "tokenizer.json").read_text(encoding="utf-8")


def test_configs_load():
    for name in ("train", "smoke"):
        config = from_dict(TTSConfig, load_yaml(f"recipes/ljspeech/tts/conf/{name}.yaml"), name)
        assert not config.data.multi_speaker and config.features.sample_rate == 22050
    train = from_dict(TTSConfig, load_yaml("recipes/ljspeech/tts/conf/train.yaml"), "train")
    assert train.model.encoder_dim == 512 and train.trainer.precision == "bf16-mixed"
    vocoder = from_dict(VocoderConfig, load_yaml("recipes/ljspeech/tts/conf/vocoder.yaml"), "vocoder")
    assert vocoder.model.dim == 512 and vocoder.discriminator.period_channels[-1] == 1024
    assert vocoder.features == train.features  # the vocoder inverts the model's own mels


def test_missing_corpus_dir(tmp_path, corpus):
    proc = run(tmp_path, corpus, CORPUS_DIR="")
    assert proc.returncode == 2 and "set CORPUS_DIR" in proc.stderr
    proc = run(tmp_path, corpus, "--stop-stage", "0", CORPUS_DIR=str(tmp_path / "nowhere"))
    assert proc.returncode == 2 and "nowhere: no such folder" in proc.stderr
    assert run(tmp_path, corpus, "--stage", "x").returncode == 2
