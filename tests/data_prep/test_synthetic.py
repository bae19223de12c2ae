from __future__ import annotations

import json
from pathlib import Path

import pytest
from num2words import num2words

from data_prep import builder, voices
from data_prep.synthetic import DingConfig, MiniConfig, prepare_mini
from speech import audio
from speech.cli.main import main
from speech.data.manifest import read_manifest
from speech.errors import ConfigError, SpeechError
from tests.data_prep.conftest import UNSEEN, files_under, tiny_config

SPLITS = ("train", "dev", "test")
SIZES = {"train": 4, "dev": 2, "test": 2}
TTS_SIZES = {"train": 2, "dev": 1, "test": 1}


def test_mini_manifests_are_valid(tiny_mini: Path) -> None:
    for split in SPLITS:
        asr = read_manifest(tiny_mini / f"{split}.jsonl", check_audio=True)
        de = read_manifest(tiny_mini / "de" / f"{split}.jsonl", check_audio=True)
        tts = read_manifest(tiny_mini / "tts" / f"{split}.jsonl", check_audio=True)
        assert len(asr) == SIZES[split] and len(tts) == TTS_SIZES[split]
        assert [u.id for u in de] == [u.id for u in asr]
        assert [Path(u.audio).resolve() for u in de] == [Path(u.audio).resolve() for u in asr]
        for utt, utt_de in zip(asr, de, strict=True):
            assert utt.lang == "en" and utt.target_lang == "fr" and utt_de.target_lang == "de"
            assert utt.speaker in ("slt", "en-us+m3")
            number = _number_of(utt.text)
            assert utt.translation == num2words(number, lang="fr")
            assert utt_de.translation == num2words(number, lang="de")
        for utt, rate in [(u, 16000) for u in asr] + [(u, 22050) for u in tts]:
            header = audio.info(utt.audio)
            assert utt.sample_rate == header.sample_rate == rate
            assert utt.duration == pytest.approx(header.duration, abs=1e-3)
            assert 0.3 < utt.duration < 10
            assert 0.5 < float(audio.load(utt.audio).abs().max()) <= 0.91
        assert all(u.speaker == "slt" and u.translation is None for u in tts)


def test_mini_test_unseen_repeats_test_with_held_out_voices(tiny_mini: Path) -> None:
    unseen_specs = {voices.parse_voice(spec).spec for spec in UNSEEN}
    trained = {u.speaker for s in SPLITS for u in read_manifest(tiny_mini / f"{s}.jsonl")}
    for folder, lang in ((tiny_mini, "fr"), (tiny_mini / "de", "de")):
        test = read_manifest(folder / "test.jsonl")
        unseen = read_manifest(folder / "test_unseen.jsonl", check_audio=True)
        assert [u.text for u in unseen] == [u.text for u in test]
        assert [u.translation for u in unseen] == [u.translation for u in test]
        assert [u.id for u in unseen] == [u.id.replace("-test-", "-test_unseen-") for u in test]
        assert all(u.target_lang == lang and u.sample_rate == 16000 for u in unseen)
        assert {u.speaker for u in unseen} <= unseen_specs and not {u.speaker for u in unseen} & trained
    assert {p.parent.name for p in (tiny_mini / "wavs").rglob("*test_unseen*.wav")} == {"test_unseen"}
    marker = json.loads((tiny_mini / builder.DONE).read_text())
    assert marker["options"]["unseen_voices"] == list(UNSEEN)


def test_mini_without_unseen_voices_has_no_such_split(tmp_path: Path) -> None:
    sizes = {"train": 1, "dev": 1, "test": 1, "tts_train": 0, "tts_dev": 0, "tts_test": 0}
    config = tiny_config(tmp_path / "m", unseen_voices=(), **sizes)
    summary = prepare_mini(config, progress=False)
    assert "test_unseen" not in {m.split for m in summary.manifests}
    assert not (tmp_path / "m" / "wavs" / "test_unseen").exists()


