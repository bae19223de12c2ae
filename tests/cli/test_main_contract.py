"""The ``speech`` command's own contract: --version, defaults in help, the last line of defence."""

import argparse
import re

import pytest

import speech
from speech.cli import main as cli_main
from speech.cli.main import build_parser, main


def test_version(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0
    assert capsys.readouterr().out.strip() == f"speech {speech.__version__}"


def _parsers(parser: argparse.ArgumentParser, name: str = "speech"):
    yield name, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub_name, sub in action.choices.items():
                yield from _parsers(sub, f"{name} {sub_name}")


def test_every_help_shows_every_default():
    """Each option that has a default (not None/False/empty) says it in its --help."""
    missing = []
    for name, parser in _parsers(build_parser()):
        formatter = parser._get_formatter()
        for action in parser._actions:
            default = action.default
            if (
                not action.option_strings
                or action.help == argparse.SUPPRESS
                or default is None
                or default is False
                or default == argparse.SUPPRESS
                or default == []
            ):
                continue
            text = formatter._expand_help(action) if action.help else ""
            if "default" not in text:
                missing.append(f"{name} {action.option_strings[0]}")
    assert not missing, missing


def _subcommand(parser: argparse.ArgumentParser, *names: str) -> argparse.ArgumentParser:
    for name in names:
        sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        parser = sub.choices[name]
    return parser


def replace_score_wer(monkeypatch, func) -> None:
    """Make ``speech score wer`` run ``func`` instead."""
    real = build_parser

    def parser():
        p = real()
        _subcommand(p, "score", "wer").set_defaults(func=func)
        return p

    monkeypatch.setattr(cli_main, "build_parser", parser)


@pytest.fixture
def crashing(monkeypatch):
    """``speech score wer`` replaced by a function with a bug."""

    def boom(args):
        raise ZeroDivisionError("division by zero\nsecond line")

    replace_score_wer(monkeypatch, boom)


def test_unexpected_error_is_one_line_exit_1_with_a_log(crashing, capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("SPEECH_LOG_DIR", str(tmp_path / "logs"))
    monkeypatch.delenv("SPEECH_DEBUG", raising=False)
    assert main(["score", "wer", "--ref", "r", "--hyp", "h"]) == 1
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err
    assert "bug" in lines[0] and "ZeroDivisionError: division by zero" in lines[0]
    log = re.search(r"traceback in (\S+\.log)", lines[0]).group(1)
    text = open(log, encoding="utf-8").read()
    assert "Traceback" in text and "boom" in text


@pytest.mark.parametrize("argv", [["--debug", "score", "wer"], ["score", "wer", "--debug"]])
def test_debug_shows_the_traceback(crashing, capsys, argv):
    assert main([*argv, "--ref", "r", "--hyp", "h"]) == 1
    err = capsys.readouterr().err
    assert "Traceback" in err and "boom" in err


def test_os_error_on_a_named_file_is_bad_input(monkeypatch, capsys):
    def denied(args):
        raise PermissionError(13, "Permission denied", "/some/out.txt")

    replace_score_wer(monkeypatch, denied)
    assert main(["score", "wer", "--ref", "r", "--hyp", "h"]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert lines == ["speech score: error: /some/out.txt: Permission denied"]


def test_a_missing_extra_is_one_line_naming_it(monkeypatch, capsys):
    def needs_lightning(args):
        raise ModuleNotFoundError("No module named 'lightning'", name="lightning")

    replace_score_wer(monkeypatch, needs_lightning)
    assert main(["score", "wer", "--ref", "r", "--hyp", "h"]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and "pip install 'speech[train]'" in lines[0]


def test_sigterm_cleans_up_a_file_being_written(monkeypatch, capsys, tmp_path):
    import os
    import signal

    from speech.io import atomic_write

    out = tmp_path / "out.txt"

    def killed_while_writing(args):
        with atomic_write(out) as f:
            f.write("half")
            os.kill(os.getpid(), signal.SIGTERM)
            f.write(" never")

    replace_score_wer(monkeypatch, killed_while_writing)
    previous = signal.getsignal(signal.SIGTERM)
    try:
        assert main(["score", "wer", "--ref", "r", "--hyp", "h"]) == 143
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert "terminated" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []
