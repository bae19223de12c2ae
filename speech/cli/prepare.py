"""``speech prepare``: corpus preparation subcommands (built-in and real corpora)."""

from __future__ import annotations

import argparse


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``speech prepare`` and its corpus subcommands."""
    parser = sub.add_parser("prepare", help="prepare a corpus into train/dev/test manifests")
    corpora = parser.add_subparsers(dest="corpus", metavar="CORPUS", parser_class=type(parser))
    corpora.required = True
    try:
        from data_prep import synthetic
    except ImportError:  # pragma: no cover - data_prep is part of the package
        return
    synthetic.add_cli(corpora)