def test_mini_splits_are_disjoint(tiny_mini: Path) -> None:
    for folder in (tiny_mini, tiny_mini / "tts"):
        manifests = {s: read_manifest(folder / f"{s}.jsonl") for s in SPLITS}
        ids = [u.id for m in manifests.values() for u in m]
        texts = [{u.text for u in manifests[s]} for s in SPLITS]
        assert len(ids) == len(set(ids))
        assert sum(map(len, texts)) == len(set().union(*texts))


def test_mini_is_deterministic_whatever_the_worker_count(tiny_mini: Path, tmp_path: Path) -> None:
    summary = prepare_mini(tiny_config(tmp_path / "again", jobs=1), progress=False)
    assert not summary.up_to_date and summary.dropped == 0
    first, second = files_under(tiny_mini), files_under(tmp_path / "again")
    assert sorted(first) == sorted(second)
    assert {k for k in first if k.endswith(".jsonl")} >= {"train.jsonl", "de/dev.jsonl", "tts/test.jsonl"}
    assert first == second  # manifests, audio and marker, byte for byte


def test_rerun_is_skipped_and_changed_option_regenerates(tmp_path: Path) -> None:
    out = tmp_path / "tts_only"
    config = tiny_config(out, train=0, dev=0, test=0, tts_train=2, tts_dev=1, tts_test=1)
    prepare_mini(config, progress=False)
    manifest = out / "tts" / "train.jsonl"
    stamp, texts = manifest.stat().st_mtime_ns, [u.text for u in read_manifest(manifest)]
    again = prepare_mini(config, progress=False)
    assert again.up_to_date and "up to date" in again.table()
    assert manifest.stat().st_mtime_ns == stamp
    prepare_mini(
        tiny_config(out, train=0, dev=0, test=0, tts_train=1, tts_dev=1, tts_test=1, seed=7), progress=False
    )
    assert [u.text for u in read_manifest(manifest)] != texts
    assert sorted(p.name for p in (out / "tts" / "wavs" / "train").iterdir()) == ["mini-tts-train-00000.wav"]
    assert json.loads((out / builder.DONE).read_text())["options"]["seed"] == 7


