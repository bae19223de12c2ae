from __future__ import annotations

from pathlib import Path

import pytest

from data_prep import commonvoice
from data_prep.commonvoice import prepare_commonvoice
from speech.audio import io as audio_io
from speech.data.manifest import read_manifest
from speech.errors import SpeechError
from tests.data_prep.fixtures import assert_one_line_error, make_commonvoice, mp3_supported, run_cli, sentence

pytestmark = pytest.mark.skipif(not mp3_supported(), reason="this libsndfile cannot write mp3 clips")


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    return make_commonvoice(tmp_path / "src", "en", {"train": 4, "dev": 2, "test": 2})


def test_manifests_field_by_field(corpus: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    summary = prepare_commonvoice(corpus, out, "en", jobs=2, progress=False)
    assert summary.skips.total == 0
    train = read_manifest(out / "train.jsonl", check_audio=True)
    assert [u.id for u in train] == [f"common_voice_en_{1000 + n}" for n in range(1, 5)]
    assert [len(read_manifest(out / f"{s}.jsonl")) for s in ("dev", "test")] == [2, 2]
    utt = train[1]
    assert utt.audio == str(corpus / "en" / "clips" / "common_voice_en_1002.mp3")
    assert utt.text == sentence(2).capitalize() + "."
    assert utt.speaker == f"{2:064x}" and utt.lang == "en" and utt.translation is None
    assert utt.sample_rate == 48000 and utt.duration == pytest.approx(0.46, abs=0.03)  # mp3 header


def test_other_tsvs_and_the_language_folder(corpus: Path, tmp_path: Path) -> None:
    summary = prepare_commonvoice(corpus / "en", tmp_path / "out", "en", ["validated"], progress=False)
    assert [(m.path, m.utterances, m.speakers) for m in summary.manifests] == [("validated.jsonl", 8, 3)]


def test_bad_lines_and_clips_are_counted(corpus: Path, tmp_path: Path) -> None:
    tsv = corpus / "en" / "train.tsv"
    lines = tsv.read_text().splitlines()
    lines[1] = "\t".join(lines[1].split("\t")[:5])  # too few fields
    fields = lines[2].split("\t")
    fields[3] = " "
    lines[2] = "\t".join(fields)
    tsv.write_text("\n".join(lines) + "\n")
    (corpus / "en" / "clips" / "common_voice_en_1003.mp3").unlink()
    summary = prepare_commonvoice(corpus, tmp_path / "out", "en", ["train"], progress=False)
    assert summary.skips.counts == {"malformed line": 1, "empty transcript": 1, "missing audio": 1}
    assert f"{tsv}:2: field count differs" in summary.table()
    assert [u.id for u in read_manifest(tmp_path / "out" / "train.jsonl")] == ["common_voice_en_1004"]


def test_missing_column_and_mp3_support(
    corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(SpeechError, match="no such file"):
        prepare_commonvoice(corpus, tmp_path / "out", "en", ["other"], progress=False)
    monkeypatch.setattr(audio_io, "available_formats", lambda: frozenset({"WAV", "FLAC"}))
    with pytest.raises(SpeechError, match=r"cannot read mp3: install soundfile>=0\.12"):
        prepare_commonvoice(corpus, tmp_path / "out", "en", progress=False)
    monkeypatch.undo()
    tsv = corpus / "en" / "dev.tsv"
    tsv.write_text(tsv.read_text().replace("sentence\t", "text\t", 1))
    with pytest.raises(SpeechError, match=f"{tsv}: no 'sentence' column"):
        commonvoice.read_split(tsv, "en", commonvoice.Skips())


def test_rerun_is_up_to_date(corpus: Path, tmp_path: Path) -> None:
    prepare_commonvoice(corpus, tmp_path / "out", "en", progress=False)
    assert prepare_commonvoice(corpus, tmp_path / "out", "en", progress=False).up_to_date


def test_cli(corpus: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    base = [
        "prepare",
        "commonvoice",
        "--corpus-dir",
        str(corpus),
        "--out-dir",
        str(tmp_path / "o"),
        "--quiet",
    ]
    code, stdout, _ = run_cli([*base, "--lang", "en"], capsys)
    assert code == 0 and "commonvoice: 8 utterances" in stdout
    code, _, err = run_cli([*base, "--lang", "fr"], capsys)
    assert_one_line_error(code, err, f"{corpus / 'fr'}: no such folder")
    code, _, err = run_cli(base, capsys)
    assert_one_line_error(code, err, "--lang")
