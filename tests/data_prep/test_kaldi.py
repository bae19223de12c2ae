from __future__ import annotations

from pathlib import Path

import pytest

from data_prep.kaldi import export_kaldi, import_kaldi
from speech.data.manifest import Utterance, read_manifest, write_manifest
from speech.errors import SpeechError
from tests.data_prep.fixtures import assert_one_line_error, make_kaldi_dir, run_cli, sentence, write_audio


def test_import_whole_files(tmp_path: Path) -> None:
    data = make_kaldi_dir(tmp_path / "src", utterances=4)
    summary = import_kaldi(data, tmp_path / "out", lang="en", jobs=2, progress=False)
    assert summary.skips.total == 0 and summary.manifests[0].path == "train.jsonl"
    utts = read_manifest(tmp_path / "out" / "train.jsonl", check_audio=True)
    assert [u.id for u in utts] == ["spk0-utt0", "spk0-utt2", "spk1-utt1", "spk1-utt3"]
    utt = utts[2]
    assert utt.audio == str(tmp_path / "src" / "audio" / "spk1-utt1.wav")
    assert utt.text == sentence(1) and utt.speaker == "spk1" and utt.lang == "en"
    assert utt.sample_rate == 16000 and utt.duration == pytest.approx(0.5)


def test_import_segments(tmp_path: Path) -> None:
    data = make_kaldi_dir(tmp_path / "src", utterances=5, segments=True)
    summary = import_kaldi(data, tmp_path / "out", name="segs", progress=False)
    assert summary.skips.total == 0
    utts = read_manifest(tmp_path / "out" / "segs.jsonl", check_audio=True)
    assert [u.id for u in utts] == ["spk0-rec0-0", "spk0-rec0-1", "spk0-rec0-2", "spk1-rec1-0", "spk1-rec1-1"]
    assert utts[1].audio == str(tmp_path / "out" / "wav" / "segs" / "spk0-rec0-1.wav")
    assert all(u.duration == pytest.approx(0.5) for u in utts) and utts[4].speaker == "spk1"
    assert (tmp_path / "out" / ".done.kaldi-segs.json").is_file()


def test_bad_lines_pipes_and_relative_paths(tmp_path: Path) -> None:
    data = make_kaldi_dir(tmp_path / "src", utterances=4)
    scp = (data / "wav.scp").read_text().splitlines()
    audio = tmp_path / "src" / "audio"
    scp[0] = f"spk0-utt0 cat {audio / 'spk0-utt0.wav'} |"  # a command
    scp[1] = "spk0-utt2 audio/spk0-utt2.wav"  # relative to --base-dir
    scp[2] = "spk1-utt1 foo.ark:123"
    scp.append("orphan " + str(audio / "spk1-utt3.wav"))
    (data / "wav.scp").write_text("\n".join(scp) + "\n")
    with (data / "text").open("a") as f:
        f.write("lonely\nspk9-utt9 no audio\n")
    summary = import_kaldi(data, tmp_path / "out", base_dir=tmp_path / "src", progress=False)
    assert summary.skips.counts == {
        "command pipe in wav.scp": 1,
        "unsupported wav.scp entry": 1,
        "malformed line": 1,
        "no recording": 1,
        "no transcript": 1,
    }
    assert "pass --allow-pipes" in summary.table()
    assert [u.id for u in read_manifest(tmp_path / "out" / "train.jsonl")] == ["spk0-utt2", "spk1-utt3"]
    piped = import_kaldi(data, tmp_path / "out", base_dir=tmp_path / "src", allow_pipes=True, progress=False)
    assert "command pipe in wav.scp" not in piped.skips.counts
    utt = read_manifest(tmp_path / "out" / "train.jsonl", check_audio=True)[0]
    assert utt.id == "spk0-utt0" and utt.audio == str(
        tmp_path / "out" / "wav" / "train" / "recordings" / "spk0-utt0.wav"
    )


