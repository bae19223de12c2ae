"""The CLI contract of the corpus preparers (issue 12), one test per class of bad input.

- parts: by default the known parts found on disk; none found is one line naming what was
  looked for; a part named explicitly must exist;
- outputs: an unusable output (a file where a folder goes, a folder where a file goes, a path
  under a regular file) is one line, before any audio is read;
- confinement: data (ids, file names from an index) never becomes a path outside the output
  folder, and never a path holding a control character;
- one spelling: ``--out-dir`` (``--out`` a hidden alias for mini/ding), one ``--jobs`` default,
  ``--json`` summaries.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from data_prep import cli, common, covost2, librispeech, mustc
from data_prep.builder import CorpusPlan, Job, ManifestPlan, check_outputs
from data_prep.common import Candidate, Skips, confine, present_parts
from data_prep.commonvoice import clip_path, prepare_commonvoice
from data_prep.kaldi import import_kaldi
from data_prep.ljspeech import prepare_ljspeech
from data_prep.parallel import Cut
from data_prep.voices import parse_voice
from speech.data.manifest import read_manifest
from speech.errors import SpeechError
from tests.data_prep.fixtures import (
    assert_one_line_error,
    make_commonvoice,
    make_covost2,
    make_kaldi_dir,
    make_librispeech,
    make_ljspeech,
    make_mustc,
    mp3_supported,
    run_cli,
)

BAD_IDS = ("../evil", "/abs/evil", "a/b", "..", "nul\x00id", "new\nline", "cr\rid")


# --- parts present on disk ---------------------------------------------------------------------
def test_librispeech_defaults_to_the_subsets_on_disk(tmp_path: Path) -> None:
    corpus = make_librispeech(tmp_path / "src", subsets=("dev-clean", "test-clean"), speakers=1, utterances=1)
    summary = librispeech.prepare_librispeech(corpus, tmp_path / "out", progress=False)
    assert [m.path for m in summary.manifests] == ["dev-clean.jsonl", "test-clean.jsonl"]
    with pytest.raises(SpeechError, match="train-clean-100: no such folder"):  # named: must exist
        librispeech.prepare_librispeech(corpus, tmp_path / "out", ["train-clean-100"], progress=False)


def test_no_known_part_on_disk_is_one_line_listing_what_was_looked_for(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    empty = tmp_path / "LibriSpeech"
    (empty / "not-a-subset").mkdir(parents=True)
    argv = ["prepare", "librispeech", "--corpus-dir", str(empty), "--out-dir", str(tmp_path / "o")]
    code, _, err = run_cli(argv, capsys)
    assert_one_line_error(
        code, err, "none of the LibriSpeech subsets found", "train-clean-100/", "test-other/"
    )
    with pytest.raises(SpeechError, match=r"looked for a\.tsv, b\.tsv"):
        present_parts(("a", "b"), lambda part: False, tmp_path, "splits", "{}.tsv")


def test_mustc_and_covost2_default_to_the_parts_present(tmp_path: Path) -> None:
    corpus = make_mustc(tmp_path / "mustc", splits=("dev",), talks=1, segments=1)
    assert [m.path for m in mustc.prepare_mustc(corpus, tmp_path / "m", progress=False).manifests] == [
        "dev.jsonl"
    ]
    if mp3_supported():
        cv = make_covost2(tmp_path / "cv", splits={"train": 1, "dev": 1})  # no test rows
        summary = covost2.prepare_covost2(cv, tmp_path / "c", "fr", "en", progress=False)
        assert [m.path for m in summary.manifests] == ["train.jsonl", "dev.jsonl"]
        with pytest.raises(SpeechError, match="test.jsonl: no usable utterances"):
            covost2.prepare_covost2(cv, tmp_path / "c", "fr", "en", splits=["test"], progress=False)


@pytest.mark.skipif(not mp3_supported(), reason="this libsndfile cannot write mp3 clips")
def test_commonvoice_defaults_to_the_split_tsvs_present(tmp_path: Path) -> None:
    corpus = make_commonvoice(tmp_path / "src", "en", {"train": 1, "test": 1})
    summary = prepare_commonvoice(corpus, tmp_path / "out", "en", progress=False)
    assert [m.path for m in summary.manifests] == ["train.jsonl", "test.jsonl"]
    with pytest.raises(SpeechError, match="dev.tsv: no such file"):
        prepare_commonvoice(corpus, tmp_path / "out", "en", ["dev"], progress=False)


# --- outputs checked before the work ----------------------------------------------------------
@pytest.mark.parametrize(
    "case", ["out is a file", "out under a file", "marker is a folder", "manifest is a folder"]
)
def test_unusable_outputs_are_one_line_before_any_audio_is_read(
    tmp_path: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch, case: str
) -> None:
    corpus = make_ljspeech(tmp_path / "src", utterances=4)
    out = tmp_path / "out"
    if case == "out is a file":
        out.write_text("x")
    elif case == "out under a file":
        (tmp_path / "file").write_text("x")
        out = tmp_path / "file" / "out"
    else:
        (out / (".done.json" if case == "marker is a folder" else "dev.jsonl")).mkdir(parents=True)

    def no_work(*args, **kwargs):
        raise AssertionError("audio was read before the outputs were checked")

    monkeypatch.setattr(common, "read_headers", no_work)
    argv = [
        "prepare",
        "ljspeech",
        "--corpus-dir",
        str(corpus),
        "--out-dir",
        str(out),
        "--dev",
        "1",
        "--test",
        "1",
    ]
    code, _, err = run_cli(argv, capsys)
    assert_one_line_error(code, err, "cannot write")


def test_synthetic_corpus_outputs_are_checked_and_confined(tmp_path: Path) -> None:
    voice = parse_voice("slt")
    job = Job("u", "one", voice, 1.0, 1.0, 16000, "wavs/u.wav")
    plan = CorpusPlan("mini", tmp_path / "c", {}, (job,), (ManifestPlan("train.jsonl", "train", ()),))
    check_outputs(plan)  # fine
    (tmp_path / "c" / "train.jsonl").mkdir()
    with pytest.raises(SpeechError, match="train.jsonl: cannot write"):
        check_outputs(plan)
    for escaping in ("../u.wav", "/tmp/u.wav"):
        bad = CorpusPlan("mini", tmp_path / "d", {}, (Job("u", "one", voice, 1.0, 1.0, 16000, escaping),), ())
        with pytest.raises(SpeechError, match="outside"):
            check_outputs(bad)


# --- data never becomes a path outside the output folder ---------------------------------------
def test_confine_skips_unsafe_ids_paths_and_cuts(tmp_path: Path) -> None:
    out = tmp_path / "out"
    good = Candidate("ok", str(tmp_path / "a.wav"), "text")
    bad = [Candidate(i, str(tmp_path / "a.wav"), "text") for i in BAD_IDS]
    bad.append(Candidate("ok2", str(tmp_path / "a\nb.wav"), "text"))
    bad.append(
        Candidate("ok3", str(out / "x.wav"), "text", cut=Cut("a.wav", 0.0, 1.0, str(tmp_path / "x.wav")))
    )
    skips = Skips()
    assert confine([good, *bad], out, skips) == [good]
    assert skips.total == len(bad)


@pytest.mark.parametrize("bad_id", BAD_IDS[:5])  # Kaldi tables cannot hold a line break in an id
def test_kaldi_segment_and_pipe_ids_cannot_write_outside_the_output(tmp_path: Path, bad_id: str) -> None:
    data = make_kaldi_dir(tmp_path / "src", utterances=2, segments=True)
    # a segment id (its cut is named after it) and a piped recording id (its wav is named after it)
    (data / "segments").write_text((data / "segments").read_text() + f"{bad_id} rec0 0.1 0.3\n")
    (data / "text").write_text((data / "text").read_text() + f"{bad_id} the cat\n")
    marker = tmp_path / "ran"
    (data / "wav.scp").write_text((data / "wav.scp").read_text() + f"{bad_id} touch {marker} |\n")
    out = tmp_path / "deep" / "out"
    summary = import_kaldi(data, out, allow_pipes=True, progress=False)
    assert [u.id for u in read_manifest(out / "train.jsonl")] == ["spk0-rec0-0", "spk1-rec1-0"]
    assert summary.skips.counts["id cannot be a file name"] == 1
    assert not marker.exists()  # the command of a recording whose id is no file name never runs
    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert all(p.is_relative_to(out) or p.is_relative_to(tmp_path / "src") for p in written), written


def test_mustc_wav_names_and_ljspeech_ids_cannot_escape(tmp_path: Path) -> None:
    corpus = make_mustc(tmp_path / "mustc", splits=("dev",), talks=1, segments=2)
    yaml_path = corpus / "en-de" / "data" / "dev" / "txt" / "dev.yaml"
    yaml_path.write_text(yaml_path.read_text().replace("ted_100.wav", "../../../../evil.wav", 1))
    summary = mustc.prepare_mustc(corpus, tmp_path / "out", progress=False)
    assert summary.skips.counts == {"malformed segment": 1}
    assert not list(tmp_path.rglob("evil*"))
    lj = make_ljspeech(tmp_path / "lj", utterances=6)
    lines = (lj / "metadata.csv").read_text().splitlines()
    lines[0] = "..|x|the cat"
    lines[1] = "a\x00b|x|the cat"
    (lj / "metadata.csv").write_text("\n".join(lines) + "\n")
    summary = prepare_ljspeech(lj, tmp_path / "ljout", dev=1, test=1, progress=False)
    assert summary.skips.counts == {"malformed line": 2}
    assert clip_path(tmp_path, "../x.mp3") is None and clip_path(tmp_path, "a.mp3") == tmp_path / "a.mp3"


# --- one spelling --------------------------------------------------------------------------------
def test_out_dir_spelling_hidden_out_alias_and_one_jobs_default(capsys: pytest.CaptureFixture) -> None:
    from speech.cli.main import build_parser

    parser = build_parser()
    for corpus in ("mini", "ding"):
        for flag in ("--out-dir", "--out"):
            args = parser.parse_args(["prepare", corpus, flag, "somewhere"])
            assert args.out == Path("somewhere")
        assert parser.parse_args(["prepare", corpus]).jobs == cli.DEFAULT_JOBS
    assert parser.parse_args(["prepare", "ljspeech", "--corpus-dir", "a", "--out-dir", "b"]).jobs == (
        cli.DEFAULT_JOBS
    )
    with pytest.raises(SystemExit):
        parser.parse_args(["prepare", "mini", "--help"])
    help_text = capsys.readouterr().out
    assert "--out-dir" in help_text and "--out " not in help_text and "--out OUT" not in help_text


def test_json_summary(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    corpus = make_ljspeech(tmp_path / "src", utterances=4)
    argv = ["prepare", "ljspeech", "--corpus-dir", str(corpus), "--out-dir", str(tmp_path / "o"), "--json"]
    code, out, _ = run_cli([*argv, "--dev", "1", "--test", "1", "--quiet"], capsys)
    summary = json.loads(out)
    assert code == 0 and summary["corpus"] == "ljspeech" and summary["utterances"] == 4
    assert [m["path"] for m in summary["manifests"]] == ["train.jsonl", "dev.jsonl", "test.jsonl"]


# --- Kaldi export: nothing a line-based file cannot hold -----------------------------------------
@pytest.mark.parametrize(
    ("field", "value", "problem"),
    [
        ("audio", "a.wav\nevil touch /tmp/pwned |", "control character or line break"),
        ("audio", "a\u2028b.wav", "control character or line break"),
        ("id", "two words", "holds whitespace"),
        ("speaker", "bob\tsmith", "holds whitespace"),
        ("id", "nul\u0000id", "control character"),
        ("text", "the \u0000 cat", "control character"),
    ],
)
def test_kaldi_export_refuses_what_kaldi_files_cannot_hold(
    tmp_path: Path, capsys: pytest.CaptureFixture, field: str, value: str, problem: str
) -> None:
    good = {"id": "u1", "audio": "a.wav", "duration": 0.5, "sample_rate": 16000, "text": "hi", "speaker": "s"}
    bad = {**good, "id": "u2", field: value}
    manifest = tmp_path / "m.jsonl"
    lines = [json.dumps(good), "", json.dumps(bad)]
    manifest.write_text("\n".join(lines) + "\n")  # audio: the manifest reader refuses it already
    out = tmp_path / "kaldi"
    code, _, err = run_cli(
        ["prepare", "kaldi-export", "--manifest", str(manifest), "--out-dir", str(out)], capsys
    )
    assert_one_line_error(code, err, f"{manifest}:3:", problem)
    assert not (out / "wav.scp").exists()


def test_kaldi_export_checks_its_outputs_first(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    (tmp_path / "k" / "wav.scp").mkdir(parents=True)
    argv = ["prepare", "kaldi-export", "--manifest", str(tmp_path / "missing.jsonl"), "--out-dir"]
    code, _, err = run_cli([*argv, str(tmp_path / "k")], capsys)
    assert_one_line_error(code, err, "wav.scp: cannot write")
    (tmp_path / "f").write_text("x")
    code, _, err = run_cli([*argv, str(tmp_path / "f" / "k")], capsys)
    assert_one_line_error(code, err, "cannot write the Kaldi data dir")
