"""``speech translate``: speech translation of files (or a manifest) with an ST checkpoint."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import torch

from speech.audio import load
from speech.errors import AudioError, SpeechError
from speech.io import atomic_write


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``speech translate``."""
    p = sub.add_parser(
        "translate",
        help="translate speech into target-language text with an ST checkpoint",
        description="Prints one FILE<TAB>TRANSLATION line per file (or JSON lines with --json).",
    )
    p.add_argument("--model", required=True, help="ST checkpoint (model.ckpt or a training checkpoint)")
    p.add_argument("--beam", type=int, default=None, help="beam size; 1 = greedy (default: the model's, 8)")
    p.add_argument("--batch-size", type=int, default=16, help="utterances decoded together")
    p.add_argument("--device", default="cpu", help="cpu or cuda")
    p.add_argument("--threads", type=int, default=0, help="torch CPU threads (0 = torch's default)")
    p.add_argument("--json", action="store_true", help="print JSON lines with file, translation and score")
    p.add_argument("--manifest", help="translate a manifest's utterances instead of FILE arguments")
    p.add_argument(
        "--output",
        help="with --manifest: write id<TAB>translation lines here (atomically), the reference "
        "translations to ref.txt and decoding statistics to *.stats.json beside it",
    )
    p.add_argument("files", nargs="*", metavar="FILE", help="audio files")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Translate; a bad file is reported on its own line and the others still go through."""
    from speech.inference import Translator

    if args.beam is not None and args.beam < 1:
        raise SpeechError(f"--beam must be at least 1, got {args.beam}")
    if args.batch_size < 1:
        raise SpeechError(f"--batch-size must be at least 1, got {args.batch_size}")
    if not args.files and not args.manifest:
        raise SpeechError("give audio FILEs or --manifest")
    if args.output and not args.manifest:
        raise SpeechError("--output goes with --manifest")
    if args.threads:
        torch.set_num_threads(args.threads)
    translator = Translator.from_checkpoint(args.model, device=args.device)
    if args.manifest:
        return _run_manifest(args, translator)
    failed, names, waveforms = 0, [], []
    for path in args.files:
        try:
            waveforms.append(load(path, translator.sample_rate))
            names.append(path)
        except AudioError as e:
            print(f"speech translate: error: {e}", file=sys.stderr)
            failed += 1
    if waveforms:
        results = translator.translate(waveforms, beam_size=args.beam, batch_size=args.batch_size)
        for name, result in zip(names, results, strict=True):
            if args.json:
                record = {"file": name, "translation": result.text, "score": result.score}
                print(json.dumps(record, ensure_ascii=False))
            else:
                print(f"{name}\t{result.text}")
    return 2 if failed else 0


def _run_manifest(args: argparse.Namespace, translator) -> int:
    from speech.data import read_manifest

    utterances = read_manifest(args.manifest)
    waveforms = [load(u.audio, translator.sample_rate) for u in utterances]
    start = time.perf_counter()
    results = translator.translate(waveforms, beam_size=args.beam, batch_size=args.batch_size)
    seconds = time.perf_counter() - start
    audio_seconds = sum(w.numel() for w in waveforms) / translator.sample_rate
    lines = [f"{u.id}\t{r.text}\n" for u, r in zip(utterances, results, strict=True)]
    if args.output:
        with atomic_write(Path(args.output)) as f:
            f.writelines(lines)
        if all(u.translation is not None for u in utterances):
            with atomic_write(Path(args.output).with_name("ref.txt")) as f:
                f.writelines(f"{u.id}\t{u.translation}\n" for u in utterances)
    else:
        sys.stdout.writelines(lines)
    stats = {
        "utterances": len(utterances),
        "audio_seconds": audio_seconds,
        "decode_seconds": seconds,
        "rtf": seconds / audio_seconds,
        "beam": args.beam or translator.search.beam_size,
        "threads": torch.get_num_threads(),
    }
    print(json.dumps(stats), file=sys.stderr)
    if args.output:
        with atomic_write(Path(args.output).with_suffix(".stats.json")) as f:
            json.dump(stats, f)
    return 0
