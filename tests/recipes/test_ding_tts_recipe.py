"""Smoke run of every stage of recipes/ding/tts on a fixture dictionary and the CPU smoke config."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from speech.config import from_dict, load_yaml
from speech.tasks.tts import TTSConfig
from tests.data_prep.test_ding import FIXTURE

RUN = Path("recipes/ding/tts/run.sh")
CONF = Path("recipes/ding/tts/conf")


def run(tmp_path: Path, *args: str, config: str = "smoke.yaml", exp: str = "exp", **env_overrides: str):
    dictionary = tmp_path / "de-en"
    dictionary.write_text(FIXTURE, encoding="utf-8")
    env = dict(os.environ)
    env["DATA_DIR"] = str(tmp_path / "data")
    env["CORPUS_OPTS"] = (
        f"--dictionary {dictionary} --max-pairs 8 --dev 2 --test 2 --tts-train 4 --tts-dev 2 "
        "--tts-test 2 --jobs 2 --quiet"
    )
    env["ASR_MODEL"] = str(tmp_path / "none")
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env["PATH"]
    env["PYTHON"] = sys.executable
    env.update(env_overrides)
    command = ["bash", str(RUN), "--config", str(CONF / config), "--exp-dir", str(tmp_path / exp)]
    return subprocess.run([*command, *args], capture_output=True, text=True, env=env, timeout=900)


@pytest.mark.slow  # about a minute: flite, espeak-ng phonemes, training, synthesis, pocketsphinx
def test_all_stages_on_a_fixture_dictionary_then_rerun_skips(tmp_path):
    proc = run(tmp_path)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    exp = tmp_path / "exp"
    results = (exp / "RESULTS.md").read_text()
    assert "| synthesized | 2 |" in results and "| reference | 2 |" in results
    assert "pocketsphinx WER" in results and "diagonality" in results
    assert len(list((exp / "synth_test").glob("*.wav"))) == 2
    assert not (tmp_path / "data" / "corpus" / "train.jsonl").exists()  # the TTS part only
    again = run(tmp_path)
    assert again.returncode == 0
    assert again.stdout.count("up to date, skipped") == 6  # stages 0, 1 (tokenizer, mel stats), 2, 3, 4
    # the GPU config, dry-run on the CPU: full sizes, bf16 autocast, one step
    cpu = "trainer.accelerator=cpu trainer.max_steps=1 data.num_workers=0 data.synth_items=1"
    stage = ("--stage", "2", "--stop-stage", "2")
    gpu = run(tmp_path, *stage, config="train_gpu.yaml", exp="gpu", TRAIN_OPTS=cpu)
    assert gpu.returncode == 0, gpu.stdout[-2000:] + gpu.stderr[-3000:]
    assert (tmp_path / "gpu" / "model.ckpt").is_file()


def test_configs_load():
    for name in ("train", "train_gpu", "smoke"):
        config = from_dict(TTSConfig, load_yaml(CONF / f"{name}.yaml"), name)
        assert config.features.sample_rate == 22050 and config.text.phonemes
        if name != "smoke":
            assert config.trainer.max_minutes is None
    assert from_dict(TTSConfig, load_yaml(CONF / "train.yaml"), "train").trainer.max_steps > 0
