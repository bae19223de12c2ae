"""``speech transcribe``: speech recognition of files (or a manifest) with an ASR checkpoint."""

from __future__ import annotations

import argparse

from speech.cli._decode import add_common_options, check_common_options, run_files, run_manifest
from speech.errors import SpeechError


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``speech transcribe``."""
    p = sub.add_parser(
        "transcribe",
        help="transcribe audio files with an ASR checkpoint",
        description="Prints one FILE<TAB>TEXT line per file (or JSON lines with --json).",
    )
    p.add_argument("--ctc-weight", type=float, default=None, help="CTC prefix score weight in [0, 1)")
    p.add_argument("--lm", default=None, help="RNN language model checkpoint for shallow fusion")
    p.add_argument("--lm-weight", type=float, default=0.3, help="language model weight (with --lm)")
    add_common_options(p, "ASR", "text")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Transcribe; a bad file is reported on its own line and the others still go through."""
    from speech.inference import Transcriber

    check_common_options(args)
    transcriber = Transcriber.from_checkpoint(args.model, device=args.device)
    lm = _load_lm(args.lm, transcriber) if args.lm else None

    def decode(waveforms):
        try:
            return transcriber.transcribe(
                waveforms,
                beam_size=args.beam,
                ctc_weight=args.ctc_weight,
                lm=lm,
                lm_weight=args.lm_weight,
                batch_size=args.batch_size,
            )
        except ValueError as e:
            raise SpeechError(str(e)) from None

    if args.manifest:
        return run_manifest(
            args, transcriber.sample_rate, decode, "text", args.beam or transcriber.search.beam_size
        )
    return run_files(args, transcriber.sample_rate, decode, "text")


def _load_lm(path: str, transcriber):
    from speech.inference.transcriber import load_lm

    return load_lm(path, transcriber.tokenizer, transcriber.device)
