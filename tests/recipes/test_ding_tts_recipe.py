"""Smoke run of every stage of recipes/ding/tts on a fixture dictionary and the CPU smoke config."""

from pathlib import Path

import pytest

from speech.config import from_dict, load_yaml
from speech.tasks.tts import TTSConfig
from tests.recipes.runner import ding_env, run_recipe

CONF = Path("recipes/ding/tts/conf")


def run(tmp_path: Path, *args: str, config: str = "smoke.yaml", exp: str = "exp", **env: str):
    env = {
        **ding_env(tmp_path, "--tts-train 4 --tts-dev 2 --tts-test 2"),
        "ASR_MODEL": str(tmp_path / "none"),
        **env,
    }
    return run_recipe("ding/tts", *args, config=config, exp_dir=tmp_path / exp, **env)


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
