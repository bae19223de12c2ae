"""Parsers of the commands whose models are not built yet: synthesize and translate.

Their options are the planned ones, so ``--help`` documents the interface; running one says
plainly that the command is not available in this version and exits with code 1.
"""

from __future__ import annotations

import argparse
import sys


def _not_yet(args: argparse.Namespace) -> int:
    print(f"speech {args.command}: not available in this version yet", file=sys.stderr)
    return 1


def add_synthesize_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``speech synthesize``."""
    p = sub.add_parser("synthesize", help="synthesize speech from text with a TTS checkpoint")
    p.add_argument("--model", required=True, help="TTS checkpoint")
    p.add_argument("--text", help="text to speak")
    p.add_argument("--out", help="output wav file")
    p.set_defaults(func=_not_yet)


def add_translate_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``speech translate``."""
    p = sub.add_parser("translate", help="translate speech into target-language text with an ST checkpoint")
    p.add_argument("--model", required=True, help="ST checkpoint")
    p.add_argument("--beam", type=int, default=8, help="beam size (1 = greedy)")
    p.add_argument("files", nargs="+", metavar="FILE", help="audio files")
    p.set_defaults(func=_not_yet)
