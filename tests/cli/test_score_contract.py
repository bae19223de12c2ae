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
    assert "--reference" not in capsys.readouterr().out
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
