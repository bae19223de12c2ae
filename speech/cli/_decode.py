"""``speech transcribe`` and ``speech translate``: one speech-to-text command with two presets.

The contract of both commands:

- Everything that can be checked before the model is loaded is: options, the manifest, and
  that every output file can be written (``--out``, and ``ref.txt`` and ``*.stats.json`` beside it).
- A bad item (unreadable audio, or audio too short for the model) is one stderr line naming
  its file; the other items are still decoded, and the exit code is then 2. With FILE
  arguments a bad file prints no result line. With ``--manifest`` the output still lists every
  utterance, in manifest order, a bad one with an empty hypothesis (so scoring counts it as
  wrong rather than leaving it out), and its id is listed under ``failed`` in the statistics.
  When no utterance at all can be decoded, nothing is written.
- ``--out -`` (or no ``--out``) writes the hypotheses to stdout; then no ``ref.txt`` or
  statistics file is written (the statistics still go to stderr unless ``--quiet``).
"""

from __future__ import annotations

import argparse
import functools
import json
import sys
import time
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import torch

from speech.cli._args import (
    add_device_option,
    add_output_options,
    add_threads_option,
    non_negative_float,
    positive_int,
    probability,
)
from speech.errors import AudioError, SpeechError
from speech.io import atomic_write, check_output_file, check_unique, has_control


@dataclass(frozen=True)
class Preset:
    """One speech-to-text command: its name, the checkpoint task it takes and the words it uses."""

    command: str
    task: str
    kind: str
    field: str
    help: str
    verb: str


TRANSCRIBE = Preset(
    "transcribe", "asr", "ASR", "text", "transcribe audio files with an ASR checkpoint", "transcribed"
)
TRANSLATE = Preset(
    "translate",
    "st",
    "ST",
    "translation",
    "translate speech into target-language text with an ST checkpoint",
    "translated",
)


def ctc_weight(text: str) -> float:
    """A CTC weight in [0, 1)."""
    value = probability(text)
    if value >= 1.0:
        raise argparse.ArgumentTypeError(f"must be in [0, 1), got {text}")
    return value


def add_parser(sub: argparse._SubParsersAction, preset: Preset) -> None:
    """Register the command of ``preset`` (``speech transcribe`` or ``speech translate``)."""
    field = preset.field.upper()
    p = sub.add_parser(
        preset.command,
        help=preset.help,
        description=f"Prints one FILE<TAB>{field} line per file (or JSON lines with --json). A file that "
        f"cannot be read or is too short for the model is reported on its own line and the others "
        f"are still {preset.verb} (exit code 2). With --manifest every utterance gets a line, a bad "
        f"one an empty {preset.field}.",
    )
    p.add_argument(
        "--ctc-weight",
        type=ctc_weight,
        default=None,
        help="CTC prefix score weight in [0, 1) for a CTC head that predicts the output tokens "
        "(default: the model's)",
    )
    p.add_argument("--lm", default=None, help="RNN language model checkpoint for shallow fusion")
    p.add_argument(
        "--lm-weight", type=non_negative_float, default=0.3, help="language model weight (with --lm)"
    )
    add_common_options(p, preset.kind, preset.field)
    p.set_defaults(func=functools.partial(run, preset=preset))


def run(args: argparse.Namespace, preset: Preset) -> int:
    """Decode; a bad file is reported on its own line and the others still go through."""
    from speech.inference.s2t import load_lm

    utterances = prepare(args)
    runner = _runner_class(preset).from_checkpoint(args.model, device=args.device)
    lm = load_lm(args.lm, runner.tokenizer, runner.device) if args.lm else None

    def decode(waveforms, progress):
        return runner.decode(
            waveforms,
            beam_size=args.beam,
            ctc_weight=args.ctc_weight,
            lm=lm,
            lm_weight=args.lm_weight,
            batch_size=args.batch_size,
            progress=progress,
        )

    if utterances is None:
        return run_files(args, runner, decode, preset.field)
    beam = args.beam or runner.search.beam_size
    return run_manifest(args, runner, decode, utterances, preset.field, preset.field, beam)


def _runner_class(preset: Preset) -> type:
    from speech.inference.s2t import Transcriber, Translator

    return {"asr": Transcriber, "st": Translator}[preset.task]


