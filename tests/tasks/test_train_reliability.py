"""Training loses nothing and claims nothing it did not do (issue 12): exact resume, kept metric
history, step checkpoints that resume mid-epoch, validation on every epoch, weights-only resume."""

from __future__ import annotations

import csv
import json

import lightning as L
import pytest
import torch
from lightning.pytorch.demos.boring_classes import BoringModel

from speech.data import LengthBucketSampler, read_manifest
from speech.errors import SpeechError
from speech.tasks.asr import ASRTask
from speech.tasks.checkpoint import AtomicCheckpointIO, restart_position
from speech.tasks.common import BucketedTask, build_optimizer, stepping_batches
from speech.tasks.train import train_asr
from tests.tasks.conftest import SMOKE, data_overrides

LOG_EVERY_STEP = ["trainer.log_every_n_steps=1", "data.max_seconds=8"]


def metric_rows(exp) -> list[tuple[str, str, str]]:
    """(step, epoch, kind) of every row of csv/metrics.csv."""
    with open(exp / "csv" / "metrics.csv", newline="") as f:
        return [(r["step"], r["epoch"], "val" if r.get("val/loss") else "train") for r in csv.DictReader(f)]


def train_losses(exp) -> list[tuple[str, str]]:
    """(step, train/loss) of every training row of csv/metrics.csv: which batch each step trained."""
    with open(exp / "csv" / "metrics.csv", newline="") as f:
        return [(r["step"], r["train/loss"]) for r in csv.DictReader(f) if r.get("train/loss")]


def weights(exp) -> dict[str, torch.Tensor]:
    return torch.load(exp / "checkpoints" / "last.ckpt", weights_only=True)["state_dict"]


@pytest.fixture(scope="module")
def straight_run(asr_data, tmp_path_factory):
    """Eight steps in one go: the reference a resumed run must reproduce exactly."""
    exp = tmp_path_factory.mktemp("straight") / "exp"
    train_asr(None, exp, SMOKE + data_overrides(asr_data) + LOG_EVERY_STEP + ["trainer.max_steps=8"])
    return exp


def assert_same_run(resumed, straight) -> None:
    assert metric_rows(resumed) == metric_rows(straight)  # same steps, same epochs, history kept
    assert train_losses(resumed) == train_losses(straight)  # the same batch at every step, none repeated
    a, b = weights(resumed), weights(straight)
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def first_epoch_steps(straight) -> int:
    """Batches in epoch 0 of the reference run (they depend on the fixture's durations)."""
    return sum(1 for step, epoch, kind in metric_rows(straight) if kind == "train" and epoch == "0")


def resume_after_step_limit(asr_data, straight_run, tmp_path, stop: int) -> None:
    exp = tmp_path / "exp"
    overrides = SMOKE + data_overrides(asr_data) + LOG_EVERY_STEP
    train_asr(None, exp, [*overrides, f"trainer.max_steps={stop}"])
    first = metric_rows(exp)
    assert torch.load(exp / "checkpoints" / "last.ckpt", weights_only=True)["global_step"] == stop
    train_asr(None, exp, [*overrides, "trainer.max_steps=8"])
    assert metric_rows(exp)[: len(first)] == first
    assert_same_run(exp, straight_run)


