"""pocketsphinx's general English model: the intelligibility judge's other LM and the peer ASR system."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from speech import audio
from speech.errors import SpeechError
from speech.metrics.intelligibility import PocketsphinxRecognizer, intelligibility_wer, judge
from speech.metrics.peer import peer_utterances, score_peer
from tests.metrics.flite import SENTENCES, render

pytest.importorskip("pocketsphinx")


@pytest.fixture(scope="module")
def manifest(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return render(tmp_path_factory.mktemp("flite"))


@pytest.fixture(scope="module")
def general() -> PocketsphinxRecognizer:
    return PocketsphinxRecognizer.general()


def test_the_general_model_recognizes_flite_sentences(
    manifest: Path, general: PocketsphinxRecognizer
) -> None:
    waves = [audio.load_with_rate(manifest.parent / f"{name}.wav") for name in SENTENCES]
    assert intelligibility_wer(general, waves, list(SENTENCES.values())) <= 0.25
    fox, rate = waves[0]
    upsampled = audio.resample(fox, rate, 22050)  # resampled to its 16 kHz inside
    assert general.recognize(upsampled, 22050).split()[:3] == ["the", "quick", "brown"]


def test_judge_picks_the_language_model() -> None:
    assert isinstance(judge("general"), PocketsphinxRecognizer)
    assert isinstance(judge("task", ["one two three"]), PocketsphinxRecognizer)
    with pytest.raises(SpeechError, match="unknown judge language model 'huge'"):
        judge("huge")


def test_score_peer_normalises_and_counts(manifest: Path) -> None:
    result = score_peer(peer_utterances(manifest, limit=3))
    assert result.ids == ["fox", "weather", "call"]
    assert result.references[0] == "the quick brown fox jumps over the lazy dog"
    assert result.rates.wer <= 0.25 and result.rates.sentences == 3
    assert result.stats["utterances"] == 3 and result.stats["threads"] == 1
    assert 0 < result.stats["rtf"] < 5 and result.stats["audio_seconds"] > 3
    cats = score_peer(peer_utterances(manifest)[3:])
    assert cats.references == ["i have three cats and two dogs"]


def test_bad_manifests_are_one_line(tmp_path: Path) -> None:
    lines = [{"id": "a\tb", "audio": "x.wav", "duration": 1.0, "sample_rate": 16000, "text": "hi"}]
    (tmp_path / "tab.jsonl").write_text("".join(json.dumps(r) + "\n" for r in lines))
    with pytest.raises(SpeechError, match="tab.jsonl: id 'a\\\\tb' holds a tab"):
        peer_utterances(tmp_path / "tab.jsonl")
    lines = [{"id": "a", "audio": "x.wav", "duration": 1.0, "sample_rate": 16000, "text": " ... "}]
    (tmp_path / "empty.jsonl").write_text("".join(json.dumps(r) + "\n" for r in lines))
    with pytest.raises(SpeechError, match="empty.jsonl: no reference text to score"):
        peer_utterances(tmp_path / "empty.jsonl")
