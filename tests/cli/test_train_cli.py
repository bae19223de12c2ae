"""``speech train`` keeps the CLI contract (issue 12): interrupted runs exit non-zero and resume,
no model is claimed that was not written, bad checkpoints and folders are one-line errors."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest
import torch
import yaml

from speech.checkpoint import time_cap_warning, training_summary
from speech.cli.main import main
from tests.tasks.conftest import SMOKE, data_overrides
from tests.tasks.conftest import asr_data as asr_data  # the fixture, shared with the task tests


def one_line(err: str) -> str:
    lines = [line for line in err.strip().splitlines() if line.strip()]
    assert len(lines) == 1, lines
    return lines[0]


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_signal_stops_training_with_a_nonzero_exit_and_a_rerun_resumes(asr_data, tmp_path, sig, code, capsys):
    exp = tmp_path / "exp"
    overrides = [*SMOKE, *data_overrides(asr_data), "trainer.checkpoint_every_n_steps=1"]
    command = [sys.executable, "-m", "speech", "train", "asr", "--exp-dir", str(exp), *overrides]
    proc = subprocess.Popen(
        [*command, "trainer.max_steps=100000"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    last = exp / "checkpoints" / "last.ckpt"
    while proc.poll() is None and not last.exists():  # wait until it is inside the training loop
        time.sleep(0.1)
    proc.send_signal(sig)
    out, err = proc.communicate()
    assert proc.returncode == code, err[-2000:]
    message = err.strip().splitlines()[-1]
    assert f"interrupted by {sig.name}" in message and "resume" in message and str(last) in message
    assert "model written" not in out and not (exp / "model.ckpt").exists()
    step = torch.load(last, weights_only=True)["global_step"]
    assert step >= 1
    # the same command, with a budget it can finish, resumes from last.ckpt
    assert main(["train", "asr", "--exp-dir", str(exp), *overrides, f"trainer.max_steps={step + 1}"]) == 0
    assert f"resuming from {last}" in capsys.readouterr().out
    assert torch.load(last, weights_only=True)["global_step"] == step + 1 and (exp / "model.ckpt").is_file()


def test_bare_overrides_and_a_loud_time_cap(asr_data, tmp_path, capsys):
    exp = tmp_path / "exp"
    argv = ["train", "asr", *SMOKE, "--exp-dir", str(exp), *data_overrides(asr_data)]
    assert main([*argv, "--set", "trainer.max_steps=50", "trainer.max_minutes=0.000001"]) == 0
    captured = capsys.readouterr()
    assert f"model written to {exp / 'model.ckpt'}" in captured.out and (exp / "model.ckpt").is_file()
    warning = [line for line in captured.err.splitlines() if line.startswith("warning: training stopped")]
    assert len(warning) == 1 and "max_minutes" in warning[0] and "machine" in warning[0]
    saved = yaml.safe_load((exp / "config.yaml").read_text())
    assert saved["model"]["listener"]["hidden_size"] == 16  # a bare override before --exp-dir
    assert saved["data"]["train"] == str(asr_data["train"])  # bare overrides after it
    training = training_summary(torch.load(exp / "model.ckpt", weights_only=True))
    assert training["stopped_by"] == "max_minutes" and training["global_step"] < 50
    assert time_cap_warning(training) in warning[0]


def test_a_step_capped_run_stops_at_the_step_count_and_says_so(asr_data, tmp_path, capsys):
    exp = tmp_path / "exp"
    argv = ["train", "asr", *SMOKE, "--exp-dir", str(exp), *data_overrides(asr_data)]
    assert main([*argv, "trainer.max_steps=3", "trainer.max_epochs=100"]) == 0
    assert "warning" not in capsys.readouterr().err
    model = torch.load(exp / "model.ckpt", weights_only=True)
    training = training_summary(model)
    assert training["stopped_by"] == "max_steps" and training["global_step"] == 3
    assert training["epochs"] == 1  # 2 batches an epoch: the second epoch was cut short
    assert time_cap_warning(training) is None
    assert torch.load(exp / "checkpoints" / "last.ckpt", weights_only=True)["global_step"] == 3


@pytest.mark.parametrize("budget", ["trainer.max_steps=0", "trainer.max_epochs=0", "trainer.max_minutes=-1"])
def test_no_budget_never_claims_a_model(asr_data, tmp_path, capsys, budget):
    exp = tmp_path / "exp"
    assert main(["train", "asr", "--exp-dir", str(exp), *SMOKE, *data_overrides(asr_data), budget]) == 2
    captured = capsys.readouterr()
    assert "model written" not in captured.out and not (exp / "model.ckpt").exists()
    assert budget.split("=")[0].split(".")[1] in one_line(captured.err)


def _train_checkpoint(path, task="asr", loops=True) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    ckpt = {"speech": {"task": task, "format_version": 1}, "state_dict": {"w": torch.zeros(4)}}
    if loops:
        ckpt |= {"loops": {"fit_loop": {}}, "global_step": 3}
    torch.save(ckpt, path)


@pytest.mark.parametrize("damage", ["truncated", "garbage", "other task", "exported model"])
def test_a_bad_last_checkpoint_is_one_line_saying_how_to_start_over(asr_data, tmp_path, capsys, damage):
    exp = tmp_path / "exp"
    last = exp / "checkpoints" / "last.ckpt"
    _train_checkpoint(last, task="tts" if damage == "other task" else "asr", loops=damage != "exported model")
    if damage == "truncated":
        last.write_bytes(last.read_bytes()[: last.stat().st_size // 2])
    elif damage == "garbage":
        last.write_bytes(b"\x00not a checkpoint" * 10)
    assert main(["train", "asr", "--exp-dir", str(exp), *SMOKE, *data_overrides(asr_data)]) == 2
    line = one_line(capsys.readouterr().err)
    assert str(last) in line and "delete" in line and "start over" in line
    assert not (exp / "config.yaml").exists() and not (exp / "model.ckpt").exists()


class _RunsCode:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


def test_resume_never_runs_code_from_a_crafted_checkpoint(asr_data, tmp_path, capsys, monkeypatch):
    exp, marker = tmp_path / "exp", tmp_path / "pwned"
    last = exp / "checkpoints" / "last.ckpt"
    last.parent.mkdir(parents=True)
    torch.save({"speech": {"task": "asr"}, "state_dict": {}, "loops": {}, "x": _RunsCode(marker)}, last)
    monkeypatch.setenv("TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD", "1")
    assert main(["train", "asr", "--exp-dir", str(exp), *SMOKE, *data_overrides(asr_data)]) == 2
    assert str(last) in one_line(capsys.readouterr().err)
    assert not marker.exists()


def test_an_unusable_exp_dir_is_one_line(asr_data, tmp_path, capsys):
    afile = tmp_path / "afile"
    afile.write_text("x")
    targets = [afile, afile / "exp"]
    if os.geteuid() != 0:  # root writes anywhere
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        targets.append(locked / "exp")
    for exp in targets:
        assert main(["train", "asr", "--exp-dir", str(exp), *SMOKE, *data_overrides(asr_data)]) == 2
        assert str(exp) in one_line(capsys.readouterr().err)
    assert afile.read_text() == "x"


@pytest.mark.parametrize("bad", ["trainer.accelerator=mps", "trainer.check_val_every_n_epoch=0"])
def test_invalid_settings_leave_nothing_behind(asr_data, tmp_path, capsys, bad):
    exp = tmp_path / "exp"
    assert main(["train", "asr", "--exp-dir", str(exp), *SMOKE, *data_overrides(asr_data), bad]) == 2
    one_line(capsys.readouterr().err)
    assert not exp.exists() or not any(exp.iterdir())


def test_json_and_quiet(asr_data, tmp_path, capfd):
    exp = tmp_path / "exp"
    argv = ["train", "asr", "--exp-dir", str(exp), *SMOKE, *data_overrides(asr_data), "trainer.max_steps=1"]
    assert main([*argv, "--json", "--quiet"]) == 0
    captured = capfd.readouterr()
    assert json.loads(captured.out.strip().splitlines()[-1]) == {
        "model": str(exp / "model.ckpt"),
        "exp_dir": str(exp),
    }
    assert "Epoch 0" not in captured.out + captured.err and "Trainable params" not in captured.err
    assert yaml.safe_load((exp / "config.yaml").read_text())["trainer"]["progress_bar"] is False


def test_a_duration_limit_that_leaves_nothing_is_one_line(asr_data, tmp_path, capsys):
    argv = ["train", "asr", "--exp-dir", str(tmp_path / "exp"), *SMOKE, *data_overrides(asr_data)]
    assert main([*argv, "data.max_duration=0.001"]) == 2
    line = one_line(capsys.readouterr().err)
    assert str(asr_data["train"]) in line and "data.max_duration=0.001" in line


def test_resume_refuses_a_config_that_trains_differently(asr_data, tmp_path, capsys):
    exp = tmp_path / "exp"
    argv = ["train", "asr", "--exp-dir", str(exp), *SMOKE, *data_overrides(asr_data)]
    assert main([*argv, "trainer.max_steps=1"]) == 0
    last, config = exp / "checkpoints" / "last.ckpt", exp / "config.yaml"
    saved, recorded = last.read_bytes(), config.read_text()
    capsys.readouterr()
    assert main([*argv, "trainer.max_steps=2", "optim.lr=0.002", "data.max_seconds=10"]) == 2
    line = one_line(capsys.readouterr().err)
    assert line == (
        f"speech train: error: {config} differs from this run's config in data.max_seconds (20 -> 10), "
        f"optim.lr (0.001 -> 0.002); use a new --exp-dir or delete {exp / 'checkpoints'} to start over"
    )
    assert last.read_bytes() == saved and config.read_text() == recorded
    # the settings that only say how long, how fast and how verbosely to train may change
    safe = ["trainer.max_steps=2", "trainer.num_threads=2", "trainer.log_every_n_steps=1"]
    assert main([*argv, *safe, "search.beam_size=3", "--quiet"]) == 0
    assert f"resuming from {last}" in capsys.readouterr().out
    assert torch.load(last, weights_only=True)["global_step"] == 2
    assert yaml.safe_load(config.read_text())["trainer"]["max_steps"] == 2
