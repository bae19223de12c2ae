"""Smoke run of every stage of recipes/vctk/tts on a fixture VCTK tree, and the per-utterance
speakers of ``speech synthesize --manifest`` with a multi-speaker model."""

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from speech.cli.main import main
from speech.config import from_dict, load_yaml
from speech.tasks.tts import TTSConfig
from tests.data_prep.fixtures import make_vctk
from tests.recipes.runner import run_recipe


def run(root: Path, corpus: Path, *args, **env_overrides):
    env = {
        "CORPUS_DIR": str(corpus),
        "DATA_DIR": str(root / "data"),
        "CORPUS_OPTS": "--dev-per-speaker 1 --test-per-speaker 1 --jobs 2",
        "DECODE_OPTS": "--threads 1",
        "ASR_MODEL": str(root / "no-asr-model.ckpt"),
    }
    return run_recipe("vctk/tts", *args, exp_dir=root / "exp", **{**env, **env_overrides})


@pytest.fixture(scope="module")
def recipe(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, subprocess.CompletedProcess]:
    """The fixture corpus and one run of every stage: (corpus, run folder, process)."""
    corpus = make_vctk(tmp_path_factory.mktemp("vctk"), mics=("mic1",))
    root = tmp_path_factory.mktemp("vctk_run")
    return corpus, root, run(root, corpus)


def synthesized(root: Path) -> list[dict]:
    lines = (root / "exp" / "synth_test" / "synth.jsonl").read_text().splitlines()
    return [json.loads(line) for line in lines]


def test_all_stages_then_rerun_skips(recipe):
    corpus, root, proc = recipe
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    exp, test = root / "exp", root / "data" / "corpus" / "test.jsonl"
    assert "vctk: 8 utterances" in proc.stdout  # p225 and p226; p315 has no transcripts
    assert "data.multi_speaker=true" in proc.stdout
    results = (exp / "RESULTS.md").read_text()
    assert "| synthesized | 2 |" in results and "| reference | 2 |" in results
    assert "pocketsphinx WER" in results and "MCD" in results
    # each test utterance is said by its own speaker, in manifest order
    references = [json.loads(line) for line in test.read_text().splitlines()]
    assert [(u["id"], u["speaker"]) for u in references] == [
        (u["id"], u["speaker"]) for u in synthesized(root)
    ]
    assert {u["speaker"] for u in references} == {"p225", "p226"}
    again = run(root, corpus)
    assert again.returncode == 0
    assert again.stdout.count("up to date, skipped") == 6  # stages 0, 1 (tokenizer, mel stats), 2, 3, 4


def test_one_chosen_speaker_says_every_test_text(recipe, tmp_path):
    corpus, root, _ = recipe
    shutil.copytree(root / "exp", tmp_path / "exp")  # stage 3 again, in a copy of the experiment
    proc = run(
        tmp_path,
        corpus,
        "--stage",
        "3",
        "--stop-stage",
        "3",
        DATA_DIR=str(root / "data"),
        DECODE_OPTS="--threads 1 --speaker p226",
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    assert "--speaker p226" in proc.stdout
    assert [u["speaker"] for u in synthesized(tmp_path)] == ["p226", "p226"]


@pytest.mark.parametrize(
    ("speaker", "message"),
    [(None, "names no speaker, and this model has 2"), ("p999", "speaker 'p999' of utterance")],
)
def test_manifest_speakers_are_checked_before_any_audio(recipe, tmp_path, capsys, speaker, message):
    _, root, _ = recipe
    utt = json.loads((root / "data" / "corpus" / "test.jsonl").read_text().splitlines()[0])
    assert Path(utt["audio"]).is_absolute()
    utt.pop("speaker")
    if speaker:
        utt["speaker"] = speaker
    manifest = tmp_path / "test.jsonl"
    manifest.write_text(json.dumps(utt) + "\n")
    model, out = root / "exp" / "model.ckpt", tmp_path / "out"
    code = main(["synthesize", "--model", str(model), "--manifest", str(manifest), "--out-dir", str(out)])
    err = capsys.readouterr().err.strip()
    assert code == 2 and message in err and len(err.splitlines()) == 1
    assert not list(out.iterdir())  # nothing written


def test_configs_load():
    for name in ("train", "smoke"):
        config = from_dict(TTSConfig, load_yaml(f"recipes/vctk/tts/conf/{name}.yaml"), name)
        assert config.data.multi_speaker and config.features.sample_rate == 22050


def test_missing_corpus_dir(tmp_path):
    proc = run(tmp_path, tmp_path, CORPUS_DIR="")
    assert proc.returncode == 2 and "set CORPUS_DIR" in proc.stderr
