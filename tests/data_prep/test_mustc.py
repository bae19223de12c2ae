from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import yaml

from data_prep import parallel
from data_prep.mustc import prepare_mustc
from speech.data.manifest import read_manifest
from speech.errors import SpeechError
from tests.data_prep.fixtures import GERMAN, assert_one_line_error, make_mustc, run_cli, sentence

SPLITS = ("train", "dev", "tst-COMMON")


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    return make_mustc(tmp_path / "src", "en-de", SPLITS, talks=2, segments=3)


def test_segments_are_cut_and_aligned(corpus: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    summary = prepare_mustc(corpus, out, "en-de", SPLITS, jobs=2, progress=False)
    assert summary.skips.total == 0
    dev = read_manifest(out / "dev.jsonl", check_audio=True)
    assert [u.id for u in dev] == [
        "ted_200_0",
        "ted_200_1",
        "ted_200_2",
        "ted_201_0",
        "ted_201_1",
        "ted_201_2",
    ]
    utt = dev[4]  # talk ted_201, segment 1
    assert utt.audio == str(out / "wav" / "dev" / "ted_201_1.wav")
    assert utt.text == sentence(2).capitalize() + "." and utt.translation == GERMAN[2].capitalize() + "."
    assert utt.speaker == "spk.201" and utt.lang == "en" and utt.target_lang == "de"
    assert utt.sample_rate == 16000 and utt.duration == pytest.approx(0.45)
    talk, rate = sf.read(str(corpus / "en-de" / "data" / "dev" / "wav" / "ted_201.wav"), dtype="float32")
    start = round((0.1 + 0.4 + 0.05) * rate)  # offset of segment 1
    cut, _ = sf.read(utt.audio, dtype="float32")
    np.testing.assert_allclose(cut, talk[start : start + len(cut)], atol=1 / 32768)
    assert len(read_manifest(out / "tst-COMMON.jsonl")) == 6 and len(read_manifest(out / "train.jsonl")) == 6


def test_bad_entries_are_counted(corpus: Path, tmp_path: Path) -> None:
    txt = corpus / "en-de" / "data" / "dev" / "txt"
    entries = yaml.safe_load((txt / "dev.yaml").read_text())
    entries[0]["offset"] = "soon"
    entries[1]["offset"] = 60.0  # past the end of the talk
    entries[3]["wav"] = "ted_999.wav"
    (txt / "dev.yaml").write_text(yaml.safe_dump(entries))
    de = (txt / "dev.de").read_text().splitlines()
    de[2] = ""
    (txt / "dev.de").write_text("\n".join(de) + "\n")
    summary = prepare_mustc(corpus, tmp_path / "out", "en-de", ["dev"], progress=False)
    assert summary.skips.counts == {
        "malformed segment": 1,
        "segment outside its recording": 1,
        "missing audio": 1,
        "empty text": 1,
    }
    assert f"{txt / 'dev.yaml'}: segment 1: 'offset' must be a number" in summary.table()
    ids = [u.id for u in read_manifest(tmp_path / "out" / "dev.jsonl")]
    assert ids == ["ted_201_0", "ted_201_1"]  # entry 4 names ted_999: ted_201 now starts at entry 5


def test_misaligned_text_is_an_error(corpus: Path, tmp_path: Path) -> None:
    txt = corpus / "en-de" / "data" / "dev" / "txt"
    (txt / "dev.en").write_text("one line\n")
    with pytest.raises(SpeechError, match=r"dev\.en: 1 lines, but .*dev\.yaml has 6 segments"):
        prepare_mustc(corpus, tmp_path / "out", "en-de", ["dev"], progress=False)
    (txt / "dev.yaml").write_text("- {wav: [unclosed\n")
    with pytest.raises(SpeechError, match=r"dev\.yaml:\d+: invalid YAML"):
        prepare_mustc(corpus, tmp_path / "out", "en-de", ["dev"], progress=False)


def test_rerun_is_up_to_date_and_cuts_are_reused(
    corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"
    prepare_mustc(corpus, out, "en-de", ["dev"], progress=False)
    first = (out / "dev.jsonl").read_bytes()
    assert prepare_mustc(corpus, out, "en-de", ["dev"], progress=False).up_to_date
    calls = []
    monkeypatch.setattr(parallel.audio, "save", lambda *a, **k: calls.append(a))
    assert not prepare_mustc(corpus, out, "en-de", ["dev"], progress=False, force=True).up_to_date
    assert calls == [] and (out / "dev.jsonl").read_bytes() == first  # existing cuts kept


def test_cli(corpus: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    base = ["prepare", "mustc", "--corpus-dir", str(corpus), "--out-dir", str(tmp_path / "o"), "--quiet"]
    code, stdout, _ = run_cli([*base, "--splits", "dev,tst-COMMON", "--jobs", "2"], capsys)
    assert code == 0 and "mustc: 12 utterances" in stdout
    code, stdout, _ = run_cli(base, capsys)  # by default the splits on disk: tst-HE is absent here
    assert code == 0 and "dev.jsonl" in stdout and "tst-COMMON.jsonl" in stdout and "tst-HE" not in stdout
    code, _, err = run_cli([*base, "--splits", "dev,tst-HE"], capsys)  # a named split must exist
    assert_one_line_error(code, err, "tst-HE: no such folder")
    code, _, err = run_cli([*base, "--pair", "de-en"], capsys)
    assert_one_line_error(code, err, "en-<tgt>")
