import base64
import json
import pickle

import pytest

from speech.errors import TokenizerError
from speech.text import BOS_ID, EOS_ID, PAD_ID, UNK_ID, SentencePieceTokenizer, Tokenizer, load_tokenizer


@pytest.fixture(scope="module")
def tok(number_corpus) -> SentencePieceTokenizer:
    return SentencePieceTokenizer.train(number_corpus, vocab_size=80)


def test_specials_and_protocol(tok):
    assert isinstance(tok, Tokenizer)
    assert (tok.pad_id, tok.bos_id, tok.eos_id, tok.unk_id) == (PAD_ID, BOS_ID, EOS_ID, UNK_ID)
    assert [tok.id_to_piece(i) for i in range(4)] == ["<pad>", "<s>", "</s>", "<unk>"]
    assert 4 < tok.vocab_size <= 80


def test_round_trip(tok, number_corpus):
    for text in number_corpus[:20] + ["one hundred and two"]:
        ids = tok.encode(text)
        assert BOS_ID not in ids and EOS_ID not in ids
        assert tok.decode(ids) == text
    ids = tok.encode("forty two")
    assert tok.decode([BOS_ID, *ids, EOS_ID, PAD_ID]) == "forty two"


def test_unknown_pieces_are_counted(tok):
    ids = tok.encode("one ZQ two")
    assert UNK_ID in ids
    assert tok.unknown_counts["ZQ"] == 1
    assert "⁇" in tok.decode(ids)


@pytest.mark.parametrize("model_type", ["unigram", "bpe", "char"])
def test_training_is_deterministic(number_corpus, model_type):
    a = SentencePieceTokenizer.train(number_corpus, vocab_size=60, model_type=model_type)
    b = SentencePieceTokenizer.train(number_corpus, vocab_size=60, model_type=model_type)
    pieces = [a.id_to_piece(i) for i in range(a.vocab_size)]
    assert pieces == [b.id_to_piece(i) for i in range(b.vocab_size)]
    assert a.model_proto == b.model_proto
    assert a.decode(a.encode(number_corpus[3])) == number_corpus[3]


def test_tiny_corpus_with_large_vocab_size_works():
    tok = SentencePieceTokenizer.train(["a b c", "a b"], vocab_size=1000)
    assert tok.decode(tok.encode("a c")) == "a c"
    assert tok.vocab_size < 1000


def test_save_load_gives_identical_encodings(tok, tmp_path, number_corpus):
    path = tmp_path / "spm.json"
    tok.save(path)
    data = json.loads(path.read_text())
    assert data["type"] == "sentencepiece"
    assert base64.b64decode(data["model_proto"]) == tok.model_proto
    for loaded in (SentencePieceTokenizer.load(path), load_tokenizer(path)):
        assert isinstance(loaded, SentencePieceTokenizer)
        assert [loaded.encode(t) for t in number_corpus[:30]] == [tok.encode(t) for t in number_corpus[:30]]


def test_raw_model_file(tok, tmp_path):
    path = tmp_path / "m.model"
    path.write_bytes(tok.model_proto)
    assert load_tokenizer(path).encode("seven") == tok.encode("seven")


def test_pickle(tok):
    clone = pickle.loads(pickle.dumps(tok))
    assert clone.encode("three hundred") == tok.encode("three hundred")


def test_bad_arguments(number_corpus):
    with pytest.raises(TokenizerError, match="model_type"):
        SentencePieceTokenizer.train(number_corpus, 50, model_type="word2")
    with pytest.raises(TokenizerError, match="vocab_size"):
        SentencePieceTokenizer.train(number_corpus, 4)
    with pytest.raises(TokenizerError, match="no non-empty training text"):
        SentencePieceTokenizer.train(["", "  "], 50)


def test_bad_model_bytes(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({"type": "sentencepiece", "model_proto": base64.b64encode(b"junk").decode()}))
    with pytest.raises(TokenizerError, match="not a SentencePiece model") as info:
        load_tokenizer(path)
    assert str(path) in str(info.value)
    path.write_text(json.dumps({"type": "sentencepiece", "model_proto": "%%%"}))
    with pytest.raises(TokenizerError, match="base64"):
        load_tokenizer(path)
    raw = tmp_path / "bad.model"
    raw.write_bytes(b"\x00\x01junk")
    with pytest.raises(TokenizerError, match=str(raw)):
        load_tokenizer(raw)
