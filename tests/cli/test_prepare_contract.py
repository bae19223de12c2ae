"""``speech prepare tokenizer|cmvn``'s contract (issue 12): outputs checked first, --json, --quiet."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from speech.cli.main import main
from speech.features import CMVNStats
from tests.data_prep.fixtures import assert_one_line_error, run_cli


def _bad_output(tmp_path: Path, case: str, name: str) -> Path:
    if case == "a folder":
        (tmp_path / name).mkdir()
        return tmp_path / name
    (tmp_path / "file").write_text("x")
    return tmp_path / "file" / name


@pytest.mark.parametrize("target", ["tokenizer", "cmvn"])
@pytest.mark.parametrize("case", ["a folder", "under a file"])
def test_unusable_output_is_one_line_before_any_work(
    tmp_path: Path, capsys: pytest.CaptureFixture, target: str, case: str
) -> None:
    out = _bad_output(tmp_path, case, "out.json")
    # the manifest is missing too: the output is checked first, so the error names the output
    argv = ["prepare", target, "--manifest", str(tmp_path / "missing.jsonl"), "--out", str(out)]
    code, _, err = run_cli(argv, capsys)
    assert_one_line_error(code, err, str(out if case == "a folder" else out.parent), "cannot write")


@pytest.mark.parametrize(("option", "value"), [("--vocab-size", "0"), ("--vocab-size", "x")])
def test_bad_numbers_are_usage_errors(tmp_path: Path, capsys: pytest.CaptureFixture, option, value) -> None:
    argv = ["prepare", "tokenizer", "--manifest", "m.jsonl", "--out", str(tmp_path / "t.json"), option, value]
    code, _, err = run_cli(argv, capsys)
    assert_one_line_error(code, err, option)
    argv = ["prepare", "cmvn", "--manifest", "m.jsonl", "--out", str(tmp_path / "c.json"), "--max-utterances"]
    code, _, err = run_cli([*argv, "0"], capsys)
    assert_one_line_error(code, err, "--max-utterances", "must be at least 1")


def test_json_and_quiet(make_manifest, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    manifest = make_manifest(2)
    tok = tmp_path / "tok" / "tokenizer.json"
    code, out, err = run_cli(
        ["prepare", "tokenizer", "--manifest", str(manifest), "--out", str(tok), "--json", "--quiet"], capsys
    )
    result = json.loads(out)
    assert code == 0 and err == "" and result["out"] == str(tok) and result["kind"] == "char"
    assert result["vocab_size"] > 4 and tok.is_file()
    stats = tmp_path / "cmvn.json"
    argv = ["prepare", "cmvn", "--manifest", str(manifest), "--out", str(stats), "--max-utterances", "1"]
    code, out, err = run_cli([*argv, "--json", "--quiet"], capsys)
    result = json.loads(out)
    assert code == 0 and err == "" and result["n_mels"] == 80
    assert result["frames"] == CMVNStats.load(stats).count > 0
    code, out, err = run_cli([*argv, "--quiet"], capsys)
    assert code == 0 and err == "" and out.startswith(f"{stats}: statistics of {result['frames']} frames")


def test_prepare_refuses_to_write_over_its_manifest(tmp_path, capsys):
    manifest = tmp_path / "train.jsonl"
    manifest.write_text('{"id": "a"}\n')
    for target in ("tokenizer", "cmvn"):
        assert main(["prepare", target, "--manifest", str(manifest), "--out", str(manifest)]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and "it is the input" in err[0]
    assert manifest.read_text() == '{"id": "a"}\n'
