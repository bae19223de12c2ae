import json
import shutil

import pytest

from speech.errors import SpeechError
from speech.text import CharTokenizer, Phonemizer, TextNormalizer, train_tokenizer_from_manifest
from speech.text.phonemes import INSTALL_HINT

needs_espeak = pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng is not installed")


@pytest.fixture(scope="module")
def phonemizer() -> Phonemizer:
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed")
    return Phonemizer("en-us")


def test_missing_espeak_gives_install_hint():
    with pytest.raises(SpeechError, match=INSTALL_HINT):
        Phonemizer(executable="no-such-espeak-ng-program")


@needs_espeak
def test_unknown_voice_is_a_clear_error():
    with pytest.raises(SpeechError, match="espeak-ng failed for voice 'xx-nope'"):
        Phonemizer("xx-nope")


def test_known_words(phonemizer):
    assert phonemizer.phonemize(["nine", "ten"]) == ["nˈaɪn", "tˈɛn"]
    assert phonemizer("nine") == "nˈaɪn"


def test_deterministic_words_punctuation_and_hyphens(phonemizer):
    text = "sixty thousand, six hundred and twenty-one."
    first = phonemizer(text)
    assert first == phonemizer(text)
    assert first.endswith(".")
    words = first.split(" ")
    assert len(words) == 7  # the hyphen separates twenty and one
    assert words[1].endswith(",")
    assert not any(c.isascii() and c.isupper() for c in first)


def test_batch_equals_one_by_one(phonemizer):
    texts = [
        "four hundred and twelve",
        "",
        "...",
        "what? yes!",
        "don't stop, please.",
        " ".join(["one two three"] * 20),  # longer than one espeak-ng clause
        "nine",
    ]
    batch = phonemizer.phonemize(texts)
    assert len(batch) == len(texts)
    assert batch == [phonemizer(t) for t in texts]
    assert batch[1] == ""
    assert batch[2] == "..."
    assert len(batch[5].split()) == 60


def test_empty_batch(phonemizer):
    assert phonemizer.phonemize([]) == []


def test_char_tokenizer_over_phonemes_round_trips(phonemizer):
    phones = phonemizer.phonemize(["seventy eight", "nine hundred", "eleven"])
    tok = CharTokenizer.build(phones)
    assert all(tok.decode(tok.encode(p)) == p for p in phones)
    assert not tok.unknown_counts


def test_train_tokenizer_from_manifest_with_phonemes(phonemizer, tmp_path):
    manifest = tmp_path / "train.jsonl"
    texts = ["Nine, ten.", "4 apples", "Twenty-one"]
    with manifest.open("w", encoding="utf-8") as f:
        for i, text in enumerate(texts):
            record = {"id": f"u{i}", "audio": f"{i}.wav", "duration": 1.0, "sample_rate": 16000, "text": text}
            f.write(json.dumps(record) + "\n")
    normalizer = TextNormalizer("en")
    tok = train_tokenizer_from_manifest(manifest, normalizer=normalizer, phonemizer=phonemizer)
    assert isinstance(tok, CharTokenizer)
    assert "ˈ" in tok.symbols
    encoded = tok.encode(phonemizer(normalizer("four")))
    assert tok.unk_id not in encoded
