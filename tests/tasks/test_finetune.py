"""Fine-tuning: ``--init-from`` (weights only), configs on a ``base:``, and the MWER/MRT criteria."""

import csv
from pathlib import Path

import pytest
import torch

from speech.cli.main import main
from speech.config import load_config_yaml
from speech.errors import ConfigError
from speech.tasks.checkpoint import load_checkpoint
from speech.tasks.s2t import ASRConfig, S2TTask
from speech.tasks.train import load_config, train_asr
from tests.tasks.conftest import SMOKE, data_overrides


@pytest.fixture(scope="module")
def base_model(asr_data, tmp_path_factory) -> Path:
    exp = tmp_path_factory.mktemp("base_exp")
    return train_asr(None, exp, SMOKE + data_overrides(asr_data) + ["trainer.max_steps=3"])


def _task(asr_data, *extra: str) -> S2TTask:
    config = load_config(ASRConfig, None, SMOKE + data_overrides(asr_data) + list(extra))
    return S2TTask.from_config(config, resume=False)


def _first_batch(task: S2TTask):
    dataset = task._dataset(task.config.data.train, train=False)
    return task._collate()([dataset[i] for i in range(3)])


def test_lambda_one_is_plain_cross_entropy(asr_data, base_model):
    losses = {}
    for criterion in ("ce", "mwer"):
        task = _task(
            asr_data, f"loss.criterion={criterion}", "loss.ce_weight=1.0", f"init.model_from={base_model}"
        )
        torch.manual_seed(3)  # the same SpecAugment masks and dropout for both
        losses[criterion] = task.training_step(_first_batch(task), 0)
    torch.testing.assert_close(losses["mwer"], losses["ce"], rtol=0, atol=0)
    task = _task(asr_data, "loss.criterion=mwer", "loss.ce_weight=0.5", f"init.model_from={base_model}")
    torch.manual_seed(3)
    assert not torch.equal(task.training_step(_first_batch(task), 0), losses["ce"])


def test_init_from_loads_the_weights_and_nothing_else(asr_data, base_model, tmp_path, capsys):
    exp = tmp_path / "ft"
    args = ["train", "asr", "--init-from", str(base_model), "--exp-dir", str(exp), "--quiet", "--set"]
    args += [*SMOKE, *data_overrides(asr_data), "trainer.max_steps=2", "optim.lr=1e-12"]
    args += ["loss.criterion=mwer", "loss.nbest=2", "trainer.log_every_n_steps=1"]
    assert main(args) == 0
    assert f"model initialised from {base_model}" in capsys.readouterr().out
    base, tuned = load_checkpoint(base_model)["state_dict"], load_checkpoint(exp / "model.ckpt")["state_dict"]
    weights = [k for k in base if k.startswith("model.")]
    assert weights and all(torch.allclose(base[k], tuned[k], atol=1e-8) for k in weights)
    last = torch.load(exp / "checkpoints" / "last.ckpt", weights_only=True)
    assert last["global_step"] == 2  # the step count (and the optimiser) started afresh
    assert last["optimizer_states"][0]["state"][0]["step"] == 2
    with open(exp / "csv" / "metrics.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert any(r.get("train/expected_cost") for r in rows) and any(r.get("train/risk") for r in rows)


def test_init_from_refuses_another_model_in_one_line(asr_data, base_model, tmp_path, capsys):
    def run(*extra, sets=()):
        out = tmp_path / f"exp{len(list(tmp_path.iterdir()))}"
        sets = [*SMOKE, *data_overrides(asr_data), *sets]
        code = main(["train", *extra, "--exp-dir", str(out), "--quiet", "--set", *sets])
        err = capsys.readouterr().err.strip()
        assert "Traceback" not in err and len(err.splitlines()) == 1, err
        return code, err

    code, err = run("asr", "--init-from", str(base_model), sets=["model.listener.hidden_size=24"])
    assert code == 2 and "weights do not match" in err and str(base_model) in err
    code, err = run("asr", "--init-from", str(base_model), "--init-encoder-from", str(base_model))
    assert code == 2 and "not both" in err
    assert main(["train", "tts", "--init-from", str(base_model), "--exp-dir", str(tmp_path / "tts")]) == 2
    err = capsys.readouterr().err.strip()
    assert (
        len(err.splitlines()) == 1
        and "--init-from applies to speech-to-text models (asr, st), not tts" in err
    )
    code, err = run("asr", "--init-from", str(tmp_path / "missing.ckpt"))
    assert code == 2 and "missing.ckpt" in err


def test_a_config_can_start_from_a_base(tmp_path):
    (tmp_path / "train.yaml").write_text(
        "model:\n  ctc_weight: 0.5\n  speller: {hidden_size: 64}\noptim: {lr: 0.002}\n"
    )
    (tmp_path / "ft.yaml").write_text(
        "base: train.yaml\nmodel:\n  speller: {dropout: 0.2}\noptim: {lr: 0.0002}\n"
    )
    data = load_config_yaml(tmp_path / "ft.yaml")
    assert data == {
        "model": {"ctc_weight": 0.5, "speller": {"hidden_size": 64, "dropout": 0.2}},
        "optim": {"lr": 0.0002},
    }
    config = load_config(ASRConfig, tmp_path / "ft.yaml", ["optim.lr=0.001"])
    assert config.model.speller.hidden_size == 64 and config.optim.lr == 0.001
    (tmp_path / "train.yaml").write_text("base: ft.yaml\n")
    with pytest.raises(ConfigError, match="cycle"):
        load_config_yaml(tmp_path / "ft.yaml")


def test_the_mini_fine_tuning_configs_keep_the_base_models_sizes():
    root = Path(__file__).parents[2] / "recipes" / "mini"
    for recipe, name, criterion in (("asr", "mwer.yaml", "mwer"), ("st", "mrt.yaml", "mrt")):
        task = "st" if recipe == "st" else "asr"
        from speech.tasks import task_classes

        cls = task_classes(task)[0]
        tuned = load_config(cls, root / recipe / "conf" / name, [])
        base = load_config(cls, root / recipe / "conf" / "train.yaml", [])
        assert (
            tuned.loss.criterion == criterion
            and tuned.model == base.model
            and tuned.features == base.features
        )
