"""``speech score``'s contract (issue 12): one line for every bad input, outputs checked first, ``-``."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import pytest

from tests.data_prep.fixtures import assert_one_line_error, run_cli


def _experiment(tmp_path: Path, stats: str | None = '{"rtf": 0.1, "beam": 4, "threads": 1}') -> Path:
    exp = tmp_path / "exp"
    folder = exp / "decode_dev"
    folder.mkdir(parents=True)
    (folder / "ref.txt").write_text("a\tone two three\nb\tfour five\n")
    (folder / "hyp.txt").write_text("a\tone too three\nb\tfour five\n")
    if stats is not None:
        (folder / "hyp.stats.json").write_text(stats)
    return exp


@pytest.mark.parametrize(
    ("stats", "problem"),
    [
        ("{oops", "not a statistics file (invalid JSON"),
        ("", "not a statistics file"),
        ('["rtf", 0.1]', "expected a JSON object"),
        ('{"rtf": "slow"}', "'rtf' must be a finite number"),
        ('{"beam": "four"}', "'beam' must be a finite number"),
        ('{"threads": 1.5}', "'threads' must be a non-negative integer"),
    ],
)
def test_report_with_a_corrupt_stats_file_is_one_line_naming_it(
    tmp_path: Path, capsys: pytest.CaptureFixture, stats: str, problem: str
) -> None:
    exp = _experiment(tmp_path, stats)
    code, _, err = run_cli(["score", "report", "--exp-dir", str(exp)], capsys)
    assert_one_line_error(code, err, str(exp / "decode_dev" / "hyp.stats.json"), problem)
    assert not (exp / "RESULTS.md").exists()


def test_report_with_missing_keys_scores_with_dashes(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    exp = _experiment(tmp_path, "{}")
    code, out, _ = run_cli(["score", "report", "--exp-dir", str(exp)], capsys)
    assert code == 0 and "| dev | 2 | 20.00 |" in out and out.rstrip().endswith("| - | - | - |")


@pytest.mark.parametrize(
    ("ref", "problem"),
    [
        ("a\tone\nno tab\n", "ref.txt:2: expected 'id<TAB>text'"),
        (b"a\tone\nb\t\xff\n", "ref.txt:2: not UTF-8"),
        ("a\t\nb\t \n", "every reference is empty"),
        (None, "ref.txt: no such file"),
    ],
)
def test_report_with_bad_text_inputs_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture, ref: str | bytes | None, problem: str
) -> None:
    exp = _experiment(tmp_path)
    path = exp / "decode_dev" / "ref.txt"
    if ref is None:
        path.unlink()
    elif isinstance(ref, bytes):
        path.write_bytes(ref)
    else:
        path.write_text(ref)
    code, _, err = run_cli(["score", "report", "--exp-dir", str(exp)], capsys)
    assert_one_line_error(code, err, problem)


@pytest.mark.parametrize("case", ["results is a folder", "out under a file"])
def test_report_checks_its_output_before_scoring(
    tmp_path: Path, capsys: pytest.CaptureFixture, case: str
) -> None:
    exp = _experiment(tmp_path, "{oops")  # scoring would fail on this file: the output is checked first
    argv = ["score", "report", "--exp-dir", str(exp)]
    if case == "results is a folder":
        (exp / "RESULTS.md").mkdir()
    else:
        (tmp_path / "file").write_text("x")
        argv += ["--out", str(tmp_path / "file" / "RESULTS.md")]
    code, _, err = run_cli(argv, capsys)
    assert_one_line_error(
        code, err, "cannot write the", "RESULTS.md" if case == "results is a folder" else "file"
    )


def test_report_out_dash_json_and_out_file(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    exp = _experiment(tmp_path)
    code, out, _ = run_cli(["score", "report", "--exp-dir", str(exp), "--out", "-"], capsys)
    assert code == 0 and out.startswith("# Results") and not (exp / "RESULTS.md").exists()
    code, out, _ = run_cli(["score", "report", "--exp-dir", str(exp), "--json", "--quiet"], capsys)
    figures = json.loads(out)
    assert code == 0 and figures["out"] == str(exp / "RESULTS.md") and (exp / "RESULTS.md").is_file()
    assert figures["sets"][0]["set"] == "dev" and figures["sets"][0]["wer"] == pytest.approx(0.2)
    assert figures["sets"][0]["rtf"] == pytest.approx(0.1)
    code, _, err = run_cli(["score", "report", "--exp-dir", str(exp), "--out", "-", "--json"], capsys)
    assert_one_line_error(code, err, "--json and --out -")
    code, _, err = run_cli(["score", "report", "--exp-dir", str(tmp_path / "nope")], capsys)
    assert_one_line_error(code, err, "nope: no such folder")


def test_wer_and_bleu_read_one_side_from_stdin(
    tmp_path: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    ref = tmp_path / "ref.txt"
    ref.write_text("a\tone two three\nb\tfour five\n")
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"b\tfour five\na\tone too three\n")))
    code, out, _ = run_cli(["score", "wer", "--ref", str(ref), "--hyp", "-", "--json", "--quiet"], capsys)
    assert code == 0 and json.loads(out)["wer"] == pytest.approx(0.2)
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"a\tone two three\nb\tfour five\n")))
    code, out, _ = run_cli(["score", "bleu", "--ref", "-", "--hyp", str(ref)], capsys)
    assert code == 0 and "exact match 100.00% of 2 sentences" in out
    code, _, err = run_cli(["score", "wer", "--ref", "-", "--hyp", "-"], capsys)
    assert_one_line_error(code, err, "only one of --ref and --hyp")
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"a\xff\tx\n")))
    code, _, err = run_cli(["score", "wer", "--ref", str(ref), "--hyp", "-"], capsys)
    assert_one_line_error(code, err, "<stdin>:1: not UTF-8")


def _synth_dir(tmp_path: Path, stats: str = '{"rtf": 0.5}') -> Path:
    synth = tmp_path / "exp" / "synth_test"
    synth.mkdir(parents=True)
    (synth / "synth.stats.json").write_text(stats)
    return synth


def test_tts_ref_spelling_and_reference_alias(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    from speech.cli.main import build_parser

    for flag in ("--ref", "--reference"):
        args = build_parser().parse_args(
            ["score", "tts", "--synth-dir", "s", flag, "r.jsonl", "--train", "t", "--out", "o"]
        )
        assert args.ref == "r.jsonl"
    with pytest.raises(SystemExit):
        build_parser().parse_args(["score", "tts", "--help"])
    help_text = capsys.readouterr().out
    assert "--reference" not in help_text
    assert "--copy-synthesis" in help_text and "--vocoder CKPT" in help_text
    synth = _synth_dir(tmp_path)
    argv = ["score", "tts", "--synth-dir", str(synth), "--train", "t.jsonl", "--out", str(tmp_path / "R.md")]
    code, _, err = run_cli(argv, capsys)
    assert_one_line_error(code, err, "required: --ref")


@pytest.mark.parametrize(
    ("stats", "out", "problem"),
    [
        ('{"rtf": 0.5}', "folder", "R.md: cannot write the report"),
        ("{broken", "file", "synth.stats.json:1: not a statistics file"),
        ('{"stop_rate": [1]}', "file", "synth.stats.json: 'stop_rate' must be a finite number"),
        ('{"rtf": 0.5}', "dash+json", "--json and --out -"),
    ],
)
def test_tts_checks_output_and_statistics_before_scoring(
    tmp_path: Path, capsys: pytest.CaptureFixture, stats: str, out: str, problem: str
) -> None:
    synth = _synth_dir(tmp_path, stats)
    target = tmp_path / "R.md"
    if out == "folder":
        target.mkdir()
    argv = ["score", "tts", "--synth-dir", str(synth), "--ref", str(tmp_path / "missing.jsonl")]
    argv += ["--train", str(tmp_path / "missing.jsonl"), "--out", "-" if out == "dash+json" else str(target)]
    code, _, err = run_cli([*argv, "--json"] if out == "dash+json" else argv, capsys)
    assert_one_line_error(code, err, problem)  # not the missing manifests: those come later


@pytest.fixture(scope="module")
def flite_manifest(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("pocketsphinx")
    from tests.metrics.flite import render

    return render(tmp_path_factory.mktemp("flite"))


def test_asr_peer_writes_a_decode_folder_that_report_reads(
    tmp_path: Path, capsys: pytest.CaptureFixture, flite_manifest: Path
) -> None:
    out = tmp_path / "exp" / "decode_test_pocketsphinx"
    argv = ["score", "asr-peer", "--manifest", str(flite_manifest), "--out", str(out), "--limit", "3"]
    code, text, _ = run_cli(argv, capsys)
    assert code == 0 and text.startswith("WER ") and "RTF" in text
    assert sorted(p.name for p in out.iterdir()) == ["hyp.stats.json", "hyp.txt", "ref.txt", "wer.json"]
    refs = (out / "ref.txt").read_text().splitlines()
    assert refs[0] == "fox\tthe quick brown fox jumps over the lazy dog" and len(refs) == 3
    assert [line.split("\t")[0] for line in (out / "hyp.txt").read_text().splitlines()] == [
        "fox",
        "weather",
        "call",
    ]
    figures = json.loads((out / "wer.json").read_text())
    assert figures["lm"] == "general" and figures["wer"] <= 0.25 and figures["sentences"] == 3
    code, text, _ = run_cli([*argv, "--json", "--quiet"], capsys)
    printed = json.loads(text)
    assert code == 0 and printed["out"] == str(out) and printed["wer"] == figures["wer"]
    assert printed["utterances"] == 3 and printed["rtf"] > 0
    code, report, _ = run_cli(["score", "report", "--exp-dir", str(tmp_path / "exp"), "--out", "-"], capsys)
    row = f"| test_pocketsphinx | 3 | {100 * figures['wer']:.2f} |"
    assert code == 0 and row in report


@pytest.mark.parametrize(
    ("case", "problem"),
    [
        ("missing", "nope.jsonl: no such manifest"),
        ("malformed", "bad.jsonl:1: missing field 'audio'"),
        ("no text", "bad.jsonl: no reference text to score"),
        ("bad audio", "x.wav"),
        ("out is a file", "cannot write the output folder"),
    ],
)
def test_asr_peer_bad_inputs_are_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture, case: str, problem: str
) -> None:
    manifest, out = tmp_path / "bad.jsonl", tmp_path / "peer"
    record = {"id": "a", "audio": "x.wav", "duration": 1.0, "sample_rate": 16000, "text": "hello there"}
    if case == "missing":
        manifest = tmp_path / "nope.jsonl"
    elif case == "malformed":
        manifest.write_text('{"id": "a"}\n')
    else:
        manifest.write_text(json.dumps({**record, "text": "" if case == "no text" else "hi"}) + "\n")
        (tmp_path / "x.wav").write_bytes(b"RIFF not really a wav")
    if case == "out is a file":
        out.write_text("x")
    code, _, err = run_cli(["score", "asr-peer", "--manifest", str(manifest), "--out", str(out)], capsys)
    assert_one_line_error(code, err, problem)
    if case in ("missing", "malformed", "no text"):  # the manifest is checked before the folder is made
        assert not out.exists()
    assert not (out / "hyp.txt").exists()


def test_tts_judge_lm_general_needs_no_training_texts(
    tmp_path: Path, capsys: pytest.CaptureFixture, flite_manifest: Path
) -> None:
    synth = _synth_dir(tmp_path, "{}")
    lines = flite_manifest.read_text().splitlines()[:2]
    records = [
        {**json.loads(line), "audio": str(flite_manifest.parent / json.loads(line)["audio"])}
        for line in lines
    ]
    (synth / "synth.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    argv = ["score", "tts", "--synth-dir", str(synth), "--ref", str(flite_manifest), "--out", "-"]
    code, _, err = run_cli(argv, capsys)
    assert_one_line_error(code, err, "required: --train (with --judge-lm task)")
    code, report, _ = run_cli([*argv, "--judge-lm", "general"], capsys)
    assert code == 0 and "general US-English trigram LM" in report
    assert "| synthesized | 2 | 0.00 |" in report and "| reference | 2 | 0.00 |" in report
    assert "| DNSMOS P.808 | DNSMOS OVRL |" in report
    rows = {
        r.split("|")[1].strip(): r.split("|")[-3:-1] for r in report.splitlines() if r.startswith("| synth")
    }
    rows |= {
        r.split("|")[1].strip(): r.split("|")[-3:-1] for r in report.splitlines() if r.startswith("| ref")
    }
    assert rows["synthesized"] == rows["reference"]  # the same recordings: the same naturalness
    assert all(1.0 <= float(v) <= 5.0 for v in rows["reference"])
    code, _, err = run_cli([*argv, "--judge-lm", "huge"], capsys)
    assert code == 2 and "invalid choice: 'huge'" in err


def test_asr_peer_with_a_task_language_model(
    tmp_path: Path, capsys: pytest.CaptureFixture, flite_manifest: Path
) -> None:
    out = tmp_path / "peer"
    argv = ["score", "asr-peer", "--manifest", str(flite_manifest), "--out", str(out), "--limit", "3"]
    code, text, _ = run_cli([*argv, "--lm-texts", str(flite_manifest), "--quiet"], capsys)
    figures = json.loads((out / "wer.json").read_text())
    assert code == 0 and figures["lm"].startswith("task (") and str(flite_manifest) in figures["lm"]
    assert figures["wer"] == 0.0  # an LM of exactly these sentences
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    code, _, err = run_cli([*argv, "--lm-texts", str(empty)], capsys)
    assert_one_line_error(code, err, "empty.jsonl")


def test_report_normalize_scores_words_not_case_or_punctuation(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    exp = _experiment(tmp_path)
    (exp / "decode_dev" / "ref.txt").write_text("a\tThe cat sat, on 2 mats.\nb\tGood-bye!\n")
    (exp / "decode_dev" / "hyp.txt").write_text("a\tthe Cat sat on two mats\nb\tgood bye\n")
    argv = ["score", "report", "--exp-dir", str(exp), "--out", "-"]
    code, raw, _ = run_cli(argv, capsys)
    assert code == 0 and "| dev | 2 | 0.00 |" not in raw
    code, normalized, _ = run_cli([*argv, "--normalize"], capsys)
    assert code == 0 and "| dev | 2 | 0.00 | 0.00 |" in normalized and "--normalize" in normalized


@pytest.mark.parametrize("stopped_by", ["max_steps", "max_minutes", None])
def test_report_says_how_training_ended(tmp_path: Path, capsys: pytest.CaptureFixture, stopped_by) -> None:
    import torch

    exp = _experiment(tmp_path)
    model = {"speech": {"task": "asr", "format_version": 1}, "state_dict": {}}
    if stopped_by is not None:
        model["training"] = {
            "global_step": 40,
            "epochs": 2,
            "stopped_by": stopped_by,
            "max_steps": 100,
            "max_epochs": -1,
            "max_minutes": 1.5,
        }
    torch.save(model, exp / "model.ckpt")
    code, _, _ = run_cli(["score", "report", "--exp-dir", str(exp)], capsys)
    report = (exp / "RESULTS.md").read_text()
    assert code == 0 and "| dev | 2 |" in report
    if stopped_by is None:  # a model from before the summary existed
        assert "Training:" not in report
        return
    assert f"Training: 40 steps (2 full epochs), stopped by {stopped_by}." in report
    assert ("**Warning: training stopped at the trainer.max_minutes=1.5 time cap" in report) == (
        stopped_by == "max_minutes"
    )
