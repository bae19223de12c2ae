import json
import os
import subprocess
import sys

import pytest
import torch

from speech.cli.main import main
from speech.inference import Transcriber
from speech.tasks.checkpoint import load_checkpoint
from speech.tasks.train import train_asr
from tests.tasks.conftest import SMOKE, data_overrides


def test_train_writes_complete_atomic_checkpoints_and_resumes(asr_data, tmp_path):
    exp = tmp_path / "exp"
    out = train_asr(None, exp, SMOKE + data_overrides(asr_data) + ["trainer.max_steps=2"])
    assert out == exp / "model.ckpt" and out.is_file()
    meta = load_checkpoint(out)["speech"]
    assert meta["task"] == "asr" and meta["tokenizer"]["type"] == "char" and len(meta["cmvn"]["mean"]) == 80
    assert (exp / "config.yaml").is_file() and (exp / "checkpoints" / "last.ckpt").is_file()
    assert list((exp / "alignments").glob("*.png"))
    assert not [p for p in exp.rglob("*.tmp*")]
    assert list((exp / "csv").glob("metrics.csv"))
    # A rerun with a larger budget resumes from last.ckpt instead of starting over.
    train_asr(None, exp, SMOKE + data_overrides(asr_data) + ["trainer.max_steps=4", "trainer.max_epochs=3"])
    last = torch.load(exp / "checkpoints" / "last.ckpt", weights_only=True)
    assert last["global_step"] == 4

    transcriber = Transcriber.from_checkpoint(out)
    results = transcriber.transcribe(
        [
            asr_data["corpus"] / "wavs" / "test" / p
            for p in sorted(os.listdir(asr_data["corpus"] / "wavs" / "test"))
        ],
        beam_size=2,
    )
    assert len(results) == 3 and all(isinstance(r.text, str) for r in results)
    wave = torch.zeros(16000)
    assert len(transcriber.transcribe([wave], beam_size=1)) == 1


def test_transcribe_cli_reports_bad_files_and_goes_on(asr_data, tmp_path, capsys):
    exp = tmp_path / "exp"
    model = train_asr(None, exp, SMOKE + data_overrides(asr_data) + ["trainer.max_steps=1"])
    good = sorted((asr_data["corpus"] / "wavs" / "test").iterdir())[0]
    bad = tmp_path / "bad.wav"
    bad.write_text("not audio")
    capsys.readouterr()
    code = main(
        ["transcribe", "--model", str(model), "--beam", "2", str(bad), str(good), str(tmp_path / "nope.wav")]
    )
    captured = capsys.readouterr()
    assert code == 2
    assert captured.out.startswith(f"{good}\t")
    errors = captured.err.strip().splitlines()
    assert len(errors) == 2 and "bad.wav" in errors[0] and "nope.wav" in errors[1]
    assert main(["transcribe", "--model", str(model), "--json", "--beam", "1", str(good)]) == 0
    assert json.loads(capsys.readouterr().out)["file"] == str(good)
    for argv in (
        ["--model", str(tmp_path / "missing.ckpt"), str(good)],
        ["--model", str(bad), str(good)],
        ["--model", str(model), "--beam", "0", str(good)],
        ["--model", str(model)],
    ):
        assert exit_code(["transcribe", *argv]) == 2
        assert len(capsys.readouterr().err.strip().splitlines()) == 1


def exit_code(argv: list[str]) -> int:
    """``main``'s exit code, also for argparse's errors (which raise SystemExit)."""
    try:
        return main(argv)
    except SystemExit as e:
        return e.code


