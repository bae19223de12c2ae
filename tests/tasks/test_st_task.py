import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from speech.cli.main import main
from speech.errors import ConfigError, SpeechError
from speech.inference import Translator
from speech.tasks.checkpoint import load_checkpoint
from speech.tasks.st import STConfig, STTask, init_encoder_from_asr
from speech.tasks.train import load_config, train_asr, train_st
from speech.text import load_tokenizer, train_tokenizer_from_manifest
from tests.tasks.conftest import SMOKE, data_overrides


@pytest.fixture(scope="module")
def st_data(asr_data, tmp_path_factory) -> dict[str, Path]:
    target = tmp_path_factory.mktemp("st") / "target_tokenizer.json"
    train_tokenizer_from_manifest(asr_data["train"], field="translation", output=target)
    return {**asr_data, "target_tokenizer": target}


def st_overrides(data, source=True) -> list[str]:
    return [
        f"data.train={data['train']}",
        f"data.dev={data['dev']}",
        f"data.target_tokenizer={data['target_tokenizer']}",
        f"data.source_tokenizer={data['tokenizer'] if source else 'null'}",
        f"data.cmvn={data['cmvn']}",
    ]


@pytest.fixture(scope="module")
def st_model(st_data, tmp_path_factory) -> Path:
    exp = tmp_path_factory.mktemp("st_exp")
    return train_st(None, exp, SMOKE + st_overrides(st_data) + ["trainer.max_steps=2"])


@pytest.fixture(scope="module")
def asr_model(st_data, tmp_path_factory) -> Path:
    exp = tmp_path_factory.mktemp("asr_exp")
    return train_asr(None, exp, SMOKE + data_overrides(st_data) + ["trainer.max_steps=1"])


def test_training_writes_a_complete_checkpoint(st_model, st_data):
    exp = st_model.parent
    meta = load_checkpoint(st_model)["speech"]
    assert meta["task"] == "st" and meta["target_lang"] == "fr" and len(meta["cmvn"]["mean"]) == 80
    assert meta["tokenizer"] == load_tokenizer(st_data["target_tokenizer"]).to_dict()
    assert meta["source_tokenizer"] == load_tokenizer(st_data["tokenizer"]).to_dict()
    assert meta["model"]["source_vocab_size"] > 0 and meta["model"]["ctc_tokens"] == "source"
    assert list((exp / "alignments").glob("*.png")) and (exp / "checkpoints" / "last.ckpt").is_file()
    header = (exp / "csv" / "metrics.csv").read_text().splitlines()[0].split(",")
    assert {"val/bleu", "val/exact", "val/ctc_loss", "val/attention_loss"} <= set(header)
    assert not list(exp.rglob("*.tmp*"))


def test_translator_translates_files_and_waveforms(st_model, st_data):
    translator = Translator.from_checkpoint(st_model)
    assert translator.target_lang == "fr" and translator.sample_rate == 16000
    files = sorted((st_data["corpus"] / "wavs" / "test").iterdir())
    results = translator.translate(files, beam_size=2, batch_size=2)
    assert len(results) == 3 and all(isinstance(r.text, str) for r in results)
    assert [r.tokens for r in translator.translate(files[::-1], beam_size=2)] == [r.tokens for r in results][
        ::-1
    ]
    assert len(translator.translate([torch.zeros(16000)], beam_size=1)) == 1


def test_multitask_loss_off_without_a_source_tokenizer(st_data, tmp_path):
    out = train_st(None, tmp_path, SMOKE + st_overrides(st_data, source=False) + ["trainer.max_steps=2"])
    ckpt = load_checkpoint(out)
    assert ckpt["speech"]["source_tokenizer"] is None and ckpt["speech"]["model"]["source_vocab_size"] == 0
    assert not [k for k in ckpt["state_dict"] if k.startswith("model.ctc.")]
    header = (tmp_path / "csv" / "metrics.csv").read_text().splitlines()[0].split(",")
    assert "val/ctc_loss" not in header and "val/loss" in header


def st_task(st_data, overrides=()) -> STTask:
    config = load_config(STConfig, None, SMOKE + st_overrides(st_data) + list(overrides))
    source = load_tokenizer(config.data.source_tokenizer) if config.data.source_tokenizer else None
    return STTask(config, load_tokenizer(st_data["target_tokenizer"]), source)


def test_encoder_initialisation_loads_the_asr_weights(st_data, asr_model):
    asr_state = load_checkpoint(asr_model)["state_dict"]
    task = st_task(st_data)
    init = init_encoder_from_asr(task, str(asr_model))
    assert init.ctc_head and init.listener_tensors == len(task.model.listener.state_dict())
    assert "CMVN" in init.note  # the task was built without CMVN stats
    for prefix, module in (("model.listener.", task.model.listener), ("model.ctc.", task.model.ctc)):
        for name, tensor in module.state_dict().items():
            assert torch.equal(tensor, asr_state[prefix + name]), name
    # Another source tokenizer: the listener still comes, the CTC head does not.
    task = st_task(st_data, [f"data.source_tokenizer={st_data['target_tokenizer']}"])
    before = task.model.ctc.proj.weight.clone()
    init = init_encoder_from_asr(task, str(asr_model))
    assert not init.ctc_head and "tokenizer differs" in init.note
    assert torch.equal(task.model.ctc.proj.weight, before)
    assert torch.equal(
        task.model.listener.layers[0].forward_lstm.weight_ih_l0,
        asr_state["model.listener.layers.0.forward_lstm.weight_ih_l0"],
    )


