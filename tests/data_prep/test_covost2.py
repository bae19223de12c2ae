from __future__ import annotations

from pathlib import Path

import pytest

from data_prep.covost2 import prepare_covost2
from speech.data.manifest import read_manifest
from tests.data_prep.fixtures import (
    GERMAN,
    assert_one_line_error,
    make_covost2,
    mp3_supported,
    run_cli,
    sentence,
)

pytestmark = pytest.mark.skipif(not mp3_supported(), reason="this libsndfile cannot write mp3 clips")


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    return make_covost2(tmp_path / "src", "fr", "de", {"train": 4, "dev": 2, "test": 2})


def test_manifests_field_by_field(corpus: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    summary = prepare_covost2(corpus, out, "fr", "de", jobs=2, progress=False)
    assert summary.skips.total == 0
    train = read_manifest(out / "train.jsonl", check_audio=True)
    assert len(train) == 4  # train and train_covost rows
    assert [len(read_manifest(out / f"{s}.jsonl")) for s in ("dev", "test")] == [2, 2]
    utt = read_manifest(out / "dev.jsonl")[0]
    assert utt.id == "common_voice_fr_1005"
    assert utt.audio == str(corpus / "fr" / "clips" / "common_voice_fr_1005.mp3")
    assert utt.text == sentence(5).capitalize() + "." and utt.translation == GERMAN[4].capitalize() + "."
    assert utt.lang == "fr" and utt.target_lang == "de" and utt.speaker == f"{5 % 3:064x}"
    assert utt.sample_rate == 48000 and utt.duration > 0.4


def test_join_with_validated_when_columns_are_missing(corpus: Path, tmp_path: Path) -> None:
    table = corpus / "covost_v2.fr_de.tsv"
    rows = [line.split("\t") for line in table.read_text().splitlines()]
    rows = [[r[0], r[2], r[4]] for r in rows]  # path, translation, split only
    rows.append(["common_voice_fr_9999.mp3", "Nicht validiert.", "train"])
    rows.append(["common_voice_fr_1001.mp3", "Etwas.", "other"])
    rows.append(["short"])
    moved = tmp_path / "tables"
    moved.mkdir()
    (moved / table.name).write_text("".join("\t".join(r) + "\n" for r in rows))
    table.unlink()
    summary = prepare_covost2(corpus, tmp_path / "out", "fr", "de", covost_dir=moved, progress=False)
    assert summary.skips.counts == {"not in validated.tsv": 1, "unknown split": 1, "malformed line": 1}
    utt = read_manifest(tmp_path / "out" / "train.jsonl")[0]
    assert utt.text == sentence(1).capitalize() + "." and utt.speaker == f"{1:064x}"


def test_rerun_is_up_to_date(corpus: Path, tmp_path: Path) -> None:
    prepare_covost2(corpus, tmp_path / "out", "fr", "de", progress=False)
    assert prepare_covost2(corpus, tmp_path / "out", "fr", "de", progress=False).up_to_date


def test_cli(corpus: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    base = ["prepare", "covost2", "--corpus-dir", str(corpus), "--out-dir", str(tmp_path / "o"), "--quiet"]
    code, stdout, _ = run_cli([*base, "--src", "fr", "--tgt", "de"], capsys)
    assert code == 0 and "covost2: 8 utterances" in stdout
    code, _, err = run_cli([*base, "--src", "fr", "--tgt", "en"], capsys)
    assert_one_line_error(code, err, "covost_v2.fr_en.tsv: no such file")
    code, _, err = run_cli([*base, "--src", "fr", "--tgt", "de", "--splits", "train,valid"], capsys)
    assert_one_line_error(code, err, "unknown CoVoST 2 split 'valid'")