def test_interrupted_run_resumes(tiny_mini: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out, real_render, calls = tmp_path / "resumed", voices.render, []

    def failing_render(*args, **kwargs):
        calls.append(1)
        if len(calls) > 5:
            raise KeyboardInterrupt
        return real_render(*args, **kwargs)

    monkeypatch.setattr(voices, "render", failing_render)
    with pytest.raises(KeyboardInterrupt):
        prepare_mini(tiny_config(out), progress=False)
    assert not list(out.rglob("*.jsonl")) and not (out / builder.DONE).exists()
    assert (out / builder.PARTIAL).exists() and len(list(out.rglob("*.wav"))) == 5
    calls.clear()
    monkeypatch.setattr(voices, "render", lambda *a, **k: calls.append(1) or real_render(*a, **k))
    prepare_mini(tiny_config(out), progress=False)
    assert len(calls) == sum(SIZES.values()) + SIZES["test"] + sum(TTS_SIZES.values()) - 5
    assert files_under(out) == files_under(tiny_mini)
    assert not (out / builder.PARTIAL).exists() and not (out / ".work").exists()
    assert not list(out.rglob(".*tmp*"))


def test_changed_options_after_interruption_start_over(tmp_path: Path) -> None:
    out = tmp_path / "c"
    (out / "wavs" / "train").mkdir(parents=True)
    (out / "wavs" / "train" / "stale.wav").write_bytes(b"junk")
    (out / "unrelated.txt").write_text("keep me")
    (out / builder.PARTIAL).write_text(json.dumps({"corpus": "mini", "options_sha256": "other"}))
    prepare_mini(tiny_config(out, train=1, dev=1, test=1, tts_train=0, tts_dev=0, tts_test=0), progress=False)
    assert not (out / "wavs" / "train" / "stale.wav").exists()
    assert (out / "unrelated.txt").read_text() == "keep me"


def test_other_corpus_in_folder_is_refused(tiny_mini: Path) -> None:
    plan = builder.CorpusPlan("ding", tiny_mini, {}, (), ())
    with pytest.raises(SpeechError, match="holds the 'mini' corpus"):
        builder.build_corpus(plan)


@pytest.mark.parametrize(
    "overrides, match",
    [
        ({"dev": 0}, "at least one"),
        ({"train": -1}, "size"),
        ({"voices": ("slt", "slt")}, "repeat"),
        ({"voices": ()}, "at least one voice"),
        ({"voices": ("kal",)}, "8 kHz"),
        ({"target_langs": ("xx",)}, "num2words"),
        ({"pitch_jitter": 0.7}, "pitch_jitter"),
        ({"prosody_jitter": -0.1}, "prosody_jitter"),
        ({"unseen_voices": ("festival:ked", "slt")}, "unseen voices must not be training voices.*: slt$"),
        ({"voices": ("kal16",), "unseen_voices": ("festival:kal",)}, "festival:kal$"),
        ({"unseen_voices": ("festival:ked", "festival:ked")}, "unseen voices repeat"),
        ({"jobs": 0}, "jobs"),
        ({"train": 0, "dev": 0, "test": 0, "tts_train": 0, "tts_dev": 0, "tts_test": 0}, "nothing"),
    ],
)
def test_mini_config_checks(overrides: dict, match: str, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=match):
        MiniConfig(out=tmp_path, **overrides)


def test_ding_config_checks(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no training pairs"):
        DingConfig(out=tmp_path, max_pairs=10, dev=5, test=5)
    with pytest.raises(ConfigError, match="min_words"):
        DingConfig(out=tmp_path, min_words=5, max_words=4)


def test_cli_help_and_bad_options(capsys: pytest.CaptureFixture) -> None:
    for corpus in ("mini", "ding"):
        with pytest.raises(SystemExit) as exit_info:
            main(["prepare", corpus, "--help"])
        assert exit_info.value.code == 0
        help_text = capsys.readouterr().out
        for option in ("--voices", "--unseen-voices", "--prosody-jitter", "--tts-train", "--no-asr"):
            assert option in help_text
    assert main(["prepare", "mini", "--dev", "0", "--out", "/nonexistent/x"]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "at least one" in error
    for corpus in ("mini", "ding"):
        assert main(["prepare", corpus, "--voices", "slt,awb", "--unseen-voices", "rms,awb"]) == 2
        error = capsys.readouterr().err
        assert error.count("\n") == 1 and "unseen voices must not be training voices" in error
        assert error.rstrip().endswith(": awb")


def test_cli_mini_runs(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    args = [
        "prepare",
        "mini",
        "--out",
        str(tmp_path / "m"),
        "--no-tts",
        "--train",
        "1",
        "--dev",
        "1",
        "--test",
        "1",
        "--voices",
        "kal16",
        "--unseen-voices",
        "",
        "--prosody-jitter",
        "0",
        "--langs",
        "es",
        "--jobs",
        "1",
        "--quiet",
    ]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "train.jsonl" in out and "hours" in out
    utt = read_manifest(tmp_path / "m" / "train.jsonl")[0]
    assert utt.target_lang == "es" and utt.speaker == "kal16" and not (tmp_path / "m" / "tts").exists()
    assert not (tmp_path / "m" / "test_unseen.jsonl").exists()
    options = json.loads((tmp_path / "m" / builder.DONE).read_text())["options"]
    assert options["unseen_voices"] == [] and options["prosody_jitter"] == 0


def _number_of(text: str) -> int:
    """Invert English num2words for numbers below a million."""
    words = text.replace("-", " ").replace(",", "").split()
    small = {num2words(i): i for i in range(20)} | {num2words(10 * i): 10 * i for i in range(2, 10)}
    total, current = 0, 0
    for word in words:
        if word == "and":
            continue
        if word == "hundred":
            current *= 100
        elif word == "thousand":
            total, current = total + current * 1000, 0
        else:
            current += small[word]
    return total + current
