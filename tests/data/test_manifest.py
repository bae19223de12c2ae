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


@pytest.mark.parametrize("audio", ["a\nb.wav", "nul\u0000.wav", "a\rb.wav", "x\u2028y.wav", "del\u007f.wav"])
def test_audio_paths_with_control_characters_are_refused(tmp_path, audio):
    # a newline in a path becomes a second line in line-based files (Kaldi's wav.scp); NUL breaks OS calls
    path = tmp_path / "m.jsonl"
    record = {"id": "a", "audio": audio, "duration": 1, "sample_rate": 16000, "text": "x"}
    path.write_text(json.dumps(record) + "\n")
    with pytest.raises(ManifestError, match=r"m.jsonl:1: 'audio' holds a control character") as err:
        read_manifest(path)
    assert "\n" not in str(err.value)


def test_unicode_line_separators_in_text_round_trip(tmp_path):
    # JSON Lines lines end at \n only: U+2028 and \x85 written raw by ensure_ascii=False are text
    utt = Utterance(
        id="a", audio=str(tmp_path / "a.wav"), duration=1.0, sample_rate=16000, text="x\u2028y\x85z"
    )
    path = tmp_path / "m.jsonl"
    write_manifest([utt, Utterance("b", utt.audio, 1.0, 16000, "plain")], path)
    assert read_manifest(path) == [utt, Utterance("b", utt.audio, 1.0, 16000, "plain")]


def test_read_manifest_lines_gives_each_file_line(tmp_path):
    from speech.data.manifest import read_manifest_lines

    line = '{"id": "%s", "audio": "x.wav", "duration": 1, "sample_rate": 16000, "text": "hi"}'
    path = tmp_path / "m.jsonl"
    path.write_text(line % "a" + "\n\n" + line % "b" + "\n")
    assert [(where, u.id) for where, u in read_manifest_lines(path)] == [
        (f"{path}:1", "a"),
        (f"{path}:3", "b"),
    ]