Decode = Callable[[list[torch.Tensor], Callable[[int], None] | None], Sequence]
"""``decode(waveforms, progress)``: one result (with ``text`` and ``score``) per waveform."""


def add_common_options(p: argparse.ArgumentParser, kind: str, field: str) -> None:
    """Options of both commands; ``kind`` names the checkpoint, ``field`` the output text."""
    p.add_argument("--model", required=True, help=f"{kind} checkpoint (model.ckpt or a training checkpoint)")
    p.add_argument(
        "--beam", type=positive_int, default=None, help="beam size; 1 = greedy (default: the model's)"
    )
    p.add_argument("--batch-size", type=positive_int, default=16, help="utterances decoded together")
    add_device_option(p)
    add_threads_option(p)
    add_output_options(
        p,
        json_help=f"print JSON lines (file or id, {field}, score, each scorer's scores); with --out FILE, "
        "one JSON summary",
    )
    p.add_argument("--manifest", help="decode a manifest's utterances instead of FILE arguments")
    out_help = (
        f"with --manifest: write id<TAB>{field} lines to this file (atomically), the references to "
        "ref.txt and decoding statistics to *.stats.json beside it; '-' = stdout (no files beside it)"
    )
    p.add_argument("--out", metavar="FILE", help=out_help)
    p.add_argument("--output", dest="out", help=argparse.SUPPRESS)  # the old spelling, for recipes
    p.add_argument("files", nargs="*", metavar="FILE", help="audio files")


def prepare(args: argparse.Namespace) -> list | None:
    """Check options and outputs, read the manifest, set the thread count; all before the model loads.

    Returns:
        The manifest's utterances, or None for a run over FILE arguments.

    Raises:
        SpeechError: A bad option combination, manifest, or output path (one line).
    """
    if not args.files and not args.manifest:
        raise SpeechError("give audio FILEs or --manifest")
    if args.files and args.manifest:
        raise SpeechError("give audio FILEs or --manifest, not both")
    if args.out is not None and not args.manifest:
        raise SpeechError("--out goes with --manifest (results of FILE arguments are printed)")
    utterances = None
    if args.manifest:
        from speech.data import read_manifest

        utterances = read_manifest(args.manifest)
        check_unique([u.id for u in utterances], "id", args.manifest)
        for u in utterances:
            if has_control(u.id):
                raise SpeechError(
                    f"{args.manifest}: id {u.id!r} holds a tab, line break or control character "
                    "(ids key the id<TAB>text output lines)"
                )
        _check_outputs(args.out, inputs=(args.manifest, args.model, getattr(args, "lm", None)))
    if args.threads:
        torch.set_num_threads(args.threads)
    return utterances


def output_paths(out: str) -> dict[str, Path]:
    """The files a manifest run with ``--out out`` writes: hypotheses, references, statistics."""
    hyp = Path(out)
    return {
        "hypotheses": hyp,
        "references": hyp.with_name("ref.txt"),
        "statistics": hyp.with_suffix(".stats.json"),
    }


def _check_outputs(out: str | None, inputs: tuple[str | None, ...] = ()) -> None:
    if out is None or out == "-":
        return
    paths = output_paths(out)
    if paths["hypotheses"].name in ("ref.txt", paths["statistics"].name):
        raise SpeechError(f"{out}: the references are written to ref.txt beside it; choose another name")
    for what, path in paths.items():
        check_output_file(path, f"{what} file", inputs=inputs)


def progress_bar(total: int, quiet: bool, unit: str = "utt"):
    """A tqdm bar on stderr; silent with ``--quiet`` or when stderr is not a terminal."""
    from tqdm import tqdm

    return tqdm(
        total=total, unit=unit, file=sys.stderr, leave=False, disable=quiet or not sys.stderr.isatty()
    )


def one_line(text: str) -> str:
    """``text`` with every tab, control character and line break made a space (one TSV field)."""
    return "".join(" " if unicodedata.category(c) in ("Cc", "Zl", "Zp") else c for c in text)


def _error(args: argparse.Namespace, message: str) -> None:
    print(f"speech {args.command}: error: {message}", file=sys.stderr)