def test_encoder_initialisation_checks_sizes_and_task(st_data, asr_model, st_model):
    with pytest.raises(ConfigError, match="model.listener.hidden_size is 32 here, 16 in the ASR model"):
        init_encoder_from_asr(st_task(st_data, ["model.listener.hidden_size=32"]), str(asr_model))
    with pytest.raises(ConfigError, match="features differ"):
        init_encoder_from_asr(st_task(st_data, ["features.n_mels=40"]), str(asr_model))
    with pytest.raises(SpeechError, match="not an ASR model"):
        init_encoder_from_asr(st_task(st_data), str(st_model))


def test_cli_init_encoder_from(st_data, asr_model, tmp_path, capsys):
    exp = tmp_path / "exp"
    args = [
        "--exp-dir",
        str(exp),
        "--set",
        *SMOKE,
        *st_overrides(st_data),
        "trainer.max_steps=1",
        "optim.lr=1e-12",  # lr must be > 0; Adam's steps are then about 1e-12
    ]
    assert main(["train", "st", "--init-encoder-from", str(asr_model), *args]) == 0
    assert f"encoder initialised from {asr_model}" in capsys.readouterr().out
    asr_state, st_state = (
        load_checkpoint(asr_model)["state_dict"],
        load_checkpoint(exp / "model.ckpt")["state_dict"],
    )
    listener = [k for k in asr_state if k.startswith(("model.listener.", "model.ctc."))]
    assert listener and all(torch.allclose(asr_state[k], st_state[k], atol=1e-9) for k in listener)
    assert (
        main(["train", "tts", "--init-encoder-from", str(asr_model), "--exp-dir", str(tmp_path / "a")]) == 2
    )
    assert "applies to speech-to-text models (asr, st), not tts" in capsys.readouterr().err


def test_translate_cli_reports_bad_files_and_goes_on(st_model, st_data, asr_model, tmp_path, capsys):
    good = sorted((st_data["corpus"] / "wavs" / "test").iterdir())[0]
    bad = tmp_path / "bad.wav"
    bad.write_text("not audio")
    capsys.readouterr()
    code = main(
        ["translate", "--model", str(st_model), "--beam", "2", str(bad), str(good), str(tmp_path / "no.wav")]
    )
    captured = capsys.readouterr()
    assert code == 2 and captured.out.startswith(f"{good}\t") and len(captured.out.splitlines()) == 1
    errors = captured.err.strip().splitlines()
    assert len(errors) == 2 and "bad.wav" in errors[0] and "no.wav" in errors[1]
    assert main(["translate", "--model", str(st_model), "--json", "--beam", "1", str(good)]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["file"] == str(good) and isinstance(record["translation"], str)
    for argv, message in (
        (["--model", str(tmp_path / "missing.ckpt"), str(good)], "no such checkpoint"),
        (["--model", str(bad), str(good)], "not a readable checkpoint"),
        (["--model", str(asr_model), str(good)], "not a speech translation model"),
        (["--model", str(st_model), "--beam", "0", str(good)], "--beam"),
        (["--model", str(st_model)], "FILE"),
        (["--model", str(st_model), "--output", str(tmp_path / "h.txt"), str(good)], "--manifest"),
    ):
        assert exit_code(["translate", *argv]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and message in err[0]


def exit_code(argv: list[str]) -> int:
    """``main``'s exit code, also for argparse's errors (which raise SystemExit)."""
    try:
        return main(argv)
    except SystemExit as e:
        return e.code


def test_translate_manifest_writes_hypotheses_references_and_stats(st_model, st_data, tmp_path, capsys):
    out = tmp_path / "decode_test" / "hyp.txt"
    assert (
        main(
            ["translate", "--model", str(st_model), "--manifest", str(st_data["test"]), "--output", str(out)]
        )
        == 0
    )
    hyp, ref = out.read_text().splitlines(), (out.parent / "ref.txt").read_text().splitlines()
    assert len(hyp) == len(ref) == 3 and ref[0].split("\t")[0] == hyp[0].split("\t")[0]
    assert json.loads((out.parent / "hyp.stats.json").read_text())["beam"] == 2
    assert main(["score", "report", "--exp-dir", str(tmp_path), "--metric", "bleu"]) == 0
    results = (tmp_path / "RESULTS.md").read_text()
    assert "| test | 3 |" in results and "| BLEU | chrF | exact match % |" in results


@pytest.mark.slow  # the ASR DDP test covers SummedMetrics.reduce in the default run
def test_ddp_two_cpu_processes_sum_the_bleu_statistics(st_data, tmp_path):
    """Validation BLEU under DDP comes from statistics summed over the ranks (SummedMetrics)."""
    exp = tmp_path / "exp"
    overrides = [
        *SMOKE,
        *st_overrides(st_data),
        "trainer.max_steps=2",
        "trainer.devices=2",
        "trainer.strategy=ddp",
        "trainer.accelerator=cpu",
    ]
    proc = subprocess.run(
        [sys.executable, "-m", "speech", "train", "st", "--exp-dir", str(exp), "--set", *overrides],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    rows = list(csv.DictReader((exp / "csv" / "metrics.csv").open()))
    bleu = [float(r["val/bleu"]) for r in rows if r.get("val/bleu")]
    assert bleu and all(0.0 <= b <= 100.0 for b in bleu)
