import json
from pathlib import Path

import pytest

from speech.data import Utterance, read_manifest, write_manifest
from speech.errors import ManifestError


def test_read_resolves_relative_audio_and_keeps_fields(make_manifest):
    path = make_manifest(3)
    utts = read_manifest(path, check_audio=True)
    assert [u.id for u in utts] == ["u0", "u1", "u2"]
    assert Path(utts[0].audio).is_absolute() and Path(utts[0].audio).is_file()
    assert utts[1].translation == "énoncé 1"
    assert utts[2].duration == pytest.approx(0.4)


def test_write_read_round_trip_keeps_paths_relative(make_manifest, tmp_path):
    utts = read_manifest(make_manifest(2))
    out = tmp_path / "copy.jsonl"
    write_manifest(utts, out)
    first = json.loads(out.read_text().splitlines()[0])
    assert first["audio"] == "wavs/u0.wav"
    assert "speaker" not in first  # None fields are not written
    assert read_manifest(out) == utts


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ("{not json", "invalid JSON"),
        ('["a"]', "expected a JSON object"),
        ('{"id": "a", "audio": "x.wav", "duration": 1.0, "sample_rate": 16000}', "missing field 'text'"),
        ('{"id": "a", "audio": "x.wav", "duration": "1", "sample_rate": 16000, "text": ""}', "'duration'"),
        ('{"id": "a", "audio": "x.wav", "duration": -1, "sample_rate": 16000, "text": ""}', "positive"),
        (
            '{"id": "a", "audio": "x.wav", "duration": 1, "sample_rate": 16000, "text": "", "foo": 1}',
            "unknown",
        ),
        ('{"id": "", "audio": "x.wav", "duration": 1, "sample_rate": 16000, "text": ""}', "empty 'id'"),
        ('{"id": "a", "audio": "x.wav", "duration": 1, "sample_rate": true, "text": ""}', "wrong type"),
    ],
)
def test_bad_line_reports_file_line_and_problem(tmp_path, line, problem):
    good = '{"id": "ok", "audio": "x.wav", "duration": 1, "sample_rate": 16000, "text": "hi"}'
    path = tmp_path / "bad.jsonl"
    path.write_text(good + "\n" + line + "\n")
    with pytest.raises(ManifestError) as err:
        read_manifest(path)
    message = str(err.value)
    assert message.startswith(f"{path}:2: ")
    assert problem in message
    assert "\n" not in message


def test_duplicate_ids_missing_audio_and_empty(tmp_path):
    line = '{"id": "a", "audio": "x.wav", "duration": 1, "sample_rate": 16000, "text": "hi"}'
    dup = tmp_path / "dup.jsonl"
    dup.write_text(line + "\n" + line + "\n")
    with pytest.raises(ManifestError, match=r"dup.jsonl:2: duplicate id 'a' \(first on line 1\)"):
        read_manifest(dup)
    single = tmp_path / "one.jsonl"
    single.write_text(line + "\n")
    with pytest.raises(ManifestError, match="one.jsonl:1: audio file not found"):
        read_manifest(single, check_audio=True)
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n")
    with pytest.raises(ManifestError, match="manifest is empty"):
        read_manifest(empty)
    with pytest.raises(ManifestError, match="no such manifest"):
        read_manifest(tmp_path / "missing.jsonl")


def test_failed_write_leaves_old_manifest_untouched(make_manifest, tmp_path):
    path = make_manifest(2)
    before = path.read_bytes()

    def exploding():
        yield Utterance(id="x", audio="a.wav", duration=1.0, sample_rate=16000, text="t")
        raise RuntimeError("interrupted")

    with pytest.raises(RuntimeError):
        write_manifest(exploding(), path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir() if ".tmp" in p.name] == []


def test_written_files_get_normal_permissions_and_paths_are_normalised(tmp_path):
    import os

    (tmp_path / "wavs").mkdir()
    sub = tmp_path / "de"
    sub.mkdir()
    path = sub / "m.jsonl"
    path.write_text(
        '{"id": "a", "audio": "../wavs/a.wav", "duration": 1, "sample_rate": 16000, "text": "x"}\n'
    )
    utt = read_manifest(path)[0]
    assert utt.audio == str(tmp_path / "wavs" / "a.wav")
    out = tmp_path / "out.jsonl"
    write_manifest([utt], out)
    umask = os.umask(0)
    os.umask(umask)
    assert out.stat().st_mode & 0o777 == 0o666 & ~umask
