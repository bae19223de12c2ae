import json

import pytest

from speech.errors import TokenizerError
from speech.text import (
    CharTokenizer,
    SentencePieceTokenizer,
    TextNormalizer,
    load_tokenizer,
    tokenizer_from_dict,
    tokenizer_to_dict,
    train_tokenizer_from_manifest,
)


def test_to_dict_from_dict_round_trip(number_corpus):
    for tok in (
        CharTokenizer.build(number_corpus),
        SentencePieceTokenizer.train(number_corpus, vocab_size=60),
    ):
        data = json.loads(json.dumps(tokenizer_to_dict(tok)))  # must be JSON-serialisable
        clone = tokenizer_from_dict(data)
        assert type(clone) is type(tok)
        assert clone.vocab_size == tok.vocab_size
        assert [clone.encode(t) for t in number_corpus[:10]] == [tok.encode(t) for t in number_corpus[:10]]


def test_char_dict_is_symbol_list():
    assert tokenizer_to_dict(CharTokenizer.build(["ba"])) == {"type": "char", "symbols": ["a", "b"]}


@pytest.mark.parametrize("data", [{"type": "bpe"}, {}, [], None])
def test_from_dict_unknown_type(data):
    with pytest.raises(TokenizerError, match="ckpt: unknown tokenizer type"):
        tokenizer_from_dict(data, where="ckpt")


def test_load_tokenizer_bad_files(tmp_path):
    missing = tmp_path / "nope.json"
    with pytest.raises(TokenizerError, match="no such tokenizer file") as info:
        load_tokenizer(missing)
    assert str(missing) in str(info.value)
    bad = tmp_path / "bad.json"
    bad.write_text('{"type": "wordpiece"}')
    with pytest.raises(TokenizerError, match="unknown tokenizer type 'wordpiece'") as info:
        load_tokenizer(bad)
    assert str(info.value).startswith(f"{bad}:")
    bad.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(TokenizerError, match=str(bad)):
        load_tokenizer(bad)


@pytest.fixture()
def manifest(tmp_path, number_corpus):
    path = tmp_path / "train.jsonl"
    with path.open("w", encoding="utf-8") as f:
        for i, text in enumerate(number_corpus[:50]):
            record = {
                "id": f"u{i}",
                "audio": f"{i}.wav",
                "duration": 1.0,
                "sample_rate": 16000,
                "text": text.upper(),
                "translation": f"Numéro {i}",
            }
            f.write(json.dumps(record, ensure_ascii=False) + "\n")
    return path


def test_train_char_from_manifest_with_normalizer(manifest, tmp_path):
    out = tmp_path / "tok" / "char.json"
    tok = train_tokenizer_from_manifest(manifest, kind="char", normalizer=TextNormalizer("en"), output=out)
    assert isinstance(tok, CharTokenizer)
    assert all(not c.isupper() for c in tok.symbols)
    assert load_tokenizer(out).encode("ninety") == tok.encode("ninety")


def test_train_sentencepiece_from_translation_field(manifest):
    tok = train_tokenizer_from_manifest(manifest, kind="sentencepiece", field="translation", vocab_size=30)
    assert isinstance(tok, SentencePieceTokenizer)
    assert tok.decode(tok.encode("Numéro 12")) == "Numéro 12"


def test_train_from_manifest_errors(manifest, tmp_path):
    with pytest.raises(TokenizerError, match="kind"):
        train_tokenizer_from_manifest(manifest, kind="word")
    with pytest.raises(TokenizerError, match="field"):
        train_tokenizer_from_manifest(manifest, field="speaker")
    no_translation = tmp_path / "m.jsonl"
    no_translation.write_text(
        json.dumps({"id": "a", "audio": "a.wav", "duration": 1.0, "sample_rate": 16000, "text": "hi"}) + "\n"
    )
    with pytest.raises(TokenizerError, match="utterance 'a' has no 'translation'"):
        train_tokenizer_from_manifest(no_translation, field="translation")
