"""``speech transcribe``: speech recognition of files (or a manifest) with an ASR checkpoint.

The recognizer preset of the speech-to-text command in :mod:`speech.cli._decode`.
"""

from __future__ import annotations

import argparse

from speech.cli import _decode
from speech.cli._decode import ctc_weight

__all__ = ["add_parser", "ctc_weight"]


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``speech transcribe``."""
    _decode.add_parser(sub, _decode.TRANSCRIBE)
