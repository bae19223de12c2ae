import shutil
import subprocess

import pytest
import torch
from num2words import num2words

from speech import audio
from speech.errors import SpeechError
from speech.metrics import PocketsphinxRecognizer, intelligibility_wer, normalize_for_wer

pytest.importorskip("pocketsphinx")

_SPOKEN = [
    "four hundred and twelve",
    "seventy-three",
    "nine thousand and five",
    "eighteen",
    "six hundred and one",
]


@pytest.fixture(scope="module")
def recognizer(tmp_path_factory) -> PocketsphinxRecognizer:
    texts = [num2words(i) for i in range(1000)] + [num2words(i * 1001 + 4) for i in range(100)]
    return PocketsphinxRecognizer.from_texts(texts, workdir=tmp_path_factory.mktemp("lm"))


@pytest.fixture(scope="module")
def flite_numbers(tmp_path_factory) -> list[tuple[torch.Tensor, int]]:
    if shutil.which("flite") is None:
        pytest.skip("flite is not installed")
    folder = tmp_path_factory.mktemp("flite")
    waves = []
    for i, text in enumerate(_SPOKEN):
        path = folder / f"{i}.wav"
        subprocess.run(
            ["flite", "-voice", "slt", "-t", text, "-o", str(path)], check=True, capture_output=True
        )
        waves.append(audio.load_with_rate(path))
    return waves


def test_normalize_for_wer():
    assert normalize_for_wer("Seventy-eight, 412 DON'T!") == "seventy eight four hundred and twelve don't"
    assert normalize_for_wer("  ") == ""


def test_flite_numbers_are_recognized(recognizer, flite_numbers):
    assert intelligibility_wer(recognizer, flite_numbers, _SPOKEN) <= 0.2


def test_resampled_input_is_recognized(recognizer, flite_numbers):
    waveform, rate = flite_numbers[0]
    upsampled = audio.resample(waveform, rate, 22050)
    assert normalize_for_wer(recognizer.recognize(upsampled, 22050)) == normalize_for_wer(_SPOKEN[0])


def test_wrong_references_score_badly(recognizer, flite_numbers):
    assert intelligibility_wer(recognizer, flite_numbers[:2], ["one", "two"]) >= 1.0


def test_empty_waveform_and_bad_inputs(recognizer):
    assert recognizer.recognize(torch.zeros(0), 16000) == ""
    with pytest.raises(ValueError):
        recognizer.recognize(torch.zeros(2, 100), 16000)
    with pytest.raises(ValueError):
        intelligibility_wer(recognizer, [(torch.zeros(100), 16000)], ["one", "two"])


def test_words_missing_from_the_dictionary_are_listed(tmp_path):
    with pytest.raises(SpeechError, match="2 word.* not in the CMU dictionary: blorbitz zzyzxq"):
        PocketsphinxRecognizer.from_texts(["hello zzyzxq blorbitz"], workdir=tmp_path)


def test_sentences_with_unknown_words_are_left_out_and_counted(tmp_path):
    recognizer = PocketsphinxRecognizer.from_texts(["hello zzyzxq", "one two three"], workdir=tmp_path)
    assert recognizer.skipped_sentences == 1 and recognizer.missing_words == ["zzyzxq"]
    assert "zzyzxq" not in (tmp_path / "words.dict").read_text()
    assert "three" in (tmp_path / "words.dict").read_text()


def test_no_words_is_an_error():
    with pytest.raises(SpeechError, match="no words"):
        PocketsphinxRecognizer.from_texts(["...", ""])
