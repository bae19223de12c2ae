"""Kept models during training and ``speech average`` over them."""

import csv
import json

import pytest
import torch

from speech.average import average_models, average_state_dicts, kept_models, select
from speech.cli.main import main
from speech.errors import SpeechError
from speech.inference import Transcriber
from speech.tasks.checkpoint import load_checkpoint
from speech.tasks.train import train_asr
from tests.tasks.conftest import SMOKE, data_overrides


def _fake_kept(folder, step, value, weight, meta=None):
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"epoch{step:03d}-step{step:07d}.ckpt"
    kept = {"step": step, "epoch": step, "metric": "val/loss", "value": value}
    state = {"w": torch.full((2,), float(weight)), "n": torch.tensor(3)}
    torch.save(
        {"speech": meta or {"task": "asr", "format_version": 2}, "state_dict": state, "kept": kept}, path
    )
    return path


def test_select_best_and_last(tmp_path):
    folder = tmp_path / "checkpoints" / "kept"
    for step, value in [(1, 3.0), (2, 1.0), (3, 2.0), (4, None)]:
        _fake_kept(folder, step, value, step)
    models = kept_models(tmp_path)
    assert [m.step for m in select(models, 2, "best")] == [2, 3]
    assert [m.step for m in select(models, 2, "last")] == [4, 3]
    with pytest.raises(SpeechError, match="only 3 kept models with a validation metric"):
        select(models, 4, "best")


def test_average_is_the_mean_of_the_chosen_models(tmp_path):
    folder = tmp_path / "checkpoints" / "kept"
    for step, value in [(1, 3.0), (2, 1.0), (3, 2.0)]:
        _fake_kept(folder, step, value, step * 10)
    out, chosen = average_models(tmp_path, 2, "best")
    model = torch.load(out, weights_only=True)
    assert torch.allclose(model["state_dict"]["w"], torch.full((2,), 25.0))  # steps 2 and 3
    assert model["state_dict"]["n"].item() == 3
    assert [m["step"] for m in model["averaged"]["models"]] == [2, 3]
    out, _ = average_models(tmp_path, 3, "last", tmp_path / "all.ckpt")
    assert torch.allclose(torch.load(out, weights_only=True)["state_dict"]["w"], torch.full((2,), 20.0))


def test_average_refuses_models_that_differ(tmp_path):
    states = [{"w": torch.zeros(2)}, {"w": torch.zeros(3)}]
    with pytest.raises(SpeechError, match="b: weight w differs"):
        average_state_dicts(states, ["a", "b"])
    with pytest.raises(SpeechError, match="integer buffer n differs"):
        average_state_dicts([{"n": torch.tensor(1)}, {"n": torch.tensor(2)}], ["a", "b"])
    folder = tmp_path / "checkpoints" / "kept"
    _fake_kept(folder, 1, 1.0, 1)
    _fake_kept(folder, 2, 2.0, 2, meta={"task": "asr", "format_version": 2, "model": {"x": 1}})
    with pytest.raises(SpeechError, match="model metadata .* differs"):
        average_models(tmp_path, 2, "last")


def test_cli_errors_are_one_line(tmp_path, capsys):
    assert main(["average", "--exp-dir", str(tmp_path), "--best", "2"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no kept models" in err
    folder = tmp_path / "checkpoints" / "kept"
    _fake_kept(folder, 1, 1.0, 1)
    assert (
        main(["average", "--exp-dir", str(tmp_path), "--last", "1", "--out", str(folder / "avg.ckpt")]) == 2
    )
    assert "outside" in capsys.readouterr().err and not (folder / "avg.ckpt").exists()
    (folder / "junk.ckpt").write_bytes(b"not a checkpoint")
    assert main(["average", "--exp-dir", str(tmp_path), "--last", "1"]) == 2
    assert "junk.ckpt: not a readable checkpoint" in capsys.readouterr().err


def test_training_keeps_best_and_last_and_the_average_transcribes(asr_data, tmp_path, capsys):
    exp = tmp_path / "exp"
    overrides = SMOKE + data_overrides(asr_data) + ["trainer.max_epochs=4", "trainer.keep_checkpoints=2"]
    train_asr(None, exp, [*overrides, "data.max_seconds=8"])
    models = kept_models(exp)
    assert 2 <= len(models) <= 4 and all(m.metric == "val/loss" and m.value is not None for m in models)
    steps = [m.step for m in models]
    assert max(steps) == load_checkpoint(exp / "checkpoints" / "last.ckpt")["global_step"]
    # the pruned folder holds the 2 best and the 2 most recent of the 4 validated epochs
    assert load_checkpoint(exp / "model.ckpt")["speech"] == load_checkpoint(models[0].path)["speech"]
    with open(exp / "csv" / "metrics.csv") as f:
        history = {int(r["epoch"]): float(r["val/loss"]) for r in csv.DictReader(f) if r["val/loss"]}
    assert len(history) == 4
    expected = set(sorted(history, key=history.get)[:2]) | set(sorted(history)[-2:])
    assert {m.epoch for m in models} == expected
    assert {m.epoch: m.value for m in models} == pytest.approx({e: history[e] for e in expected})
    best = select(models, 2, "best")
    assert all(b.value <= m.value for b in best for m in models if m not in best)

    capsys.readouterr()
    assert main(["average", "--exp-dir", str(exp), "--best", "2", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert [a["step"] for a in result["averaged"]] == [m.step for m in best]
    averaged = load_checkpoint(result["model"])["state_dict"]
    first, second = (load_checkpoint(m.path)["state_dict"] for m in best)
    key = next(
        k for k, v in averaged.items() if v.is_floating_point() and not torch.equal(first[k], second[k])
    )
    assert torch.allclose(averaged[key], (first[key] + second[key]) / 2, atol=1e-6)
    wave = torch.zeros(16000)
    assert len(Transcriber.from_checkpoint(result["model"]).transcribe([wave], beam_size=1)) == 1
