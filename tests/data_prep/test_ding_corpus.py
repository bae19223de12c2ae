from __future__ import annotations

from pathlib import Path

import pytest

from data_prep import ding, voices
from data_prep.ding_corpus import plan_ding
from data_prep.synthetic import DingConfig, prepare_ding
from speech import audio
from speech.cli.main import main
from speech.data.manifest import read_manifest
from speech.errors import ConfigError
from tests.data_prep.conftest import UNSEEN, files_under
from tests.data_prep.test_ding import FIXTURE

SPLITS = ("train", "dev", "test")
TTS = {"tts_train": 2, "tts_dev": 1, "tts_test": 1}


@pytest.fixture
def dictionary(tmp_path: Path) -> Path:
    """The Ding fixture dictionary written to a file; returns its path."""
    path = tmp_path / "de-en"
    path.write_text(FIXTURE, encoding="utf-8")
    return path


def _config(out: Path, dictionary: Path, **overrides) -> DingConfig:
    fields = {"dev": 1, "test": 2, "max_pairs": 6, "voices": ("slt", "en-us+m3"), "unseen_voices": UNSEEN}
    return DingConfig(out=out, dictionary=dictionary, **{"jobs": 1, **fields, **TTS, **overrides})


@pytest.fixture(scope="module")
def tiny_ding(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny ding corpus, ASR/ST, test_unseen and TTS parts, made with two workers."""
    root = tmp_path_factory.mktemp("ding")
    dictionary = root / "de-en"
    dictionary.write_text(FIXTURE, encoding="utf-8")
    summary = prepare_ding(_config(root / "corpus", dictionary, jobs=2), progress=False)
    assert summary.dropped == 0
    return root / "corpus"


def test_ding_test_unseen(tiny_ding: Path) -> None:
    test = read_manifest(tiny_ding / "test.jsonl")
    unseen = read_manifest(tiny_ding / "test_unseen.jsonl", check_audio=True)
    assert len(test) == 2
    assert [(u.text, u.translation) for u in unseen] == [(u.text, u.translation) for u in test]
    assert [u.id for u in unseen] == ["ding-test_unseen-00000", "ding-test_unseen-00001"]
    trained = {u.speaker for s in ("train", "dev", "test") for u in read_manifest(tiny_ding / f"{s}.jsonl")}
    assert {u.speaker for u in unseen} <= {voices.parse_voice(s).spec for s in UNSEEN}
    assert not {u.speaker for u in unseen} & trained
    assert all(Path(u.audio).parent.name == "test_unseen" and u.sample_rate == 16000 for u in unseen)


def test_ding_tts_part(tiny_ding: Path) -> None:
    for split, size in zip(SPLITS, TTS.values(), strict=True):
        asr_texts = {u.text for u in read_manifest(tiny_ding / f"{split}.jsonl")}
        tts = read_manifest(tiny_ding / "tts" / f"{split}.jsonl", check_audio=True)
        assert len(tts) == size and {u.text for u in tts} <= asr_texts  # drawn from the same split
        assert [u.id for u in tts] == [f"ding-tts-{split}-{i:05d}" for i in range(size)]
        for utt in tts:
            assert utt.speaker == "slt" and utt.translation is None and utt.lang == "en"
            assert utt.sample_rate == audio.info(utt.audio).sample_rate == 22050
            assert Path(utt.audio).parent == tiny_ding / "tts" / "wavs" / split


def test_ding_tts_only_is_deterministic(dictionary: Path, tmp_path: Path, tiny_ding: Path) -> None:
    runs = []
    for name in ("a", "b"):
        prepare_ding(_config(tmp_path / name, dictionary, asr=False), progress=False)
        runs.append(files_under(tmp_path / name))
    assert runs[0] == runs[1]  # manifests, audio and marker, byte for byte
    assert sorted(k for k in runs[0] if k.endswith(".jsonl")) == [f"tts/{s}.jsonl" for s in sorted(SPLITS)]
    assert not (tmp_path / "a" / "wavs").exists()
    for split in SPLITS:  # the same sentences as with the ASR/ST part
        manifest = f"tts/{split}.jsonl"
        assert runs[0][manifest] == (tiny_ding / manifest).read_bytes()


def test_ding_tts_picks_depend_on_the_seed(dictionary: Path) -> None:
    pairs = ding.read_pairs(dictionary)
    voice_list = {"slt": voices.parse_voice("slt")}

    def tts_texts(seed: int) -> list[str]:
        config = _config(Path("unused"), dictionary, asr=False, max_pairs=None, seed=seed, tts_train=3)
        return [job.text for job in plan_ding(config, voice_list).jobs if "-train-" in job.id]

    assert tts_texts(0) == tts_texts(0) and len(tts_texts(0)) == 3
    assert {tuple(tts_texts(seed)) for seed in range(6)} != {tuple(tts_texts(0))}
    assert set(tts_texts(1)) <= {p.english for p in pairs}


@pytest.mark.parametrize(
    "overrides, match",
    [
        ({"tts_dev": 0}, "TTS sizes"),
        ({"tts_train": -1}, "negative"),
        ({"asr": False, "tts_train": 0, "tts_dev": 0, "tts_test": 0}, "nothing to make"),
        ({"unseen_voices": ("en-us+m3",)}, "unseen voices must not be training voices"),
    ],
)
def test_ding_config_checks(overrides: dict, match: str, dictionary: Path, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=match):
        _config(tmp_path, dictionary, **overrides)


def test_cli_ding_no_asr(dictionary: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "d"
    args = ["prepare", "ding", "--out-dir", str(out), "--dictionary", str(dictionary), "--no-asr"]
    args += ["--dev", "1", "--test", "1", "--tts-train", "1", "--tts-dev", "1", "--tts-test", "1"]
    assert main([*args, "--jobs", "1", "--quiet"]) == 0
    assert "tts/test.jsonl" in capsys.readouterr().out
    assert sorted(p.name for p in out.glob("**/*.jsonl")) == ["dev.jsonl", "test.jsonl", "train.jsonl"]
    assert all(p.parent.name == "tts" for p in out.glob("**/*.jsonl"))
    assert main([*args, "--no-tts"]) == 2
    assert "nothing to make" in capsys.readouterr().err
