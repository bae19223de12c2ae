"""Synthesis warns when most of a text's words never occur in the training text (issue 13)."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import pytest
import torch

from speech.errors import SpeechError
from speech.inference.synthesizer import SynthesisWarning, Synthesizer, UnseenWordsWarning
from speech.tasks.tts import TTSConfig, TTSTask
from speech.text import CharTokenizer, text_words, word_coverage, word_vocabulary
from tests.inference.tiny import tts_checkpoint

WORDS = ["one", "two", "three", "hundred", "and"]
pytestmark = pytest.mark.filterwarnings("ignore:no stop predicted")  # the tiny model's own warning


@pytest.fixture(scope="module")
def synth(tmp_path_factory: pytest.TempPathFactory) -> Synthesizer:
    path = tts_checkpoint(tmp_path_factory.mktemp("vocab") / "tts.ckpt", word_vocabulary=WORDS)
    return Synthesizer.from_checkpoint(path, griffin_lim_iters=0)


def _unseen_warnings(run) -> list[str]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        run()
    return [str(w.message) for w in caught if issubclass(w.category, UnseenWordsWarning)]


def test_words_and_coverage() -> None:
    assert text_words("twenty-one, don't!") == ["twenty", "one", "don't"]
    assert word_vocabulary(["two, one.", "one three"]) == ["one", "three", "two"]
    coverage = word_coverage("hello world one hello", frozenset(WORDS))
    assert coverage == (4, 3, ["hello", "world"]) and coverage.unseen_fraction == 0.75
    assert word_coverage("", frozenset()).unseen_fraction == 0.0


def test_a_text_of_mostly_unseen_words_warns_naming_them_and_the_share(synth: Synthesizer) -> None:
    assert synth.vocabulary == frozenset(WORDS)
    with pytest.warns(UnseenWordsWarning, match=r"'Hello world, one\.': 2 of 3 words \(67%\) never occur"):
        synth.synthesize("Hello world, one.")
    assert issubclass(UnseenWordsWarning, SynthesisWarning)
    many = "alpha beta gamma delta epsilon zeta eta one"
    (message,) = _unseen_warnings(lambda: synth.synthesize(many))
    assert "7 of 8 words (88%)" in message and "(alpha, beta, gamma, delta, epsilon ...)" in message


@pytest.mark.parametrize(
    "text",
    [
        "one two three",
        "Hello one.",  # exactly half: not more than half
        "3 and 200",  # normalised first: three and two hundred
        "Twenty-one.",  # twenty, one
    ],
)
def test_texts_mostly_of_training_words_do_not_warn(synth: Synthesizer, text: str) -> None:
    assert _unseen_warnings(lambda: synth.synthesize(text)) == []


def test_a_long_text_warns_once_and_sentences_warn_each(synth: Synthesizer) -> None:
    assert len(_unseen_warnings(lambda: synth.synthesize("Hello world. Goodbye moon. One."))) == 1
    assert len(_unseen_warnings(lambda: synth.synthesize_sentences(["Hello world.", "Goodbye moon."]))) == 2


def test_old_checkpoints_without_words_load_and_synthesize_silently(checkpoints: dict[str, Path]) -> None:
    old = Synthesizer.from_checkpoint(checkpoints["tts"], griffin_lim_iters=0)
    assert old.vocabulary is None and old.word_coverage("hello world") is None
    assert _unseen_warnings(lambda: old.synthesize("Hello world, hello moon.")) == []


@pytest.mark.parametrize("value", ["one two", [1, 2], {"one": 1}])
def test_a_malformed_word_list_is_one_line(tmp_path: Path, value: object) -> None:
    path = tts_checkpoint(tmp_path / "tts.ckpt", word_vocabulary=["one"])
    ckpt = torch.load(path, weights_only=True)
    ckpt["speech"]["word_vocabulary"] = value
    torch.save(ckpt, path)
    with pytest.raises(
        SpeechError, match=r"tts\.ckpt: metadata: 'word_vocabulary(\[0\])?' must be (a list|str)"
    ):
        Synthesizer.from_checkpoint(path)


def test_training_stores_the_sorted_normalised_training_words(tmp_path: Path) -> None:
    manifest = tmp_path / "train.jsonl"
    texts = ["Twenty-one apples.", "3 pears, 21 apples!"]
    manifest.write_text(
        "".join(
            json.dumps({"id": f"u{i}", "audio": "a.wav", "duration": 1.0, "sample_rate": 22050, "text": t})
            + "\n"
            for i, t in enumerate(texts)
        )
    )
    config = TTSConfig()
    config.data.train = str(manifest)
    task = TTSTask(config, CharTokenizer(list(" abcdefghijklmnopqrstuvwxyz'-,.!")))
    checkpoint: dict = {}
    task.on_save_checkpoint(checkpoint)
    assert checkpoint["speech"]["word_vocabulary"] == ["apples", "one", "pears", "three", "twenty"]
