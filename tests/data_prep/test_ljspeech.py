from __future__ import annotations

from pathlib import Path

import pytest

from data_prep.ljspeech import prepare_ljspeech
from speech.data.manifest import read_manifest
from tests.data_prep.fixtures import assert_one_line_error, make_ljspeech, run_cli, sentence


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    return make_ljspeech(tmp_path / "src", utterances=10)


def test_manifests_field_by_field(corpus: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    summary = prepare_ljspeech(corpus, out, dev=2, test=3, jobs=2, progress=False)
    assert summary.skips.total == 0
    splits = {s: read_manifest(out / f"{s}.jsonl", check_audio=True) for s in ("train", "dev", "test")}
    assert [len(splits[s]) for s in ("train", "dev", "test")] == [5, 2, 3]
    ids = [u.id for s in splits.values() for u in s]
    assert sorted(ids) == [f"LJ001-{n:04d}" for n in range(1, 11)]
    for items in splits.values():
        assert [u.id for u in items] == sorted(u.id for u in items)  # corpus order within a split
    utt = next(u for s in splits.values() for u in s if u.id == "LJ001-0004")
    assert utt.text == f"In nineteen hundred 3, {sentence(3).capitalize()}."  # the normalized column
    assert utt.audio == str(corpus / "wavs" / "LJ001-0004.wav")
    assert utt.sample_rate == 22050 and utt.duration == pytest.approx(0.36, abs=1e-4)
    assert utt.speaker == "LJ" and utt.lang == "en" and utt.translation is None


def test_split_is_stable_under_skips_and_seeded(corpus: Path, tmp_path: Path) -> None:
    prepare_ljspeech(corpus, tmp_path / "a", dev=2, test=3, progress=False)
    test_ids = [u.id for u in read_manifest(tmp_path / "a" / "test.jsonl")]
    train_ids = [u.id for u in read_manifest(tmp_path / "a" / "train.jsonl")]
    (corpus / "wavs" / f"{train_ids[0]}.wav").unlink()
    summary = prepare_ljspeech(corpus, tmp_path / "b", dev=2, test=3, progress=False)
    assert summary.skips.counts == {"missing audio": 1}
    assert [u.id for u in read_manifest(tmp_path / "b" / "test.jsonl")] == test_ids
    prepare_ljspeech(corpus, tmp_path / "c", dev=2, test=3, seed=1, progress=False)
    assert [u.id for u in read_manifest(tmp_path / "c" / "test.jsonl")] != test_ids


def test_bad_lines_are_counted_and_raw_text_is_the_fallback(corpus: Path, tmp_path: Path) -> None:
    metadata = corpus / "metadata.csv"
    lines = metadata.read_text().splitlines()
    lines[0] = lines[0].rsplit("|", 1)[0] + "|"  # empty normalized column: use the raw one
    lines[1] = "LJ001-0002 no separators"
    lines[2] = "LJ001-0003||"
    lines.append(lines[3])
    metadata.write_text("\n".join(lines) + "\n")
    summary = prepare_ljspeech(corpus, tmp_path / "out", dev=1, test=1, progress=False)
    assert summary.skips.counts == {"malformed line": 1, "empty transcript": 1, "duplicate id": 1}
    table = summary.table()
    assert f"{metadata}:2: expected 'id|raw text|normalized text'" in table and f"{metadata}:11: id" in table
    utts = {u.id: u for s in ("train", "dev", "test") for u in read_manifest(tmp_path / "out" / f"{s}.jsonl")}
    assert len(utts) == 8 and utts["LJ001-0001"].text == f"In 1900, {sentence(0).capitalize()}."


def test_rerun_is_up_to_date(corpus: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    prepare_ljspeech(corpus, out, dev=1, test=1, progress=False)
    stamp = (out / "train.jsonl").stat().st_mtime_ns
    assert prepare_ljspeech(corpus, out, dev=1, test=1, progress=False).up_to_date
    assert (out / "train.jsonl").stat().st_mtime_ns == stamp
    assert not prepare_ljspeech(corpus, out, dev=2, test=1, progress=False).up_to_date


def test_cli(corpus: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    base = ["prepare", "ljspeech", "--corpus-dir", str(corpus), "--out-dir", str(tmp_path / "o"), "--quiet"]
    code, stdout, _ = run_cli([*base, "--dev", "1", "--test", "2"], capsys)
    assert code == 0 and "ljspeech: 10 utterances" in stdout
    code, _, err = run_cli(base, capsys)  # defaults: 100 dev + 500 test
    assert_one_line_error(code, err, "metadata.csv: 10 usable lines, too few")
    (corpus / "metadata.csv").unlink()
    code, _, err = run_cli(base, capsys)
    assert_one_line_error(code, err, "metadata.csv: no such file")
