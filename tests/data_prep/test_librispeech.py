from __future__ import annotations

import json
from pathlib import Path

import pytest

from data_prep.librispeech import prepare_librispeech
from speech import audio
from speech.data.manifest import read_manifest
from tests.data_prep.fixtures import assert_one_line_error, make_librispeech, run_cli

SUBSETS = ("train-clean-100", "train-clean-360", "dev-clean", "test-clean")


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    return make_librispeech(tmp_path / "src", subsets=SUBSETS, speakers=2, utterances=3)


def test_manifests_field_by_field(corpus: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    summary = prepare_librispeech(corpus, out, SUBSETS, jobs=2, progress=False)
    assert summary.skips.total == 0 and not summary.up_to_date
    assert sorted(p.name for p in out.glob("*.jsonl")) == sorted(
        [f"{s}.jsonl" for s in SUBSETS] + ["train.jsonl"]
    )
    dev = read_manifest(out / "dev-clean.jsonl", check_audio=True)
    assert [u.id for u in dev] == [
        "300-1000-0000",
        "300-1000-0001",
        "300-1000-0002",
        "301-1001-0000",
        "301-1001-0001",
        "301-1001-0002",
    ]
    first = dev[0]
    assert first.audio == str(corpus / "dev-clean" / "300" / "1000" / "300-1000-0000.flac")
    assert first.text == "SHE SELLS SEA SHELLS BY THE SEA SHORE"  # upper case as distributed
    assert first.speaker == "300" and first.lang == "en"
    assert first.sample_rate == 16000 and first.duration == pytest.approx(0.3, abs=1e-4)
    assert dev[2].duration == pytest.approx(audio.info(dev[2].audio).duration, abs=1e-4)
    assert first.translation is None and first.target_lang is None
    train = read_manifest(out / "train.jsonl")
    assert len(train) == 12 and {u.speaker for u in train} == {"100", "101", "200", "201"}
    assert summary.manifests[-1].path == "train.jsonl" and summary.manifests[-1].speakers == 4


def test_bad_lines_and_files_are_counted(corpus: Path, tmp_path: Path) -> None:
    chapter = corpus / "dev-clean" / "300" / "1000"
    trans = chapter / "300-1000.trans.txt"
    lines = trans.read_text().splitlines()
    trans.write_text("\n".join([lines[0], "garbage", "300-1000-0009 NO SUCH FILE", "300-1000-0002"]) + "\n")
    (chapter / "300-1000-0002.flac").write_bytes(b"not audio")
    (corpus / "dev-clean" / "301" / "1001" / "301-1001.trans.txt").unlink()
    summary = prepare_librispeech(corpus, tmp_path / "out", ["dev-clean"], progress=False)
    counts = summary.skips.counts
    assert counts == {
        "malformed transcript line": 1,
        "empty transcript": 1,
        "missing audio": 1,
        "no transcript": 1,
        "no transcript file": 3,
    }
    assert [u.id for u in read_manifest(tmp_path / "out" / "dev-clean.jsonl")] == ["300-1000-0000"]
    table = summary.table()
    assert "skipped 3: no transcript file" in table and f"{trans}:2: expected" in table
    assert "300-1000-0009.flac: no such file" in table
    (chapter / "300-1000-0001.flac").write_bytes(b"not audio")
    trans.write_text(lines[0] + "\n" + lines[1] + "\n")
    again = prepare_librispeech(corpus, tmp_path / "out", ["dev-clean"], progress=False, force=True)
    assert again.skips.counts["unreadable audio"] == 1
    assert "300-1000-0001.flac: not a readable audio file" in again.table()


def test_a_bad_file_in_two_manifests_is_one_skip(corpus: Path, tmp_path: Path) -> None:
    (corpus / "train-clean-100" / "100" / "1000" / "100-1000-0001.flac").write_bytes(b"x" * 100)
    summary = prepare_librispeech(corpus, tmp_path / "out", ["train-clean-100"], progress=False)
    assert summary.skips.counts == {"unreadable audio": 1}
    assert [m.utterances for m in summary.manifests] == [5, 5]  # train-clean-100.jsonl and train.jsonl


def test_rerun_is_up_to_date_and_options_redo(corpus: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    prepare_librispeech(corpus, out, ["dev-clean", "test-clean"], progress=False)
    stamp = (out / "dev-clean.jsonl").stat().st_mtime_ns
    again = prepare_librispeech(corpus, out, ["dev-clean", "test-clean"], jobs=2, progress=False)
    assert again.up_to_date and "up to date" in again.table()
    assert (out / "dev-clean.jsonl").stat().st_mtime_ns == stamp
    marker = json.loads((out / ".done.json").read_text())
    assert marker["corpus"] == "librispeech" and marker["options"]["subsets"] == ["dev-clean", "test-clean"]
    other = prepare_librispeech(corpus, out, ["dev-clean"], progress=False)
    assert not other.up_to_date and [m.path for m in other.manifests] == ["dev-clean.jsonl"]
    forced = prepare_librispeech(corpus, out, ["dev-clean"], progress=False, force=True)
    assert not forced.up_to_date


def test_worker_count_does_not_change_the_output(corpus: Path, tmp_path: Path) -> None:
    prepare_librispeech(corpus, tmp_path / "a", SUBSETS, jobs=1, progress=False)
    prepare_librispeech(corpus, tmp_path / "b", SUBSETS, jobs=2, progress=False)
    for name in ("train.jsonl", "test-clean.jsonl"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


def test_cli(corpus: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "out"
    base = ["prepare", "librispeech", "--corpus-dir", str(corpus), "--out-dir", str(out), "--quiet"]
    code, stdout, _ = run_cli([*base, "--subsets", "dev-clean", "--jobs", "2"], capsys)
    assert code == 0 and "librispeech: 6 utterances" in stdout and "dev-clean.jsonl" in stdout
    code, stdout, _ = run_cli([*base, "--subsets", "dev-clean"], capsys)
    assert code == 0 and "up to date" in stdout
    code, _, err = run_cli([*base, "--subsets", "dev-other"], capsys)
    assert_one_line_error(code, err, str(corpus / "dev-other"), "no such folder")
    code, _, err = run_cli([*base, "--subsets", "dev-cleen"], capsys)
    assert_one_line_error(code, err, "unknown LibriSpeech subset 'dev-cleen'")
    code, _, err = run_cli([*base[:3], str(tmp_path / "nowhere"), *base[4:]], capsys)
    assert_one_line_error(code, err, "nowhere: no such folder")
    code, _, err = run_cli([*base, "--jobs", "0"], capsys)
    assert_one_line_error(code, err, "--jobs", "must be at least 1")
    code, _, err = run_cli(["prepare", "librispeech", "--out-dir", str(out)], capsys)
    assert_one_line_error(code, err, "--corpus-dir")