def _load(runner, path: str, name: str) -> torch.Tensor:
    from speech.audio import load

    return runner.check_audio(load(path, runner.sample_rate), name)


def run_files(args: argparse.Namespace, runner, decode: Decode, field: str) -> int:
    """Decode FILE arguments; a bad file is reported on its own line and the others still go through.

    Returns:
        0, or 2 when a file could not be read or is too short for the model.
    """
    failed, names, waveforms = 0, [], []
    for path in args.files:
        try:
            waveforms.append(_load(runner, path, path))
            names.append(path)
        except AudioError as e:
            _error(args, str(e))
            failed += 1
    if waveforms:
        with progress_bar(len(waveforms), args.quiet) as bar:
            results = decode(waveforms, bar.update)
        for name, result in zip(names, results, strict=True):
            if args.json:
                print(
                    json.dumps(
                        {"file": name, field: result.text, "score": result.score, "scores": result.scores},
                        ensure_ascii=False,
                    )
                )
            else:
                print(f"{name}\t{one_line(result.text)}")
    return 2 if failed else 0


def run_manifest(
    args: argparse.Namespace, runner, decode: Decode, utterances: list, field: str, reference: str, beam: int
) -> int:
    """Decode a manifest; write hypotheses, references (the ``reference`` field) and statistics.

    Returns:
        0, or 2 when an utterance could not be decoded (see the module docstring).
    """
    waveforms: dict[str, torch.Tensor] = {}
    errors: dict[str, str] = {}
    for u in utterances:
        try:
            waveforms[u.id] = _load(runner, u.audio, str(u.audio))
        except AudioError as e:
            errors[u.id] = f"{args.manifest}: utterance {u.id!r}: {e}"
            _error(args, errors[u.id])
    if not waveforms:
        return 2
    start = time.perf_counter()
    with progress_bar(len(waveforms), args.quiet) as bar:
        decoded = dict(zip(waveforms, decode(list(waveforms.values()), bar.update), strict=True))
    seconds = time.perf_counter() - start
    audio_seconds = sum(w.numel() for w in waveforms.values()) / runner.sample_rate
    stats = {
        "utterances": len(utterances),
        "audio_seconds": audio_seconds,
        "decode_seconds": seconds,
        "rtf": seconds / audio_seconds,
        "beam": beam,
        "threads": torch.get_num_threads(),
        **({"failed": sorted(errors)} if errors else {}),
    }
    to_stdout = args.out in (None, "-")
    if to_stdout:
        _print_results(args, utterances, decoded, errors, field)
    else:
        _write_results(args.out, utterances, decoded, reference, stats)
    if not args.quiet:
        print(json.dumps(stats), file=sys.stderr)
    if args.json and not to_stdout:
        print(json.dumps({**{k: str(p) for k, p in output_paths(args.out).items()}, **stats}))
    return 2 if errors else 0


def _print_results(
    args: argparse.Namespace, utterances: list, decoded: dict, errors: dict, field: str
) -> None:
    """Hypotheses on stdout: ``id<TAB>text`` lines, or JSON lines (a failed one with its ``error``)."""
    for u in utterances:
        result = decoded.get(u.id)
        text = result.text if result is not None else ""
        if args.json:
            record = {
                "id": u.id,
                field: text,
                "score": result.score if result is not None else None,
                "scores": result.scores if result is not None else None,
            }
            print(
                json.dumps(
                    {**record, **({"error": errors[u.id]} if u.id in errors else {})}, ensure_ascii=False
                )
            )
        else:
            print(f"{u.id}\t{one_line(text)}")


def _write_results(out: str, utterances: list, decoded: dict, reference: str, stats: dict) -> None:
    """The hypothesis file, ``ref.txt`` when every utterance has a reference, and the statistics."""
    paths = output_paths(out)
    with atomic_write(paths["hypotheses"]) as f:
        f.writelines(
            f"{u.id}\t{one_line(decoded[u.id].text) if u.id in decoded else ''}\n" for u in utterances
        )
    if all(getattr(u, reference) is not None for u in utterances):
        with atomic_write(paths["references"]) as f:
            f.writelines(f"{u.id}\t{one_line(getattr(u, reference))}\n" for u in utterances)
    with atomic_write(paths["statistics"]) as f:
        json.dump(stats, f)
