from __future__ import annotations

from pathlib import Path

import pytest

from data_prep import ding
from data_prep.synthetic import DingConfig, prepare_ding
from speech.data.manifest import read_manifest
from speech.errors import SpeechError

# Lines in the exact format of /usr/share/trans/de-en (Ding 1.9), real entries and look-alikes.
FIXTURE = """\
# Version :: devel 2023-01-30
# Copyright (c) :: Frank Richter <frank.richter.tu-chemnitz.de>,
# 1995 - 2023
# License :: GPL Version 2 or later; GNU General Public License
# URL :: https://dict.tu-chemnitz.de/
Aal {m} [zool.] | Aale {pl} :: eel | eels
Er setzte sich an die Arbeit. :: He settled down to work.
Er kam mit knapper Not davon. :: He got away by the skin of his teeth.
Schöne Worte kann man nicht essen.; \
Mit leeren Worten ist niemandem geholfen. :: Fine words butter no parsnips. [fig.]
Nicht mit Säuren zusammenbringen. (Sicherheitshinweis) :: Keep away from acids. (safety note)
Das genügt. <genügen> :: That will do.
Er hat (es) geschafft. :: He made it (in the end).
Wie spät ist es?; Wie viel Uhr ist es? :: What time is it?; What's the time?
Er kommt um 5 Uhr. :: He comes at 5 o'clock.
Das ist z. B. gut. :: That is e.g. good.
Die USA sind groß. :: The USA is big.
Ja. :: Yes.
Lauf! | Er läuft schnell weg. :: Run! | He runs away quickly.
Er ist müde. :: He is tired.; He's very tired.
Er ist müde. :: He is tired.
Sie sagte: "Nein". :: She said "no".
etw. tun :: to do sth.
Geh nach Hause! :: Go home now, please!
Wir gehen jetzt heim. :: We are going home now.
Sie liest ein Buch. :: She is reading a book.
Der Hund bellt laut. :: The dog barks loudly.
Das Wetter ist heute schön. :: The weather is nice today.
"""


@pytest.fixture
def dictionary(tmp_path: Path) -> Path:
    """:data:`FIXTURE` written as a dictionary file; returns its path."""
    path = tmp_path / "de-en"
    path.write_text(FIXTURE, encoding="utf-8")
    return path


def test_read_pairs_keeps_clean_sentences(dictionary: Path) -> None:
    pairs = ding.read_pairs(dictionary)
    english = [p.english for p in pairs]
    assert english == [
        "He settled down to work.",
        "He got away by the skin of his teeth.",
        "Fine words butter no parsnips.",
        "Keep away from acids.",
        "That will do.",
        "What time is it?",
        "What's the time?",
        "He runs away quickly.",
        "He is tired.",
        "He's very tired.",
        "Go home now, please!",
        "We are going home now.",
        "She is reading a book.",
        "The dog barks loudly.",
        "The weather is nice today.",
    ]
    by_english = dict(pairs)
    assert by_english["Fine words butter no parsnips."] == "Schöne Worte kann man nicht essen."
    assert by_english["Keep away from acids."] == "Nicht mit Säuren zusammenbringen."
    assert by_english["That will do."] == "Das genügt."
    assert by_english["What's the time?"] == "Wie viel Uhr ist es?"  # same position when counts match
    assert by_english["He's very tired."] == "Er ist müde."
    assert by_english["He runs away quickly."] == "Er läuft schnell weg."  # the matching sense


def test_read_pairs_word_limits(dictionary: Path) -> None:
    assert [p.english for p in ding.read_pairs(dictionary, min_words=6, max_words=9)] == [
        "He got away by the skin of his teeth."
    ]


def test_missing_dictionary(tmp_path: Path) -> None:
    with pytest.raises(SpeechError, match="trans-de-en"):
        ding.read_pairs(tmp_path / "nope")


@pytest.mark.parametrize(
    "text, clean",
    [
        ("He is here.", True),
        ("he is here.", False),
        ("He is here", False),
        ("He is here. She is there.", False),
        ("He paid 5 dollars.", False),
        ("Ask the BBC about it.", False),
        ("It is a so-called test.", True),
        ("Is it yours or mine ?", False),
        ("He said - well - no.", False),
        ("Café au lait is nice.", False),
    ],
)
def test_is_clean_english(text: str, clean: bool) -> None:
    assert ding.is_clean_english(text) is clean


def test_split_pairs_is_disjoint_and_deterministic(dictionary: Path) -> None:
    pairs = ding.read_pairs(dictionary)
    sizes = {"dev": 2, "test": 2, "train": 11}
    chosen = ding.split_pairs(pairs, sizes, seed=3)
    assert chosen == ding.split_pairs(pairs, sizes, seed=3)
    assert chosen != ding.split_pairs(pairs, sizes, seed=4)
    assert len(chosen["dev"]) == len(chosen["test"]) == 2
    for a, b in (("dev", "test"), ("dev", "train"), ("test", "train")):
        assert not {p.german for p in chosen[a]} & {p.german for p in chosen[b]}
        assert not {p.english for p in chosen[a]} & {p.english for p in chosen[b]}


def test_tiny_ding_corpus(dictionary: Path, tmp_path: Path) -> None:
    config = DingConfig(
        out=tmp_path / "ding",
        dictionary=dictionary,
        dev=1,
        test=1,
        max_pairs=5,
        voices=("slt", "awb"),
        unseen_voices=(),
        tts_train=0,
        tts_dev=0,
        tts_test=0,
        jobs=1,
    )
    summary = prepare_ding(config, progress=False)
    assert summary.dropped == 0 and [m.path for m in summary.manifests] == [
        f"{s}.jsonl" for s in ("train", "dev", "test")
    ]
    pairs = dict(ding.read_pairs(dictionary))
    seen: set[str] = set()
    for split, size in (("train", 3), ("dev", 1), ("test", 1)):
        utterances = read_manifest(tmp_path / "ding" / f"{split}.jsonl", check_audio=True)
        assert len(utterances) == size
        for utt in utterances:
            assert utt.translation == pairs[utt.text] and utt.target_lang == "de" and utt.lang == "en"
            assert utt.sample_rate == 16000 and utt.speaker in ("slt", "awb") and utt.text not in seen
            seen.add(utt.text)
    assert prepare_ding(config, progress=False).up_to_date
