"""``speech transcribe/translate`` on long recordings: --format, --out-dir, --word-timestamps, --long-form.

Silero is replaced by an energy VAD over tone bursts so segments are known exactly; the tiny
checkpoints decode them (their text is random, its shape is what is checked).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

import speech.inference.longform as longform
from speech.cli.main import main

RATE = 16000
LAYOUT = [(0.5, 2.0), (3.0, 4.0), (5.0, 7.5)]


def _energy_vad():
    return lambda window: min(1.0, float(window.pow(2).mean().sqrt()) * 4)


@pytest.fixture(autouse=True)
def energy_vad(monkeypatch):
    monkeypatch.setattr(longform, "silero_vad", _energy_vad)


def _bursts(path: Path, layout=LAYOUT, tail: float = 1.0) -> Path:
    total = int((layout[-1][1] + tail) * RATE)
    t = np.arange(total) / RATE
    wave = np.zeros(total, dtype=np.float32)
    for start, end in layout:
        a, b = int(start * RATE), int(end * RATE)
        wave[a:b] = 0.5 * np.sin(2 * np.pi * 440 * t[a:b])
    sf.write(path, wave, RATE)
    return path


@pytest.fixture
def audio(tmp_path: Path) -> dict[str, Path]:
    """``long`` (8.5 s, three bursts), ``other`` (another three), ``short`` (1 s), ``bad`` (not audio)."""
    bad = tmp_path / "bad.wav"
    bad.write_text("not audio")
    return {
        "long": _bursts(tmp_path / "long.wav"),
        "other": _bursts(tmp_path / "sub" / "other.wav" if (tmp_path / "sub").mkdir() is None else None),
        "short": _bursts(tmp_path / "short.wav", [(0.2, 0.8)], tail=0.2),
        "bad": bad,
    }


def _run(capsys, *argv) -> tuple[int, str, list[str]]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err.strip().splitlines()


def _asr(checkpoints, *argv) -> list[str]:
    return ["transcribe", "--model", str(checkpoints["asr"]), "--quiet", *argv]


def test_srt_on_stdout(checkpoints, audio, capsys):
    code, out, err = _run(capsys, *_asr(checkpoints, "--format", "srt", str(audio["long"])))
    assert code == 0 and err == []
    blocks = out.split("\n\n")
    assert [b.splitlines()[0] for b in blocks if b.strip()] == ["1", "2", "3"][: len(blocks)]
    times = [b.splitlines()[1] for b in blocks if b.strip()]
    assert all(" --> " in t and t[8] == "," for t in times)


def test_json_has_one_entry_per_segment_in_time_order(checkpoints, audio, capsys):
    code, out, _ = _run(capsys, *_asr(checkpoints, "--format", "json", str(audio["long"])))
    doc = json.loads(out)
    assert code == 0 and doc["file"] == str(audio["long"])
    assert len(doc["segments"]) == 3
    for seg, (start, end) in zip(doc["segments"], LAYOUT, strict=True):
        assert set(seg) == {"start", "end", "text", "score"}
        assert abs(seg["start"] - start) < 0.2 and abs(seg["end"] - end) < 0.2


def test_word_timestamps_in_json(checkpoints, audio, capsys):
    code, out, _ = _run(
        capsys, *_asr(checkpoints, "--format", "json", "--word-timestamps", str(audio["long"]))
    )
    assert code == 0
    for seg in json.loads(out)["segments"]:
        assert all(seg["start"] <= w["start"] <= w["end"] <= seg["end"] for w in seg["words"])


def test_out_dir_writes_one_file_per_input(checkpoints, audio, tmp_path, capsys):
    out_dir = tmp_path / "subs"
    argv = _asr(
        checkpoints, "--format", "vtt", "--out-dir", str(out_dir), str(audio["long"]), str(audio["other"])
    )
    code, out, _ = _run(capsys, *argv)
    assert code == 0 and out == ""
    assert sorted(p.name for p in out_dir.iterdir()) == ["long.vtt", "other.vtt"]
    assert (out_dir / "long.vtt").read_text().startswith("WEBVTT\n\n00:00:0")


def test_txt_keeps_the_file_tab_text_line_and_auto_picks_the_path(checkpoints, audio, capsys):
    argv = _asr(checkpoints, str(audio["short"]), str(audio["long"]))
    code, out, _ = _run(capsys, *argv, "--max-segment-seconds", "5")
    assert code == 0
    assert [line.split("\t")[0] for line in out.splitlines()] == [str(audio["short"]), str(audio["long"])]
    # the short file took the ordinary path: the same line as with --long-form off
    _, off, _ = _run(capsys, *_asr(checkpoints, "--long-form", "off", str(audio["short"])))
    assert out.splitlines()[0] == off.strip()


def test_translate_refuses_word_timestamps_in_one_line(checkpoints, audio, capsys):
    argv = ["translate", "--model", str(checkpoints["st"]), "--word-timestamps", str(audio["long"])]
    code, out, err = _run(capsys, *argv)
    assert code == 2 and out == "" and len(err) == 1 and "CTC head" in err[0]


def test_translate_long_form_json(checkpoints, audio, capsys):
    argv = ["translate", "--model", str(checkpoints["st"]), "--quiet", "--format", "json", str(audio["long"])]
    code, out, _ = _run(capsys, *argv)
    assert code == 0 and "translation" in json.loads(out)


@pytest.mark.parametrize("name", ["bad", "missing"])
def test_bad_inputs_are_one_line_and_the_rest_decoded(checkpoints, audio, tmp_path, capsys, name):
    path = audio.get(name, tmp_path / "missing.wav")
    code, out, err = _run(capsys, *_asr(checkpoints, "--format", "json", str(path), str(audio["long"])))
    assert code == 2 and len(err) == 1 and str(path) in err[0]
    assert [json.loads(line)["file"] for line in out.splitlines()] == [str(audio["long"])]


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--format", "srt", "{long}", "{other}"], "needs --out-dir"),
        (["--long-form", "off", "--format", "vtt", "{long}"], "need --long-form auto or on"),
        (["--json", "--format", "srt", "{long}"], "choose one"),
        (["--format", "json", "--manifest", "m.jsonl"], "go with FILE arguments"),
        (["--out-dir", "{dir}", "{long}", "{dup}"], "appears more than once"),
        (["--out-dir", "{long}", "{other}"], "not a folder"),
    ],
)
def test_bad_option_combinations_before_the_model_loads(audio, tmp_path, capsys, monkeypatch, extra, message):
    from speech.inference import Transcriber

    monkeypatch.setattr(Transcriber, "from_checkpoint", lambda *a, **k: pytest.fail("model loaded"))
    (tmp_path / "m.jsonl").write_text(json.dumps({"id": "a", "audio": "long.wav", "duration": 8.5}) + "\n")
    (tmp_path / "d").mkdir()
    dup = _bursts(tmp_path / "d" / "long.wav")
    names = {k: str(v) for k, v in audio.items()} | {"dir": str(tmp_path / "out"), "dup": str(dup)}
    extra = [a.format(**names).replace("m.jsonl", str(tmp_path / "m.jsonl")) for a in extra]
    code, _, err = _run(capsys, "transcribe", "--model", "m.ckpt", *extra)
    assert code == 2 and len(err) == 1 and message in err[0]


def test_help_documents_the_options(capsys):
    with pytest.raises(SystemExit):
        main(["transcribe", "--help"])
    out = capsys.readouterr().out
    for option in ("--format", "--long-form", "--max-segment-seconds", "--word-timestamps", "--out-dir"):
        assert option in out
