"""The command-line options every ``speech prepare <corpus>`` shares, spelled one way.

``--corpus-dir`` (the download), ``--out-dir`` (the output folder), ``--jobs N`` (one default,
:data:`DEFAULT_JOBS`, for every corpus, built-in or real), ``--force``, ``--quiet`` (no progress
bars on stderr) and ``--json`` (the summary as one JSON object on stdout).
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import Any

from speech.cli._args import positive_int

DEFAULT_JOBS = min(8, os.cpu_count() or 1)
"""The one ``--jobs`` default of every ``speech prepare`` corpus command."""


def csv_list(text: str) -> tuple[str, ...]:
    """Argparse type: ``"a,b"`` -> ``("a", "b")``."""
    return tuple(item.strip() for item in text.split(",") if item.strip())


def add_common_args(parser: argparse.ArgumentParser, corpus_help: str) -> None:
    """``--corpus-dir``, ``--out-dir``, ``--jobs``, ``--force``, ``--quiet``, ``--json``."""
    parser.add_argument("--corpus-dir", type=Path, required=True, metavar="D", help=corpus_help)
    parser.add_argument(
        "--out-dir",
        type=Path,
        required=True,
        metavar="O",
        help="folder for the manifests O/<split>.jsonl (and cut audio, where any)",
    )
    add_jobs_option(parser, "threads reading headers, processes cutting segments")
    parser.add_argument("--force", action="store_true", help="redo even when the output is up to date")
    add_output_options(parser)


def add_jobs_option(parser: argparse.ArgumentParser, what: str) -> None:
    """``--jobs N``: the one spelling, type and default of every ``speech prepare`` corpus command."""
    parser.add_argument(
        "--jobs",
        type=positive_int,
        default=DEFAULT_JOBS,
        metavar="N",
        help=f"parallel workers ({what}); the output does not depend on it (default: %(default)s)",
    )


def add_output_options(parser: argparse.ArgumentParser) -> None:
    """``--quiet`` (no progress bars) and ``--json`` (the summary as one JSON object)."""
    parser.add_argument("--quiet", action="store_true", help="no progress bars on stderr")
    parser.add_argument("--json", action="store_true", help="print the summary as one JSON object")


def print_summary(summary: Any, args: argparse.Namespace) -> int:
    """Print a preparation's summary: its table, or with ``--json`` its fields as one JSON object."""
    if getattr(args, "json", False):
        print(json.dumps(summary.as_dict(), ensure_ascii=False, default=str))
    else:
        print(summary.table())
    return 0


def run_options(args: argparse.Namespace) -> dict[str, Any]:
    """The keyword arguments every ``prepare_<corpus>`` takes from the common CLI options."""
    return {"jobs": args.jobs, "progress": not args.quiet, "force": args.force}
