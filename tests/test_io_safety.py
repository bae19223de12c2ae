"""speech.io: data never becomes a path outside its folder; outputs are checked before work."""

import pytest

from speech.errors import SpeechError
from speech.io import check_output_dir, check_output_file, check_unique, child_path, safe_name


@pytest.mark.parametrize(
    "name",
    [
        "../x",
        "/abs/path",
        "a/b",
        "a\\b",
        "..",
        ".",
        "",
        "a\x00b",
        "a\nb",
        "a\rb",
        "tab\there",
        "a\u2028b",
        "a\x85b",
        "x" * 300,
    ],
)
def test_unsafe_names_are_refused(tmp_path, name):
    with pytest.raises(SpeechError) as e:
        child_path(tmp_path, name, ".wav", what="id")
    assert "\n" not in str(e.value) and str(e.value).startswith("id ")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("name", ["utt-1", "slt_0001", "名前", "a.b", "..a", "a b"])
def test_plain_names_stay_inside(tmp_path, name):
    assert safe_name(name) == name
    path = child_path(tmp_path, name, ".wav")
    assert path.parent == tmp_path and path.name == name + ".wav"


def test_duplicates_are_refused():
    check_unique(["a", "b"])
    with pytest.raises(SpeechError, match="'a' appears more than once"):
        check_unique(["a", "b", "a"], where="lines.txt")


def test_output_file_checks(tmp_path):
    (tmp_path / "file").write_text("x")
    (tmp_path / "folder").mkdir()
    assert check_output_file(tmp_path / "new" / "deeper" / "out.txt").parent.is_dir()
    for bad, reason in [
        (tmp_path / "folder", "is a folder"),
        (tmp_path / "file" / "out.txt", "is not a folder"),
        (tmp_path / "file" / "a" / "out.txt", "is not a folder"),
    ]:
        with pytest.raises(SpeechError, match=reason) as e:
            check_output_file(bad)
        assert str(e.value).startswith(str(bad))
    with pytest.raises(SpeechError, match="is not a folder"):
        check_output_dir(tmp_path / "file")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file", "folder", "new"]
    assert not any(p.name.startswith(".speech-write-test") for p in tmp_path.rglob("*"))


def test_an_output_may_not_be_an_input(tmp_path):
    source = tmp_path / "train.jsonl"
    source.write_text("keep me\n")
    (tmp_path / "link.jsonl").symlink_to(source)
    for out in (source, tmp_path / "link.jsonl", tmp_path / "sub" / ".." / "train.jsonl"):
        with pytest.raises(SpeechError, match="it is the input"):
            check_output_file(out, "statistics file", inputs=(None, "-", source))
    assert source.read_text() == "keep me\n"
    assert check_output_file(tmp_path / "other.json", inputs=(source,)).name == "other.json"
