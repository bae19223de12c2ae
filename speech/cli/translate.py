"""``speech translate``: speech translation of files (or a manifest) with an ST checkpoint."""

from __future__ import annotations

import argparse

from speech.cli._decode import add_common_options, prepare, run_files, run_manifest


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``speech translate``."""
    p = sub.add_parser(
        "translate",
        help="translate speech into target-language text with an ST checkpoint",
        description="Prints one FILE<TAB>TRANSLATION line per file (or JSON lines with --json). A file "
        "that cannot be read or is too short for the model is reported on its own line and the "
        "others are still translated (exit code 2). With --manifest every utterance gets a line, a "
        "bad one an empty translation.",
    )
    add_common_options(p, "ST", "translation")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Translate; a bad file is reported on its own line and the others still go through."""
    from speech.inference import Translator

    utterances = prepare(args)
    translator = Translator.from_checkpoint(args.model, device=args.device)

    def decode(waveforms, progress):
        return translator.translate(
            waveforms, beam_size=args.beam, batch_size=args.batch_size, progress=progress
        )

    if utterances is None:
        return run_files(args, translator, decode, "translation")
    beam = args.beam or translator.search.beam_size
    return run_manifest(args, translator, decode, utterances, "translation", "translation", beam)
