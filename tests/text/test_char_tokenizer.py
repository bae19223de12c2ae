import json
import pickle

import pytest

from speech.errors import TokenizerError
from speech.text import BOS_ID, EOS_ID, PAD_ID, UNK_ID, CharTokenizer, Tokenizer, load_tokenizer


@pytest.fixture()
def tok() -> CharTokenizer:
    return CharTokenizer.build(["hello world", "abc"])


def test_specials_are_fixed(tok):
    assert (tok.pad_id, tok.bos_id, tok.eos_id, tok.unk_id) == (0, 1, 2, 3)
    assert (PAD_ID, BOS_ID, EOS_ID, UNK_ID) == (0, 1, 2, 3)
    assert isinstance(tok, Tokenizer)


def test_symbols_sorted_and_space_included(tok):
    assert tok.symbols == sorted(set("hello worldabc"))
    assert " " in tok.symbols
    assert tok.vocab_size == 4 + len(tok.symbols)
    # Deterministic: the order of texts does not change the ids.
    assert CharTokenizer.build(["abc", "hello world"]).symbols == tok.symbols


def test_round_trip_without_bos_eos(tok):
    ids = tok.encode("hello abc")
    assert len(ids) == len("hello abc")
    assert all(4 <= i < tok.vocab_size for i in ids)
    assert tok.decode(ids) == "hello abc"
    assert tok.decode([BOS_ID, *ids, EOS_ID, PAD_ID, PAD_ID]) == "hello abc"


def test_unknown_characters_map_to_unk_and_are_counted(tok):
    ids = tok.encode("hello Za!a")
    a = tok.encode("a")[0]
    assert ids[-4:] == [UNK_ID, a, UNK_ID, a]
    assert tok.unknown_counts == {"Z": 1, "!": 1}
    tok.encode("!!")
    assert tok.unknown_counts["!"] == 3
    assert tok.decode(tok.encode("a!")) == "a⁇"


def test_min_count():
    tok = CharTokenizer.build(["aab"], min_count=2)
    assert tok.symbols == ["a"]
    assert tok.encode("ab") == [4, UNK_ID]
    with pytest.raises(TokenizerError):
        CharTokenizer.build(["ab"], min_count=5)


def test_decode_rejects_out_of_range_ids(tok):
    with pytest.raises(ValueError, match="outside the vocabulary"):
        tok.decode([tok.vocab_size])


def test_save_load_round_trip(tok, tmp_path):
    path = tmp_path / "sub" / "tokenizer.json"
    tok.save(path)
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data == {"type": "char", "symbols": tok.symbols}
    assert not list(path.parent.glob(".*tmp"))  # atomic write left no temporary file
    for loaded in (CharTokenizer.load(path), load_tokenizer(path)):
        assert isinstance(loaded, CharTokenizer)
        assert loaded.encode("hello world x") == tok.encode("hello world x")


def test_non_ascii_symbols_survive_save(tmp_path):
    tok = CharTokenizer.build(["größe élève"])
    tok.save(tmp_path / "t.json")
    assert CharTokenizer.load(tmp_path / "t.json").symbols == tok.symbols


def test_pickle(tok):
    assert pickle.loads(pickle.dumps(tok)).encode("abc") == tok.encode("abc")


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("not json", "not a tokenizer JSON file"),
        ('{"type": "char", "symbols": ["ab"]}', "not a single character"),
        ('{"type": "char", "symbols": ["a", "a"]}', "repeated"),
        ('{"type": "char", "symbols": []}', "empty"),
        ('{"type": "char"}', "'symbols' must be a list"),
        ('{"type": "sentencepiece", "model_proto": "xx"}', "expected a 'char' tokenizer"),
        ("[1, 2]", "not a tokenizer JSON file"),
    ],
)
def test_bad_file_raises_tokenizer_error_with_path(tmp_path, content, problem):
    path = tmp_path / "bad.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(TokenizerError, match=problem) as info:
        CharTokenizer.load(path)
    assert str(path) in str(info.value)
    assert "\n" not in str(info.value)


def test_missing_file(tmp_path):
    with pytest.raises(TokenizerError, match="no such tokenizer file") as info:
        CharTokenizer.load(tmp_path / "missing.json")
    assert str(tmp_path / "missing.json") in str(info.value)
