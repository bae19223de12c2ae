from __future__ import annotations

from pathlib import Path

import pytest

from data_prep.vctk import prepare_vctk
from speech.data.manifest import read_manifest
from tests.data_prep.fixtures import assert_one_line_error, make_vctk, run_cli, sentence

SPLITS = ("train", "dev", "test")


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    return make_vctk(tmp_path / "src", speakers=("p225", "p226", "p315"), utterances=5)


def read_all(out: Path) -> dict[str, list]:
    return {s: read_manifest(out / f"{s}.jsonl", check_audio=True) for s in SPLITS}


def test_manifests_field_by_field(corpus: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    summary = prepare_vctk(corpus, out, dev_per_speaker=1, test_per_speaker=1, jobs=2, progress=False)
    assert summary.skips.counts == {"no transcript": 5}  # p315: audio, no text
    assert "p315_001_mic1.flac" in summary.table()
    splits = read_all(out)
    assert [len(splits[s]) for s in SPLITS] == [6, 2, 2]
    for split in ("dev", "test"):
        assert sorted(u.speaker for u in splits[split]) == ["p225", "p226"]  # held out per speaker
    utt = next(u for s in splits.values() for u in s if u.id == "p226_003")
    assert utt.audio == str(corpus / "wav48_silence_trimmed" / "p226" / "p226_003_mic1.flac")
    assert utt.text == sentence(1 + 3).capitalize() + "."
    assert utt.speaker == "p226" and utt.lang == "en" and utt.sample_rate == 48000
    assert utt.duration == pytest.approx(0.36, abs=1e-4)


def test_mic2_and_missing_files(corpus: Path, tmp_path: Path) -> None:
    (corpus / "wav48_silence_trimmed" / "p225" / "p225_002_mic2.flac").unlink()
    (corpus / "txt" / "p226" / "p226_004.txt").write_text("  \n")
    (corpus / "wav48_silence_trimmed" / "p226" / "p226_005_mic2.flac").write_bytes(b"")
    summary = prepare_vctk(
        corpus, tmp_path / "out", mic="mic2", dev_per_speaker=1, test_per_speaker=1, progress=False
    )
    assert summary.skips.counts == {
        "no transcript": 5,
        "missing mic2 audio": 1,
        "empty transcript": 1,
        "unreadable audio": 1,
    }
    table = summary.table()
    assert "p225_002_mic2.flac: no such file" in table and "p226_005_mic2.flac: empty file" in table
    ids = {u.id for s in read_all(tmp_path / "out").values() for u in s}
    assert ids == {"p225_001", "p225_003", "p225_004", "p225_005", "p226_001", "p226_002", "p226_003"}
    assert all(u.audio.endswith("_mic2.flac") for u in read_manifest(tmp_path / "out" / "train.jsonl"))


def test_every_speaker_keeps_a_training_utterance(tmp_path: Path) -> None:
    corpus = make_vctk(tmp_path / "src", speakers=("p225", "p226"), utterances=3, mics=("mic1",))
    prepare_vctk(corpus, tmp_path / "out", dev_per_speaker=1, test_per_speaker=1, progress=False)
    splits = read_all(tmp_path / "out")
    assert [len(splits[s]) for s in SPLITS] == [2, 2, 2]
    assert {u.speaker for u in splits["train"]} == {"p225", "p226"}


def test_rerun_is_up_to_date(corpus: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    prepare_vctk(corpus, out, dev_per_speaker=1, test_per_speaker=1, progress=False)
    again = prepare_vctk(corpus, out, dev_per_speaker=1, test_per_speaker=1, progress=False)
    assert again.up_to_date and again.skips.counts == {"no transcript": 5}  # the skips are remembered
    assert not prepare_vctk(
        corpus, out, mic="mic2", dev_per_speaker=1, test_per_speaker=1, progress=False
    ).up_to_date


def test_cli(corpus: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    base = ["prepare", "vctk", "--corpus-dir", str(corpus), "--out-dir", str(tmp_path / "o"), "--quiet"]
    code, stdout, _ = run_cli([*base, "--dev-per-speaker", "1", "--test-per-speaker", "1"], capsys)
    assert code == 0 and "vctk: 10 utterances" in stdout and "skipped 5: no transcript" in stdout
    code, _, err = run_cli([*base, "--mic", "mic3"], capsys)
    assert_one_line_error(code, err, "--mic", "mic3")
    (corpus / "txt").rename(corpus / "text")
    code, _, err = run_cli(base, capsys)
    assert_one_line_error(code, err, f"{corpus / 'txt'}: no such folder")
