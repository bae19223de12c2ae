"""``speech transcribe``: speech recognition of files (or a manifest) with an ASR checkpoint."""

from __future__ import annotations

import argparse

from speech.cli._args import non_negative_float, probability
from speech.cli._decode import add_common_options, prepare, run_files, run_manifest


def ctc_weight(text: str) -> float:
    """A CTC weight in [0, 1)."""
    value = probability(text)
    if value >= 1.0:
        raise argparse.ArgumentTypeError(f"must be in [0, 1), got {text}")
    return value


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``speech transcribe``."""
    p = sub.add_parser(
        "transcribe",
        help="transcribe audio files with an ASR checkpoint",
        description="Prints one FILE<TAB>TEXT line per file (or JSON lines with --json). A file that "
        "cannot be read or is too short for the model is reported on its own line and the others "
        "are still transcribed (exit code 2). With --manifest every utterance gets a line, a bad "
        "one an empty text.",
    )
    p.add_argument(
        "--ctc-weight",
        type=ctc_weight,
        default=None,
        help="CTC prefix score weight in [0, 1) (default: the model's)",
    )
    p.add_argument("--lm", default=None, help="RNN language model checkpoint for shallow fusion")
    p.add_argument(
        "--lm-weight", type=non_negative_float, default=0.3, help="language model weight (with --lm)"
    )
    add_common_options(p, "ASR", "text")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Transcribe; a bad file is reported on its own line and the others still go through."""
    from speech.inference import Transcriber
    from speech.inference.transcriber import load_lm

    utterances = prepare(args)
    transcriber = Transcriber.from_checkpoint(args.model, device=args.device)
    lm = load_lm(args.lm, transcriber.tokenizer, transcriber.device) if args.lm else None

    def decode(waveforms, progress):
        return transcriber.transcribe(
            waveforms,
            beam_size=args.beam,
            ctc_weight=args.ctc_weight,
            lm=lm,
            lm_weight=args.lm_weight,
            batch_size=args.batch_size,
            progress=progress,
        )

    if utterances is None:
        return run_files(args, transcriber, decode, "text")
    beam = args.beam or transcriber.search.beam_size
    return run_manifest(args, transcriber, decode, utterances, "text", "text", beam)
