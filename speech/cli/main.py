"""The ``speech`` command: one subcommand per task, each mapped to a typed function.

Exit codes: 0 success, 2 bad input (a bad argument or file: one line on stderr naming it,
never a traceback), 1 a bug in speech (one line saying so, with the path of a log file holding
the traceback; ``--debug`` prints the traceback instead), 130 interrupted (Ctrl-C), 143
terminated (SIGTERM; as for Ctrl-C, outputs being written are removed).
"""

from __future__ import annotations

import argparse
import datetime
import os
import signal
import sys
import tempfile
import traceback
from collections.abc import Sequence
from pathlib import Path

from speech import __version__
from speech.errors import SpeechError

EXIT_BUG = 1
EXIT_USAGE = 2
# optional packages and the extra that installs each (see pyproject.toml)
_EXTRAS = {
    "lightning": "train",
    "tensorboard": "train",
    "matplotlib": "train",
    "pocketsphinx": "tts-score",
    "librosa": "tts-score",
    "fastapi": "serve",
    "uvicorn": "serve",
    "multipart": "serve",
    "python_multipart": "serve",
    "onnx": "export",
    "onnxscript": "export",
    "onnxruntime": "export",
}


class HelpFormatter(argparse.HelpFormatter):
    """Help text that shows each option's default, unless it has none (None, False or empty)."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        default = action.default
        if (
            "%(default)" in text
            or "default:" in text
            or default is None
            or default is False
            or default == argparse.SUPPRESS
            or default == []
            or not (action.option_strings or action.nargs in (argparse.OPTIONAL, argparse.ZERO_OR_MORE))
        ):
            return text
        return f"{text} (default: %(default)s)"


class ArgumentParser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose errors are one line on stderr and exit code 2, showing defaults."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("formatter_class", HelpFormatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> None:  # noqa: D102 - argparse hook
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def build_parser() -> ArgumentParser:
    """The full ``speech`` parser with every subcommand registered."""
    from speech.cli import (
        average,
        config_cmd,
        export,
        prepare,
        score,
        serve,
        synthesize,
        train,
        transcribe,
        translate,
    )

    parser = ArgumentParser(prog="speech", description="Speech recognition, synthesis and translation.")
    parser.add_argument("--version", action="version", version=f"speech {__version__}")
    parser.add_argument("--debug", action="store_true", help="show the full traceback of an unexpected error")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=ArgumentParser)
    sub.required = True
    prepare.add_parser(sub)
    train.add_parser(sub)
    transcribe.add_parser(sub)
    synthesize.add_parser(sub)
    translate.add_parser(sub)
    score.add_parser(sub)
    average.add_parser(sub)
    export.add_parser(sub)
    serve.add_parser(sub)
    config_cmd.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the process exit code."""
    previous = _raise_on_sigterm()
    try:
        return _main(argv)
    finally:
        _restore_sigterm(previous)


def _main(argv: Sequence[str] | None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    head = argv[: argv.index("--")] if "--" in argv else argv
    debug = "--debug" in head or os.environ.get("SPEECH_DEBUG", "") not in ("", "0")
    if "--debug" in head:
        argv.remove("--debug")  # accepted anywhere before "--", not only before the subcommand
    parser = build_parser()
    args = parser.parse_args(argv)
    command = f"speech {args.command}"
    if args.command == "train":  # Lightning's own SIGTERM handler would call ours: leave it alone
        _restore_sigterm(signal.SIG_DFL)
    try:
        code = args.func(args)
    except SpeechError as e:
        print(f"{command}: error: {e}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print(f"{command}: interrupted", file=sys.stderr)
        return 130
    except Terminated:
        print(f"{command}: terminated (SIGTERM); nothing half-written was left", file=sys.stderr)
        return 143
    except BrokenPipeError:  # e.g. `speech transcribe ... | head`: the reader went away
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except ModuleNotFoundError as e:
        extra = _EXTRAS.get((e.name or "").split(".")[0])
        if extra is None or debug:
            return _bug(command, debug)
        print(
            f"{command}: error: this needs the '{e.name}' package, which comes with the '{extra}' extra: "
            f"pip install 'speech[{extra}]'",
            file=sys.stderr,
        )
        return EXIT_USAGE
    except OSError as e:
        if e.filename is None or debug:
            return _bug(command, debug)
        # a path the user named cannot be read or written: bad input, not a bug
        where = f"{e.filename} -> {e.filename2}" if e.filename2 else str(e.filename)
        print(f"{command}: error: {where}: {e.strerror or e.__class__.__name__}", file=sys.stderr)
        return EXIT_USAGE
    except Exception:  # noqa: BLE001 - the last line of defence: no traceback reaches a user
        return _bug(command, debug)
    return int(code or 0)


class Terminated(BaseException):  # noqa: N818 - like KeyboardInterrupt, not an error
    """Raised by SIGTERM so that every ``finally`` (atomic writes' clean-up) runs before exiting."""


def _raise_on_sigterm():
    """Make SIGTERM raise :class:`Terminated`; returns the previous handler (None if not set).

    ``speech train`` replaces it during training: Lightning stops gracefully on SIGTERM and
    :mod:`speech.tasks.train` turns that into exit code 143.
    """

    def handler(signum, frame):
        raise Terminated()

    try:
        return signal.signal(signal.SIGTERM, handler)
    except ValueError:  # not the main thread (e.g. main() called from a worker thread)
        return None


def _restore_sigterm(previous) -> None:
    if previous is not None:
        try:
            signal.signal(signal.SIGTERM, previous)
        except ValueError:  # not the main thread
            pass


def _bug(command: str, debug: bool) -> int:
    """Report an unexpected exception as a bug: one line and a log file, or the traceback."""
    exc = sys.exc_info()[1]
    summary = f"{exc.__class__.__name__}: {str(exc).splitlines()[0] if str(exc) else ''}".rstrip(": ")
    if debug:
        traceback.print_exc()
        print(f"{command}: internal error (a bug in speech): {summary}", file=sys.stderr)
        return EXIT_BUG
    log = _write_crash_log(command)
    where = f"traceback in {log}" if log else "rerun with --debug for the traceback"
    print(
        f"{command}: internal error (a bug in speech, please report it): {summary}; {where}",
        file=sys.stderr,
    )
    return EXIT_BUG


def _write_crash_log(command: str) -> Path | None:
    """Write the current traceback to ``$SPEECH_LOG_DIR`` (default: the temp folder); None on failure."""
    folder = Path(os.environ.get("SPEECH_LOG_DIR") or Path(tempfile.gettempdir()) / "speech-logs")
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=f"crash-{stamp}-", suffix=".log", dir=folder)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(f"{command} (speech {__version__}), argv: {sys.argv!r}\n")
            traceback.print_exc(file=f)
        return Path(name)
    except OSError:
        return None


if __name__ == "__main__":
    sys.exit(main())
