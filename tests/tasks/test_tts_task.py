"""Tacotron2 training, checkpoints, the Synthesizer and ``speech synthesize`` on a tiny flite corpus."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest
import soundfile as sf
import torch

from speech.cli.main import main
from speech.data import read_manifest
from speech.features import LogMel, LogMelConfig, compute_cmvn_stats
from speech.inference.synthesizer import Synthesizer
from speech.tasks.checkpoint import load_checkpoint
from speech.tasks.train import train_tts
from speech.text import train_tokenizer_from_manifest
from speech.text.normalizer import TextNormalizer
from tests.tasks.conftest import tts_overrides

overrides = tts_overrides


def test_checkpoint_carries_everything_and_training_resumes(tts_data, tts_model):
    exp = tts_model.parent
    meta = load_checkpoint(tts_model, task="tts")["speech"]
    assert meta["model"]["reduction_factor"] == 3 and meta["features"]["sample_rate"] == 22050
    assert meta["text"]["lang"] == "en" and meta["speakers"] == []
    assert (exp / "alignments" / "epoch000.png").is_file() and (
        exp / "alignments" / "epoch000_synth.png"
    ).is_file()
    metrics = (exp / "csv" / "metrics.csv").read_text()
    for name in (
        "val/diagonality",
        "val/focus_rate",
        "val/stop_rate",
        "train/diagonality",
        "val/guided_loss",
    ):
        assert name in metrics
    before = torch.load(exp / "checkpoints" / "last.ckpt", weights_only=True)["global_step"]
    train_tts(None, exp, overrides(tts_data, "trainer.max_steps=4", "trainer.max_epochs=5"))
    after = torch.load(exp / "checkpoints" / "last.ckpt", weights_only=True)["global_step"]
    assert before == 2 and after == 4


def test_synthesizer_splits_long_text_and_joins_with_pauses(tts_model, monkeypatch):
    synth = Synthesizer.from_checkpoint(tts_model, griffin_lim_iters=2)
    seen = []
    original = synth.synthesize_sentences

    def spy(sentences, speaker=None):
        seen.append(list(sentences))
        return original(sentences, speaker)

    monkeypatch.setattr(synth, "synthesize_sentences", spy)
    with pytest.warns(UserWarning, match="no stop"):  # an untrained model never stops by itself
        waveform, rate = synth.synthesize("Twelve cats. Then 3 dogs!", pause=0.5)
    assert rate == 22050 and waveform.dim() == 1
    assert seen == [["Twelve cats.", "Then 3 dogs!"]]
    # the pause of silence between the two sentences is in the output
    assert waveform.numel() > 0.5 * rate and (waveform.abs() < 1e-9).sum() >= 0.5 * rate


def test_synthesize_cli_writes_wavs(tts_model, tmp_path, capsys):
    out = tmp_path / "one.wav"
    assert (
        main(
            [
                "synthesize",
                "--model",
                str(tts_model),
                "--text",
                "forty two",
                "--out",
                str(out),
                "--griffin-lim-iters",
                "2",
            ]
        )
        == 0
    )
    info = sf.info(str(out))
    assert info.samplerate == 22050 and info.frames > 0
    lines = tmp_path / "lines.txt"
    lines.write_text("a\tone\ntwo three\n")
    assert (
        main(
            [
                "synthesize",
                "--model",
                str(tts_model),
                "--text-file",
                str(lines),
                "--out-dir",
                str(tmp_path / "many"),
                "--griffin-lim-iters",
                "2",
            ]
        )
        == 0
    )
    assert sorted(p.name for p in (tmp_path / "many").iterdir()) == ["0002.wav", "a.wav"]


def test_synthesize_cli_manifest_writes_results_and_stats(tts_model, tts_data, tmp_path):
    out = tmp_path / "synth"
    assert (
        main(
            [
                "synthesize",
                "--model",
                str(tts_model),
                "--manifest",
                str(tts_data["test"]),
                "--out-dir",
                str(out),
                "--griffin-lim-iters",
                "2",
            ]
        )
        == 0
    )
    import json

    stats = json.loads((out / "synth.stats.json").read_text())
    assert stats["utterances"] == 2 and stats["rtf"] > 0 and stats["stop_rate"] == 0
    assert 0 <= stats["diagonality"] <= 1 and 0 < stats["focus_rate"] <= 1
    assert len((out / "synth.jsonl").read_text().splitlines()) == 2


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--text", "  ", "--out", "{tmp}/x.wav"], "empty"),
        (["--text", "日本語", "--out", "{tmp}/x.wav"], "no character"),
        (["--text", "日本 語", "--out", "{tmp}/x.wav"], "no character"),
        (["--text", "one", "--out", "{tmp}/empty_line.txt/x.wav"], "is not a folder"),
        (["--text", "one", "--out", "{tmp}"], "is a folder"),
        (["--text-file", "{tmp}/empty_line.txt", "--out-dir", "{tmp}/d"], "empty_line.txt:2: empty text"),
        (["--text", "one", "--out", "{tmp}/x.wav", "--speaker", "bob"], "single-speaker"),
    ],
)
def test_synthesize_cli_bad_inputs_are_one_line_errors(tts_model, tmp_path, capsys, args, message):
    (tmp_path / "empty_line.txt").write_text("one\n\nthree\n")
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    assert main(["synthesize", "--model", str(tts_model), *args]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1
    assert not list(tmp_path.rglob("*.wav"))  # nothing half-written


def test_synthesize_cli_rejects_other_checkpoints(tmp_path, capsys):
    bad = tmp_path / "bad.ckpt"
    bad.write_bytes(b"not a checkpoint")
    assert main(["synthesize", "--model", str(bad), "--text", "one", "--out", str(tmp_path / "x.wav")]) == 2
    assert "not a readable checkpoint" in capsys.readouterr().err


def test_multi_speaker_training_and_synthesis(asr_data, tmp_path):
    """The ASR mini corpus has two voices: a speaker table of two, chosen at synthesis."""
    cmvn = tmp_path / "cmvn.json"
    compute_cmvn_stats(asr_data["train"], LogMel(LogMelConfig.tts())).save(cmvn)
    data = dict(asr_data, cmvn=cmvn)
    model = train_tts(
        None, tmp_path / "exp", overrides(data, "trainer.max_steps=1", "data.multi_speaker=true")
    )
    synth = Synthesizer.from_checkpoint(model, griffin_lim_iters=1)
    assert len(synth.speakers) == 2
    with pytest.warns(UserWarning):
        waveform, _ = synth.synthesize("one", speaker=synth.speakers[1])
    assert waveform.numel() > 0
    with pytest.raises(Exception, match="unknown speaker"):
        synth.synthesize("one", speaker="nobody")


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng is not installed")
def test_phoneme_input(tts_data, tmp_path):
    from speech.text import Phonemizer

    tokenizer = tmp_path / "phonemes.json"
    train_tokenizer_from_manifest(
        tts_data["train"], normalizer=TextNormalizer("en"), phonemizer=Phonemizer("en-us"), output=tokenizer
    )
    data = dict(tts_data, tokenizer=tokenizer)
    model = train_tts(None, tmp_path / "exp", overrides(data, "trainer.max_steps=1", "text.phonemes=true"))
    synth = Synthesizer.from_checkpoint(model, griffin_lim_iters=1)
    text = read_manifest(tts_data["train"])[0].text  # every phoneme of a training text is known
    assert synth.text_config.phonemes and synth.front_end(text) != TextNormalizer("en")(text)
    assert synth.tokenizer.unk_id not in synth.encode(text)
    with pytest.warns(UserWarning):
        assert synth.synthesize(text)[0].numel() > 0


def test_ddp_two_cpu_processes(tts_data, tmp_path):
    exp = tmp_path / "exp"
    args = overrides(tts_data, "trainer.max_steps=2", "trainer.devices=2", "trainer.strategy=ddp")
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "speech",
            "train",
            "tts",
            "--exp-dir",
            str(exp),
            "--set",
            *args,
            "trainer.accelerator=cpu",
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert torch.load(exp / "checkpoints" / "last.ckpt", weights_only=True)["global_step"] == 2


def test_bf16_autocast_training_runs_on_cpu(tts_data, tmp_path):
    out = train_tts(
        None, tmp_path, overrides(tts_data, "trainer.max_steps=1", "trainer.precision=bf16-mixed")
    )
    assert out.is_file()


def test_training_on_a_shard_folder(tts_data, tmp_path):
    """TTS reads tar shards like ASR (speech prepare shard): two epochs over them, then a model."""
    from speech.data.shard_writer import write_shards

    shards = tmp_path / "shards"
    write_shards(tts_data["train"], shards, shard_size=2)
    data = dict(tts_data, train=shards)
    out = train_tts(
        None, tmp_path / "exp", tts_overrides(data, "trainer.max_epochs=2", "trainer.keep_checkpoints=0")
    )
    state = torch.load(tmp_path / "exp" / "checkpoints" / "last.ckpt", weights_only=True)
    assert state["epoch"] == 1 and state["global_step"] >= 2
    assert load_checkpoint(out, task="tts")["state_dict"]