def test_resume_after_a_step_limit_is_exact_and_keeps_the_metric_history(asr_data, straight_run, tmp_path):
    batches = first_epoch_steps(straight_run)
    assert 3 <= batches < 8, batches  # the fixture must give mid-epoch stops inside the 8 steps
    resume_after_step_limit(asr_data, straight_run, tmp_path, stop=batches // 2)  # mid-epoch


def test_resume_after_a_step_limit_at_an_epoch_end(asr_data, straight_run, tmp_path):
    resume_after_step_limit(asr_data, straight_run, tmp_path, stop=first_epoch_steps(straight_run))


def test_step_checkpoint_resumes_mid_epoch_where_it_stopped(asr_data, straight_run, tmp_path, monkeypatch):
    every = first_epoch_steps(straight_run) // 2  # a step checkpoint, then a crash, inside epoch 0
    exp = tmp_path / "exp"
    overrides = [*SMOKE, *data_overrides(asr_data), *LOG_EVERY_STEP, "trainer.max_steps=8"]
    overrides.append(f"trainer.checkpoint_every_n_steps={every}")

    def crash(self, batch, batch_idx):  # the machine dies during the step after the checkpoint
        if self.trainer.global_step == every + 1:
            raise RuntimeError("killed")

    monkeypatch.setattr(ASRTask, "on_train_batch_start", crash, raising=False)
    with pytest.raises(RuntimeError, match="killed"):
        train_asr(None, exp, overrides)
    ckpt = torch.load(exp / "checkpoints" / "last.ckpt", weights_only=True)
    assert ckpt["global_step"] == every  # written by the step interval, not at an epoch's end
    assert ckpt["loops"]["fit_loop"]["epoch_loop.batch_progress"]["is_last_batch"] is False
    monkeypatch.undo()
    train_asr(None, exp, overrides)
    assert_same_run(exp, straight_run)


def test_resume_refuses_a_loader_set_up_before_the_restore(asr_data, straight_run, tmp_path, monkeypatch):
    # Sizing the LR schedule with trainer.estimated_stepping_batches makes Lightning set up (and start
    # iterating) the training loader in configure_optimizers, before the checkpoint's loops are restored:
    # a run resumed inside epoch 0 then trained that epoch again from its first batch.
    exp = tmp_path / "exp"
    overrides = SMOKE + data_overrides(asr_data) + LOG_EVERY_STEP
    train_asr(None, exp, [*overrides, f"trainer.max_steps={first_epoch_steps(straight_run) // 2}"])

    def lightning_estimate(self):
        return build_optimizer(self, self.config.optim)

    monkeypatch.setattr(BucketedTask, "configure_optimizers", lightning_estimate)
    with pytest.raises(RuntimeError, match="set up before the checkpoint's loop progress was restored"):
        train_asr(None, exp, [*overrides, "trainer.max_steps=8"])


class _EstimatedError(Exception):
    pass


class _Estimates(BoringModel):
    """Records Lightning's estimate of the optimiser steps and :func:`stepping_batches`'s, then stops."""

    def configure_optimizers(self):
        self.ours = stepping_batches(self.trainer, len(self.train_dataloader()))
        self.lightnings = self.trainer.estimated_stepping_batches
        raise _EstimatedError


@pytest.mark.filterwarnings("ignore:.*LeafSpec")  # Lightning's loader wrapping, on this torch
@pytest.mark.parametrize(
    ("max_epochs", "max_steps", "accumulate"), [(3, -1, 1), (3, 100, 1), (3, 50, 1), (-1, 7, 1), (2, -1, 3)]
)
def test_stepping_batches_is_lightnings_estimate(tmp_path, max_epochs, max_steps, accumulate):
    trainer = L.Trainer(
        max_epochs=max_epochs,
        max_steps=max_steps,
        accumulate_grad_batches=accumulate,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        default_root_dir=tmp_path,
    )
    model = _Estimates()
    with pytest.raises(_EstimatedError):
        trainer.fit(model)
    assert model.ours == model.lightnings


def test_every_epoch_validates_when_the_bucket_count_changes(asr_data, tmp_path):
    # Durations chosen so that the jittered buckets give 7 batches in epoch 0 and 6 in the others:
    # Lightning used to count the batches once, and then skipped validation on the short epochs.
    durations = [0.69, 0.94, 2.51, 2.56, 2.59, 2.65, 2.65, 3.42]
    lines = asr_data["train"].read_text(encoding="utf-8").splitlines()
    assert len(lines) == len(durations)
    manifest = tmp_path / "train.jsonl"
    with open(manifest, "w", encoding="utf-8") as f:
        for line, seconds in zip(lines, durations, strict=True):
            item = json.loads(line)
            item["audio"] = str(asr_data["train"].parent / item["audio"])
            f.write(json.dumps({**item, "duration": seconds}) + "\n")
    sampler = LengthBucketSampler([u.duration for u in read_manifest(manifest)], 5.15, seed=1)
    expected = []
    for epoch in range(4):
        sampler.set_epoch(epoch)
        expected.append(len(sampler))
    assert len(set(expected)) > 1 and expected[0] > min(expected)

    exp = tmp_path / "exp"
    overrides = SMOKE + data_overrides(asr_data) + [f"data.train={manifest}", "data.max_seconds=5.15"]
    train_asr(
        None, exp, [*overrides, "trainer.seed=1", "trainer.max_epochs=4", "trainer.log_every_n_steps=1"]
    )
    rows = metric_rows(exp)
    assert [e for _, e, kind in rows if kind == "val"] == ["0", "1", "2", "3"]
    steps = {e: len({s for s, e2, kind in rows if e2 == e and kind == "train"}) for e in "0123"}
    assert [steps[e] for e in "0123"] == expected  # every batch trained, none dropped or repeated


def test_restart_position_marks_an_epoch_end_done_and_a_stopped_epoch_unfinished():
    def loops(epoch, batch, last):
        return {
            "epoch_progress": {"current": dict(epoch), "total": dict(epoch)},
            "epoch_loop.batch_progress": {
                "current": dict(batch),
                "total": dict(batch),
                "is_last_batch": last,
            },
        }

    # saved in on_train_epoch_end of epoch 1 (3 batches): processed but not completed
    end = loops({"ready": 2, "started": 2, "processed": 2, "completed": 1}, dict.fromkeys("abcd", 3), True)
    end["epoch_loop.batch_progress"]["current"] = {"ready": 3, "started": 3, "processed": 3, "completed": 3}
    restart_position(end)
    assert (
        end["epoch_progress"]["current"]["completed"] == 2
        and end["epoch_progress"]["total"]["completed"] == 2
    )
    assert end["epoch_loop.batch_progress"]["current"]["processed"] == 0
    # stopped by a step limit after 1 of 3 batches of epoch 1: Lightning had counted the epoch as done
    batch = {"ready": 1, "started": 1, "processed": 1, "completed": 1}
    stop = loops({"ready": 2, "started": 2, "processed": 2, "completed": 2}, batch, False)
    restart_position(stop)
    assert stop["epoch_progress"]["current"] == {"ready": 2, "started": 2, "processed": 1, "completed": 1}
    assert stop["epoch_loop.batch_progress"]["current"]["processed"] == 1


class _RunsCode:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


def test_lightning_resume_reads_weights_only_whatever_the_environment(tmp_path, monkeypatch):
    marker, path = tmp_path / "pwned", tmp_path / "last.ckpt"
    torch.save({"state_dict": {}, "payload": _RunsCode(marker)}, path)
    monkeypatch.setenv("TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD", "1")
    with pytest.raises(Exception, match="(?i)weights.only|unpickl|global"):
        AtomicCheckpointIO().load_checkpoint(path)
    assert not marker.exists()
    good = tmp_path / "good.ckpt"
    AtomicCheckpointIO().save_checkpoint({"state_dict": {"w": torch.ones(2)}}, good)
    assert torch.equal(AtomicCheckpointIO().load_checkpoint(good)["state_dict"]["w"], torch.ones(2))


def test_fit_never_claims_a_model_it_did_not_write(asr_data, tmp_path):
    from speech.tasks.asr import ASRConfig
    from speech.tasks.train import _fit, _prepare, load_config
    from speech.text import load_tokenizer

    config = load_config(ASRConfig, None, SMOKE + data_overrides(asr_data))
    exp = tmp_path / "exp"
    run = _prepare(config, exp, "asr")
    run.trainer.limit_train_batches = 0  # no step runs, as with max_steps=0 before configs were checked
    with pytest.raises(SpeechError, match="no model was written"):
        _fit(ASRTask(config, load_tokenizer(asr_data["tokenizer"])), run)
    assert not (exp / "model.ckpt").exists()
