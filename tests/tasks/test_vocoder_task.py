"""Vocoder training (``speech train vocoder``), its checkpoints, its use by the Synthesizer and the CLI."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import torch

from speech.checkpoint import load_checkpoint
from speech.cli.main import main
from speech.errors import SpeechError
from speech.features import LogMelConfig
from speech.inference.synthesizer import Synthesizer
from speech.inference.vocoder import NeuralVocoder
from speech.metadata import VocoderMeta, to_dict
from speech.tasks.train import train_vocoder
from speech.tasks.vocoder import EpochSampler, SegmentDataset, VocoderConfig, VocoderTask

VOCODER_SMOKE = [
    "model.dim=16",
    "model.intermediate_dim=32",
    "model.layers=2",
    "discriminator.periods=[2, 3]",
    "discriminator.period_channels=[4, 4, 8, 8]",
    "discriminator.resolutions=[[512, 128, 512]]",
    "discriminator.resolution_channels=4",
    "data.batch_size=2",
    "data.segment_frames=12",
    "data.max_seconds=12",
    "trainer.num_threads=1",
    "trainer.log_every_n_steps=1",
    "trainer.max_epochs=-1",
]


def overrides(data: dict[str, Path], *extra: str) -> list[str]:
    return [*VOCODER_SMOKE, f"data.train={data['train']}", f"data.dev={data['dev']}", *extra]


def state(exp: Path) -> dict[str, torch.Tensor]:
    return torch.load(exp / "checkpoints" / "last.ckpt", weights_only=True)["state_dict"]


@pytest.fixture(scope="module")
def vocoder_run(tts_data, tmp_path_factory) -> Path:
    """Six steps straight through: two on the mel loss alone, then four adversarial (an epoch is 3 steps)."""
    exp = tmp_path_factory.mktemp("vocoder") / "exp"
    extra = ["loss.adversarial_start=2", "optim.warmup_steps=10"]
    train_vocoder(None, exp, overrides(tts_data, "trainer.max_steps=6", *extra))
    return exp


def test_training_logs_both_phases_and_exports_the_generator_only(vocoder_run):
    metrics = (vocoder_run / "csv" / "metrics.csv").read_text()
    for name in ("train/mel_loss", "train/d_loss", "train/fm_loss", "train/adv_loss", "val/loss"):
        assert name in metrics
    ckpt = torch.load(vocoder_run / "checkpoints" / "last.ckpt", weights_only=True)
    assert ckpt["global_step"] == 6  # generator steps, not optimiser steps
    assert any(k.startswith("discriminators.") for k in ckpt["state_dict"])
    model = load_checkpoint(vocoder_run / "model.ckpt", task="vocoder")
    assert model["state_dict"] and all(k.startswith("generator.") for k in model["state_dict"])
    last = ckpt["state_dict"]  # the last step's weights, not the lowest dev mel L1's
    assert all(torch.equal(v, last[k]) for k, v in model["state_dict"].items())
    assert (vocoder_run / "samples" / "epoch000.wav").is_file()


def test_resumed_training_equals_the_straight_run(tts_data, vocoder_run, tmp_path):
    exp = tmp_path / "exp"
    extra = ["loss.adversarial_start=2", "optim.warmup_steps=10"]  # the LR depends on no step limit
    train_vocoder(None, exp, overrides(tts_data, "trainer.max_steps=4", *extra))  # stops mid-epoch 1
    train_vocoder(None, exp, overrides(tts_data, "trainer.max_steps=6", *extra))
    a, b = state(exp), state(vocoder_run)
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_segments_are_cut_per_seed_epoch_and_utterance(tts_data):
    config = VocoderConfig()
    from speech.data import read_manifest

    data = SegmentDataset(read_manifest(tts_data["train"]), config.features, segment_frames=8, seed=3)
    assert data[(1, 0)][2] == data[(1, 0)][2]  # deterministic
    offsets = {data[(i, e)][2] for i in range(len(data)) for e in range(4)}
    assert len(offsets) > 3  # and not constant
    assert data[1][2] == 0  # validation items start at the beginning
    sampler = EpochSampler(len(data), batch_size=2, seed=0)
    sampler.set_position(2)
    batches = list(sampler)
    assert all(epoch == 2 for batch in batches for _, epoch in batch)
    assert sorted(i for batch in batches for i, _ in batch) == list(range(len(data)))


def test_segments_line_up_with_the_recording(tts_data):
    """The target samples of a segment are exactly those between its first and last frame centres."""
    config = VocoderConfig()
    config.data.segment_frames = 6
    task = VocoderTask(config)
    wave = torch.randn(1, 40 * 256) * 0.1
    from speech.tasks.vocoder import VocoderBatch

    batch = VocoderBatch(["a"], wave, torch.tensor([wave.shape[1]]), torch.tensor([7]))
    inputs, samples = task.segments(batch)
    full = task.logmel(wave).features
    assert torch.equal(inputs[0], full[0, 7:13])
    assert torch.equal(samples[0], wave[0, 7 * 256 : 12 * 256])


def test_teacher_forced_fine_tuning_runs(tts_data, tts_model, tmp_path):
    out = train_vocoder(
        None, tmp_path / "exp", overrides(tts_data, "trainer.max_steps=1", f"data.tts_model={tts_model}")
    )
    assert load_checkpoint(out, task="vocoder")["state_dict"]


def test_teacher_with_other_features_is_refused(tts_data, tts_model, tmp_path):
    with pytest.raises(SpeechError, match="mel features differ.*n_mels 80 vs 64"):
        train_vocoder(
            None,
            tmp_path / "exp",
            overrides(tts_data, "trainer.max_steps=1", f"data.tts_model={tts_model}", "features.n_mels=64"),
        )


def test_bf16_autocast_training_runs_on_cpu(tts_data, tmp_path):
    out = train_vocoder(
        None,
        tmp_path / "exp",
        overrides(
            tts_data, "trainer.max_steps=1", "loss.adversarial_start=0", "trainer.precision=bf16-mixed"
        ),
    )
    assert out.is_file()


def test_ddp_two_cpu_processes(tts_data, tmp_path):
    exp = tmp_path / "exp"
    args = overrides(tts_data, "trainer.max_steps=2", "trainer.devices=2", "trainer.strategy=ddp")
    proc = subprocess.run(
        [sys.executable, "-m", "speech", "train", "vocoder", "--exp-dir", str(exp), "--set", *args]
        + ["trainer.accelerator=cpu"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert torch.load(exp / "checkpoints" / "last.ckpt", weights_only=True)["global_step"] == 2


def test_synthesizer_uses_the_vocoder(tts_model, vocoder_run):
    synth = Synthesizer.from_checkpoint(tts_model, vocoder=vocoder_run / "model.ckpt")
    assert isinstance(synth.vocoder, NeuralVocoder)
    wave, rate = synth.synthesize("one two")
    assert rate == 22050 and wave.ndim == 1 and wave.numel() > 0 and torch.isfinite(wave).all()


def mismatched_vocoder(path: Path) -> Path:
    config = VocoderConfig(features=LogMelConfig.tts(n_mels=64))
    config.model.dim, config.model.intermediate_dim, config.model.layers = 8, 8, 1
    task = VocoderTask(config)
    meta = VocoderMeta(task="vocoder", model=task.model_config, features=config.features)
    torch.save({"speech": to_dict(meta), "state_dict": task.state_dict()}, path)
    return path


def test_vocoder_with_other_mel_features_is_one_line(tts_model, tmp_path):
    bad = mismatched_vocoder(tmp_path / "v64.ckpt")
    with pytest.raises(SpeechError, match=r"v64.ckpt: the vocoder's mel features differ .*n_mels 64 vs 80"):
        Synthesizer.from_checkpoint(tts_model, vocoder=bad)


@pytest.mark.parametrize("case", ["vocoder as model", "tts as vocoder", "other features", "missing"])
def test_synthesize_cli_bad_vocoder_inputs_are_one_line(case, tts_model, vocoder_run, tmp_path, capsys):
    vocoder = vocoder_run / "model.ckpt"
    model, expected = tts_model, ""
    if case == "vocoder as model":
        model, expected = vocoder, "a vocoder checkpoint, not a TTS model"
    elif case == "tts as vocoder":
        vocoder, expected = tts_model, "a tts checkpoint, not a vocoder"
    elif case == "other features":
        vocoder, expected = mismatched_vocoder(tmp_path / "v64.ckpt"), "mel features differ"
    else:
        vocoder, expected = tmp_path / "none.ckpt", "no such checkpoint"
    out = tmp_path / "out.wav"
    code = main(
        ["synthesize", "--model", str(model), "--vocoder", str(vocoder), "--text", "one", "--out", str(out)]
    )
    err = capsys.readouterr().err.strip()
    assert code != 0 and expected in err and "\n" not in err and "Traceback" not in err
    assert not out.exists()


def test_synthesize_cli_writes_neural_vocoder_audio(tts_model, vocoder_run, tmp_path):
    out = tmp_path / "out.wav"
    assert (
        main(
            ["synthesize", "--model", str(tts_model), "--vocoder", str(vocoder_run / "model.ckpt")]
            + ["--text", "one two", "--out", str(out)]
        )
        == 0
    )
    import soundfile as sf

    audio, rate = sf.read(out)
    assert rate == 22050 and len(audio) > 0


def test_init_from_loads_a_vocoder_and_refuses_another_size(tts_data, vocoder_run, tmp_path):
    from speech.tasks.train import load_config

    base = overrides(
        tts_data, "trainer.max_steps=1", f"init_from={vocoder_run / 'checkpoints' / 'last.ckpt'}"
    )
    task = VocoderTask.from_config(load_config(VocoderConfig, None, base), resume=False)
    trained = state(vocoder_run)
    ours = task.state_dict()
    assert all(torch.equal(ours[k], trained[k]) for k in trained)  # generator and discriminators
    task = VocoderTask.from_config(load_config(VocoderConfig, None, base), resume=True)
    assert not torch.equal(task.state_dict()["generator.head.weight"], trained["generator.head.weight"])
    wider = load_config(VocoderConfig, None, [*base, "model.dim=24"])
    with pytest.raises(SpeechError, match="differs from this config's 'model'"):
        VocoderTask.from_config(wider, resume=False)


def test_a_shard_folder_is_refused_in_one_line(tts_data, tmp_path, capsys):
    """The vocoder samples random windows of every recording: it reads manifests, not tar shards."""
    from speech.data.shard_writer import write_shards

    shards = tmp_path / "shards"
    write_shards(tts_data["train"], shards, shard_size=3)
    args = ["train", "vocoder", "--exp-dir", str(tmp_path / "exp")]
    for k, v in [(k, v) for o in overrides(tts_data, "trainer.max_steps=1") for k, v in [o.split("=", 1)]]:
        args += ["--set", f"{k}={shards if k == 'data.train' else v}"]
    capsys.readouterr()
    assert main(args) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and str(shards) in err and "not tar shards" in err
    assert not (tmp_path / "exp" / "model.ckpt").exists()
