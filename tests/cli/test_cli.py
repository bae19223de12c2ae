import json
import subprocess
import sys

import pytest

from speech.cli.main import main

COMMANDS = ["prepare", "train", "transcribe", "synthesize", "translate", "score"]


def test_help_lists_every_command(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    for command in COMMANDS:
        assert command in out


@pytest.mark.parametrize("command", COMMANDS + ["score wer", "score bleu"])
def test_each_command_has_help(capsys, command):
    with pytest.raises(SystemExit) as exit_:
        main([*command.split(), "--help"])
    assert exit_.value.code == 0
    assert "usage: speech " + command in capsys.readouterr().out


@pytest.fixture
def files(tmp_path):
    ref = tmp_path / "ref.txt"
    ref.write_text("u1\tone two three\nu2\tfour five\n")
    hyp = tmp_path / "hyp.txt"
    hyp.write_text("u2\tfour five\nu1\tone too three\n")
    return ref, hyp


def test_score_wer(capsys, files):
    ref, hyp = files
    assert main(["score", "wer", "--ref", str(ref), "--hyp", str(hyp)]) == 0
    out = capsys.readouterr().out
    assert "WER 20.00% (1/5 words)" in out
    assert "CER" in out
    assert main(["score", "wer", "--ref", str(ref), "--hyp", str(hyp), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["wer"] == pytest.approx(0.2)


def test_score_bleu(capsys, tmp_path):
    ref = tmp_path / "ref.txt"
    ref.write_text("a\tle chat est assis sur le tapis rouge\nb\til fait très beau aujourd'hui à Paris\n")
    assert main(["score", "bleu", "--ref", str(ref), "--hyp", str(ref), "--json"]) == 0
    scores = json.loads(capsys.readouterr().out)
    assert scores["bleu"] == pytest.approx(100.0) and scores["exact_match"] == 1.0
    hyp = tmp_path / "hyp.txt"
    hyp.write_text("b\til fait très beau aujourd'hui à Lyon\na\tle chat est assis sur le tapis rouge\n")
    assert main(["score", "bleu", "--ref", str(ref), "--hyp", str(hyp)]) == 0
    out = capsys.readouterr().out
    assert "BLEU" in out and "chrF" in out and "exact match 50.00% of 2 sentences" in out


@pytest.mark.parametrize(
    "argv",
    [
        ["score", "wer", "--ref", "{missing}", "--hyp", "{hyp}"],
        ["score", "wer", "--ref", "{bad}", "--hyp", "{hyp}"],
        ["score", "bleu", "--ref", "{ref}", "--hyp", "{short}"],
        ["score", "wer", "--ref", "{ref}"],
        ["score", "cer", "--ref", "{ref}", "--hyp", "{hyp}"],
        ["nonsense"],
        [],
    ],
)
def test_bad_input_is_one_line_exit_2(tmp_path, files, argv):
    ref, hyp = files
    bad = tmp_path / "bad.txt"
    bad.write_text("no tab here\n")
    short = tmp_path / "short.txt"
    short.write_text("u1\tone\n")
    names = {"missing": tmp_path / "missing.txt", "bad": bad, "ref": ref, "hyp": hyp, "short": short}
    argv = [a.format(**names) for a in argv]
    proc = subprocess.run(
        [sys.executable, "-m", "speech", *argv], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 2
    assert proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert "error:" in lines[0] and "Traceback" not in proc.stderr
