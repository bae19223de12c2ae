"""The ``speech`` command: one subcommand per task, each mapped to a typed function.

Errors caused by the user (bad arguments, bad files) print one line on stderr and exit
with code 2, never a traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from speech.errors import SpeechError

EXIT_USAGE = 2


class ArgumentParser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose errors are one line on stderr and exit code 2."""

    def error(self, message: str) -> None:  # noqa: D102 - argparse hook
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def build_parser() -> ArgumentParser:
    """The full ``speech`` parser with every subcommand registered."""
    from speech.cli import prepare, score, synthesize, train, transcribe, translate

    parser = ArgumentParser(prog="speech", description="Speech recognition, synthesis and translation.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=ArgumentParser)
    sub.required = True
    prepare.add_parser(sub)
    train.add_parser(sub)
    transcribe.add_parser(sub)
    synthesize.add_parser(sub)
    translate.add_parser(sub)
    score.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the process exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code = args.func(args)
    except SpeechError as e:
        print(f"speech {args.command}: error: {e}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print(f"speech {args.command}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # e.g. `speech transcribe ... | head`: the reader went away
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    return int(code or 0)


if __name__ == "__main__":
    sys.exit(main())
