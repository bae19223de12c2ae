"""Registers the real-corpus preparations under ``speech prepare``."""

from __future__ import annotations

import argparse


def add_cli(targets: argparse._SubParsersAction) -> None:
    """Add ``speech prepare <corpus>``: LibriSpeech, LJSpeech, VCTK, Common Voice, CoVoST 2, MuST-C, Kaldi."""
    from data_prep import commonvoice, covost2, kaldi, librispeech, ljspeech, mustc, vctk

    for module in (librispeech, ljspeech, vctk, commonvoice, covost2, mustc, kaldi):
        module.add_cli(targets)
