"""Smoke run of every stage of recipes/ding/asr on a fixture dictionary and the CPU smoke configs."""

from pathlib import Path

import pytest

from speech.config import from_dict, load_yaml
from speech.tasks.asr import ASRConfig
from speech.tasks.lm import LMTrainConfig
from speech.tasks.st import STConfig
from tests.recipes.runner import ding_env, run_recipe

CONF = Path("recipes/ding/asr/conf")


def run(tmp_path: Path, *args: str, config: str = "smoke.yaml", exp: str = "exp", **env: str):
    env = {
        **ding_env(tmp_path, "--voices slt,en-us+m3 --unseen-voices festival:ked_diphone"),
        "VOCAB_SIZE": "40",
        "LM_CONFIG": str(CONF / "lm_smoke.yaml"),
        **env,
    }
    return run_recipe("ding/asr", *args, config=config, exp_dir=tmp_path / exp, **env)


@pytest.mark.slow  # about a minute: flite, espeak-ng, festival, LM and recognizer training, decoding
def test_all_stages_on_a_fixture_dictionary_then_rerun_skips(tmp_path):
    proc = run(tmp_path)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    exp = tmp_path / "exp"
    results = (exp / "RESULTS.md").read_text()
    for row in ("dev", "test", "test_unseen", "test_pocketsphinx", "test_unseen_pocketsphinx"):
        assert f"| {row} | 2 |" in results, results
    assert (exp / "lm" / "model.ckpt").is_file()
    ours, peer = (
        [line.split("\t")[0] for line in (exp / folder / "ref.txt").read_text().splitlines()]
        for folder in ("decode_test_unseen", "decode_test_unseen_pocketsphinx")
    )
    assert ours == peer and len(ours) == 2  # the same utterances
    assert "Texts scored lower case" in results
    again = run(tmp_path)
    assert again.returncode == 0
    assert again.stdout.count("up to date, skipped") == 11  # 0, 1 (x2), 2, 3, 4 (x3), 5 (x2), 6
    # the GPU config, dry-run on the CPU: full sizes, bf16 autocast, one step
    cpu = "trainer.accelerator=cpu trainer.max_steps=1 data.num_workers=0"
    stage = ("--stage", "3", "--stop-stage", "3")
    gpu = run(tmp_path, *stage, config="train_gpu.yaml", exp="gpu", TRAIN_OPTS=cpu)
    assert gpu.returncode == 0, gpu.stdout[-2000:] + gpu.stderr[-3000:]
    assert (tmp_path / "gpu" / "model.ckpt").is_file()


def test_configs_load():
    for name in ("train", "train_gpu", "smoke"):
        config = from_dict(ASRConfig, load_yaml(CONF / f"{name}.yaml"), name)
        assert config.features.sample_rate == 16000
        if name != "smoke":
            assert config.trainer.max_minutes is None
    train = from_dict(ASRConfig, load_yaml(CONF / "train.yaml"), "train")
    assert train.trainer.max_steps > 0 and train.trainer.accelerator != "gpu"
    gpu = from_dict(ASRConfig, load_yaml(CONF / "train_gpu.yaml"), "train_gpu")
    st = load_yaml("recipes/ding/st/conf/train_gpu.yaml")
    for key in ("hidden_size", "n_layers", "n_pyramid", "conv_channels"):  # ASR_MODEL can start ST
        assert getattr(gpu.model.listener, key) == st["model"]["listener"][key]
    st_cpu = from_dict(STConfig, load_yaml("recipes/ding/st/conf/train.yaml"), "st")
    assert st_cpu.model.listener == train.model.listener and st_cpu.features == train.features
    for name in ("lm", "lm_smoke"):
        from_dict(LMTrainConfig, load_yaml(CONF / f"{name}.yaml"), name)


def test_bad_options(tmp_path):
    proc = run(tmp_path, "--stage", "x")
    assert proc.returncode == 2 and "integers" in proc.stderr
