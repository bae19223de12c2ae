"""What ``speech transcribe`` and ``speech translate`` share: options, file loading, manifest runs."""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import torch

from speech.audio import load
from speech.errors import AudioError, SpeechError
from speech.io import atomic_write


def add_common_options(p: argparse.ArgumentParser, kind: str, field: str) -> None:
    """Options of both commands; ``kind`` names the checkpoint, ``field`` the output text."""
    p.add_argument("--model", required=True, help=f"{kind} checkpoint (model.ckpt or a training checkpoint)")
    p.add_argument("--beam", type=int, default=None, help="beam size; 1 = greedy (default: the model's, 8)")
    p.add_argument("--batch-size", type=int, default=16, help="utterances decoded together")
    p.add_argument("--device", default="cpu", help="cpu or cuda")
    p.add_argument("--threads", type=int, default=0, help="torch CPU threads (0 = torch's default)")
    p.add_argument("--json", action="store_true", help=f"print JSON lines with file, {field} and score")
    p.add_argument("--manifest", help="decode a manifest's utterances instead of FILE arguments")
    p.add_argument(
        "--output",
        help=f"with --manifest: write id<TAB>{field} lines here (atomically), the references to "
        "ref.txt and decoding statistics to *.stats.json beside it",
    )
    p.add_argument("files", nargs="*", metavar="FILE", help="audio files")


def check_common_options(args: argparse.Namespace) -> None:
    """One-line errors for bad values; sets the thread count."""
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


def run_files(
    args: argparse.Namespace, sample_rate: int, decode: Callable[[list[torch.Tensor]], Sequence], field: str
) -> int:
    """Decode FILE arguments; a bad file is reported on its own line and the others still go through.

    Returns:
        0, or 2 when a file could not be read.
    """
    failed, names, waveforms = 0, [], []
    for path in args.files:
        try:
            waveforms.append(load(path, sample_rate))
            names.append(path)
        except AudioError as e:
            print(f"speech {args.command}: error: {e}", file=sys.stderr)
            failed += 1
    if waveforms:
        for name, result in zip(names, decode(waveforms), strict=True):
            if args.json:
                print(
                    json.dumps({"file": name, field: result.text, "score": result.score}, ensure_ascii=False)
                )
            else:
                print(f"{name}\t{result.text}")
    return 2 if failed else 0


def run_manifest(
    args: argparse.Namespace,
    sample_rate: int,
    decode: Callable[[list[torch.Tensor]], Sequence],
    reference: str,
    beam: int,
) -> int:
    """Decode a manifest; write hypotheses, references (the ``reference`` field) and timing statistics."""
    from speech.data import read_manifest

    utterances = read_manifest(args.manifest)
    waveforms = [load(u.audio, sample_rate) for u in utterances]
    start = time.perf_counter()
    results = decode(waveforms)
    seconds = time.perf_counter() - start
    audio_seconds = sum(w.numel() for w in waveforms) / sample_rate
    lines = [f"{u.id}\t{r.text}\n" for u, r in zip(utterances, results, strict=True)]
    if args.output:
        with atomic_write(Path(args.output)) as f:
            f.writelines(lines)
        if all(getattr(u, reference) is not None for u in utterances):
            with atomic_write(Path(args.output).with_name("ref.txt")) as f:
                f.writelines(f"{u.id}\t{getattr(u, reference)}\n" for u in utterances)
    else:
        sys.stdout.writelines(lines)
    stats = {
        "utterances": len(utterances),
        "audio_seconds": audio_seconds,
        "decode_seconds": seconds,
        "rtf": seconds / audio_seconds,
        "beam": beam,
        "threads": torch.get_num_threads(),
    }
    print(json.dumps(stats), file=sys.stderr)
    if args.output:
        with atomic_write(Path(args.output).with_suffix(".stats.json")) as f:
            json.dump(stats, f)
    return 0
