"""``speech translate``: speech translation of files (or a manifest) with an ST checkpoint.

The translator preset of the speech-to-text command in :mod:`speech.cli._decode`.
"""

from __future__ import annotations

import argparse

from speech.cli import _decode


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``speech translate``."""
    _decode.add_parser(sub, _decode.TRANSLATE)