def test_bad_config_is_one_line_error(asr_data, tmp_path, capsys):
    config = tmp_path / "c.yaml"
    config.write_text("model:\n  listner: {}\n")
    assert main(["train", "asr", "--config", str(config), "--exp-dir", str(tmp_path / "e")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "unknown key 'model.listner'" in err[0]


def test_ddp_two_cpu_processes(asr_data, tmp_path):
    exp = tmp_path / "exp"
    overrides = (
        SMOKE
        + data_overrides(asr_data)
        + ["trainer.max_steps=2", "trainer.devices=2", "trainer.strategy=ddp", "trainer.accelerator=cpu"]
    )
    proc = subprocess.run(
        [sys.executable, "-m", "speech", "train", "asr", "--exp-dir", str(exp), "--set", *overrides],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "GLOBAL_RANK: 1" in proc.stderr + proc.stdout or "MEMBER: 2/2" in proc.stderr + proc.stdout
    assert (exp / "model.ckpt").is_file()
    assert torch.load(exp / "checkpoints" / "last.ckpt", weights_only=True)["global_step"] == 2


@pytest.mark.parametrize(("precision", "heads"), [("bf16-mixed", 1), ("bf16-mixed", 2)])
def test_bf16_autocast_training_runs_on_cpu(asr_data, tmp_path, precision, heads):
    out = train_asr(
        None,
        tmp_path / "exp",
        SMOKE
        + data_overrides(asr_data)
        + [
            "trainer.max_steps=1",
            f"trainer.precision={precision}",
            "trainer.accelerator=cpu",
            f"model.speller.attention_heads={heads}",
        ],
    )
    transcriber = Transcriber.from_checkpoint(out)
    attention = transcriber.model.speller.attention
    assert len(getattr(attention, "heads", [attention])) == heads
    wav = sorted((asr_data["corpus"] / "wavs" / "test").iterdir())[0]
    assert isinstance(transcriber.transcribe([wav], beam_size=2)[0].text, str)


def test_language_model_training_and_shallow_fusion(asr_data, tmp_path, capsys):
    from speech.tasks.train import train_lm

    lm = train_lm(
        None,
        tmp_path / "lm",
        [
            f"data.train={asr_data['train']}",
            f"data.dev={asr_data['dev']}",
            f"data.tokenizer={asr_data['tokenizer']}",
            "trainer.max_steps=3",
            "model.hidden_size=16",
            "model.embed_dim=8",
        ],
    )
    assert load_checkpoint(lm)["speech"]["task"] == "lm"
    model = train_asr(None, tmp_path / "asr", SMOKE + data_overrides(asr_data) + ["trainer.max_steps=1"])
    good = str(sorted((asr_data["corpus"] / "wavs" / "test").iterdir())[0])
    capsys.readouterr()  # drop the training progress bars
    assert main(["transcribe", "--model", str(model), "--lm", str(lm), "--lm-weight", "0.5", good]) == 0
    assert capsys.readouterr().out.startswith(good)
    assert main(["transcribe", "--model", str(model), "--lm", str(model), good]) == 2
    assert "not a language model" in capsys.readouterr().err


def test_length_buckets_are_reshuffled_every_epoch(asr_data, tmp_path):
    from speech.tasks.asr import ASRConfig, ASRTask
    from speech.tasks.common import build_trainer
    from speech.tasks.train import load_config
    from speech.text import load_tokenizer

    config = load_config(
        ASRConfig, None, SMOKE + data_overrides(asr_data) + ["data.max_seconds=8", "trainer.max_epochs=2"]
    )
    task = ASRTask(config, load_tokenizer(asr_data["tokenizer"]))
    seen = []
    task.on_train_batch_start = lambda batch, idx: seen.append((task.current_epoch, tuple(batch.ids)))
    trainer = build_trainer(config.trainer, tmp_path, 5.0, "val/loss")
    trainer.limit_val_batches = 0
    trainer.fit(task)
    epochs = [[ids for e, ids in seen if e == k] for k in (0, 1)]
    assert trainer.train_dataloader.batch_sampler.epoch == 1
    assert epochs[0] and sorted(i for b in epochs[0] for i in b) == sorted(i for b in epochs[1] for i in b)
    assert epochs[0] != epochs[1]