def test_rerun_is_up_to_date_until_the_data_dir_changes(tmp_path: Path) -> None:
    data = make_kaldi_dir(tmp_path / "src", utterances=4)
    import_kaldi(data, tmp_path / "out", progress=False)
    assert import_kaldi(data, tmp_path / "out", progress=False).up_to_date
    (data / "text").write_text((data / "text").read_text().replace("cat", "dog"))
    assert not import_kaldi(data, tmp_path / "out", progress=False).up_to_date


def test_export_round_trip(tmp_path: Path) -> None:
    data = make_kaldi_dir(tmp_path / "src", utterances=4)
    import_kaldi(data, tmp_path / "m", progress=False)
    result = export_kaldi(tmp_path / "m" / "train.jsonl", tmp_path / "kaldi")
    assert result.utterances == 4 and result.speakers == 2 and result.renamed == 0 and not result.segments
    for name in ("wav.scp", "text", "utt2spk"):
        assert (tmp_path / "kaldi" / name).read_text() == (data / name).read_text()
    assert (
        tmp_path / "kaldi" / "spk2utt"
    ).read_text() == "spk0 spk0-utt0 spk0-utt2\nspk1 spk1-utt1 spk1-utt3\n"
    again = import_kaldi(tmp_path / "kaldi", tmp_path / "m2", progress=False)
    assert again.utterances == 4


def test_export_prefixes_ids_pipes_non_wav_and_shares_recordings(tmp_path: Path) -> None:
    write_audio(tmp_path / "a.wav", 0.5, 16000)
    utts = [
        Utterance("u1", str(tmp_path / "a.wav"), 0.5, 16000, "one two", speaker="bob"),
        Utterance("bob-u2", str(tmp_path / "a.wav"), 0.5, 16000, "three"),
        Utterance("u3", str(tmp_path / "b c.flac"), 1.25, 16000, "four", speaker="amy"),
    ]
    write_manifest(utts, tmp_path / "m.jsonl")
    result = export_kaldi(tmp_path / "m.jsonl", tmp_path / "kaldi")
    assert result.renamed == 2 and result.segments and result.speakers == 3
    folder = tmp_path / "kaldi"
    assert (folder / "utt2spk").read_text() == "amy-u3 amy\nbob-u1 bob\nbob-u2 bob-u2\n"
    assert f"amy-u3 sox '{tmp_path / 'b c.flac'}' -t wav - |" in (folder / "wav.scp").read_text()
    assert (folder / "segments").read_text() == (
        "amy-u3 amy-u3 0.00 1.2500\nbob-u1 bob-u1 0.00 0.5000\nbob-u2 bob-u1 0.00 0.5000\n"
    )
    with pytest.raises(SpeechError, match="--convert must hold"):
        export_kaldi(tmp_path / "m.jsonl", tmp_path / "kaldi", convert="sox -")


def test_cli(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    data = make_kaldi_dir(tmp_path / "src", utterances=2)
    out = tmp_path / "o"
    code, stdout, _ = run_cli(
        ["prepare", "kaldi", "--corpus-dir", str(data), "--out-dir", str(out), "--quiet"], capsys
    )
    assert code == 0 and "kaldi: 2 utterances" in stdout
    code, stdout, _ = run_cli(
        ["prepare", "kaldi-export", "--manifest", str(out / "train.jsonl"), "--out-dir", str(tmp_path / "k")],
        capsys,
    )
    assert code == 0 and "kaldi-export: 2 utterances, 2 speakers" in stdout
    (data / "text").unlink()
    code, _, err = run_cli(["prepare", "kaldi", "--corpus-dir", str(data), "--out-dir", str(out)], capsys)
    assert_one_line_error(code, err, f"{data / 'text'}: no such file")
    code, _, err = run_cli(
        [
            "prepare",
            "kaldi-export",
            "--manifest",
            str(tmp_path / "no.jsonl"),
            "--out-dir",
            str(tmp_path / "k"),
        ],
        capsys,
    )
    assert_one_line_error(code, err, "no.jsonl: no such manifest")
