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

Long recordings (FILE arguments only; see :mod:`speech.inference.longform`):

- ``--long-form auto`` (the default) decodes a file longer than ``--max-segment-seconds`` as
  Silero VAD segments, read in blocks so memory stays bounded; shorter files take the ordinary
  batched path. ``on`` sends every file through segmentation, ``off`` none.
  ``--format json|srt|vtt``, ``--word-timestamps`` and ``--out-dir`` imply ``on``.
- ``--format txt`` (the default) keeps the ``FILE<TAB>TEXT`` line per file, the segments' texts
  joined; ``json`` prints one JSON document per file and line (``file``, the text, ``segments``
  with start, end, text, score, and ``words`` with ``--word-timestamps``); ``srt`` and ``vtt``
  print subtitles, for one FILE only unless ``--out-dir`` is given. ``--json`` means ``--format json``.
- ``--out-dir DIR`` writes ``DIR/<file stem>.<format>`` per input (atomically; txt then holds
  one line per segment) and prints nothing on stdout; stems must differ, and every output is
  checked before the model loads. Only the input's file name is used, so no output leaves DIR.
- ``--word-timestamps`` needs a CTC head over the output tokens (a recognizer's); any other
  model is refused with one line before decoding.
- Progress is a bar of seconds of audio on stderr (silent with ``--quiet`` or off a terminal).
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
from speech.io import atomic_write, check_output_dir, check_output_file, check_unique, child_path, has_control


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
        f"one an empty {preset.field}. A file longer than --max-segment-seconds is cut into speech "
        f"segments (Silero VAD), read in blocks with bounded memory; --format json/srt/vtt give its "
        f"segments with times, --out-dir writes one file per input.",
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
    add_long_form_options(p)
    p.set_defaults(func=functools.partial(run, preset=preset))


def run(args: argparse.Namespace, preset: Preset) -> int:
    """Decode; a bad file is reported on its own line and the others still go through."""
    from speech.inference.s2t import load_lm

    utterances = prepare(args)
    runner = _runner_class(preset).from_checkpoint(args.model, device=args.device)
    lm = load_lm(args.lm, runner.tokenizer, runner.device) if args.lm else None
    options = {
        "beam_size": args.beam,
        "ctc_weight": args.ctc_weight,
        "lm": lm,
        "lm_weight": args.lm_weight,
        "batch_size": args.batch_size,
    }

    def decode(waveforms, progress):
        return runner.decode(waveforms, progress=progress, **options)

    if utterances is None:
        if args.long_files:
            return run_long(args, runner, decode, options, preset.field)
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
    _check_long_form(args)
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


def add_long_form_options(p: argparse.ArgumentParser) -> None:
    """Options of long recordings (see the module docstring)."""
    from speech.inference.subtitles import FORMATS

    p.add_argument(
        "--format",
        choices=FORMATS,
        default="txt",
        help="txt: FILE<TAB>TEXT lines; json: one document per file with its segments; srt, vtt: "
        "subtitles (json, srt and vtt imply --long-form on)",
    )
    p.add_argument(
        "--long-form",
        choices=("auto", "on", "off"),
        default="auto",
        help="cut files into Silero VAD segments and decode them in batches with bounded memory: "
        "auto = files longer than --max-segment-seconds (default: auto)",
    )
    p.add_argument(
        "--max-segment-seconds",
        type=segment_seconds,
        default=20.0,
        help="longest segment; longer speech is cut at its quietest point (default: 20)",
    )
    p.add_argument(
        "--word-timestamps",
        action="store_true",
        help="word start and end times from the CTC head's forced alignment (json words, subtitle "
        "cue splits); needs a CTC head over the output tokens",
    )
    p.add_argument(
        "--out-dir",
        metavar="DIR",
        help="write DIR/<file stem>.<format> per FILE (atomically) instead of printing",
    )


def segment_seconds(text: str) -> float:
    """A segment length in seconds, at least 1."""
    value = non_negative_float(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1 second, got {text}")
    return value


def _check_long_form(args: argparse.Namespace) -> None:
    """Check the long-form options and outputs; set ``args.long_files`` (files to segment)."""
    args.long_files = set()
    if getattr(args, "format", None) is None:  # a caller without the long-form options
        return
    implied = args.format != "txt" or args.word_timestamps or args.out_dir is not None
    if args.manifest:
        if implied or args.long_form == "on":
            raise SpeechError(
                "--long-form on, --format, --word-timestamps and --out-dir go with FILE arguments"
            )
        return
    if args.long_form == "off" and implied:
        raise SpeechError(
            "--format json/srt/vtt, --word-timestamps and --out-dir need --long-form auto or on"
        )
    if args.json and args.format in ("srt", "vtt"):
        raise SpeechError(f"--json and --format {args.format}: choose one")
    args.format = "json" if args.json else args.format
    if args.format in ("srt", "vtt") and len(args.files) > 1 and args.out_dir is None:
        raise SpeechError(f"--format {args.format} with several FILEs needs --out-dir")
    if args.out_dir is not None:
        _check_out_dir(args)
    if args.long_form == "on" or implied:
        args.long_files = set(args.files)
    elif args.long_form == "auto":
        args.long_files = {f for f in args.files if _seconds(f) > args.max_segment_seconds}


def _seconds(path: str) -> float:
    """Duration from the header; 0 for an unreadable file (the ordinary path reports it)."""
    from speech.audio import info

    try:
        return info(path).duration
    except AudioError:
        return 0.0


def out_path(args: argparse.Namespace, path: str) -> Path:
    """``DIR/<stem of path>.<format>``, confined to ``--out-dir``."""
    return child_path(args.out_dir, Path(path).stem, f".{args.format}", what="input file stem")


def _check_out_dir(args: argparse.Namespace) -> None:
    check_output_dir(args.out_dir)
    check_unique([Path(f).stem for f in args.files], "file stem", "--out-dir")
    for f in args.files:
        check_output_file(out_path(args, f), "output", inputs=(f, args.model, getattr(args, "lm", None)))


def run_long(args: argparse.Namespace, runner, decode: Decode, options: dict, field: str) -> int:
    """Decode FILE arguments in order: those in ``args.long_files`` segment by segment, the rest batched.

    Returns:
        0, or 2 when a file could not be read or is too short for the model.
    """
    from speech.inference.longform import LongFormConfig, check_word_timestamps, iter_segments

    if args.word_timestamps:
        check_word_timestamps(runner)
    config = LongFormConfig(max_segment_seconds=args.max_segment_seconds)
    short = [f for f in args.files if f not in args.long_files]
    results, failed = decode_files(args, runner, decode, short) if short else ({}, 0)
    total = round(sum(_seconds(f) for f in args.long_files), 1)
    with progress_bar(total, args.quiet, unit="s") as bar:
        for path in args.files:
            if path not in args.long_files:
                if path in results:
                    _print_result(args, path, results[path], field)
                continue
            try:
                segments = list(
                    iter_segments(runner, path, config, args.word_timestamps, bar.update, **options)
                )
            except AudioError as e:
                _error(args, str(e))
                failed = 2
                continue
            _emit(args, path, segments, field)
    return 2 if failed else 0


def _emit(args: argparse.Namespace, path: str, segments: list, field: str) -> None:
    """Print or write one long file's result in ``--format``."""
    from speech.inference.subtitles import document, joined, render

    if args.out_dir is not None:
        with atomic_write(out_path(args, path)) as f:
            f.write(render(segments, args.format, path, field))
    elif args.format == "txt":
        print(f"{path}\t{one_line(joined(segments))}")
    elif args.format == "json":
        print(json.dumps(document(segments, path, field), ensure_ascii=False))
    else:
        sys.stdout.write(render(segments, args.format, path, field))


def _load(runner, path: str, name: str) -> torch.Tensor:
    from speech.audio import load

    return runner.check_audio(load(path, runner.sample_rate), name)


def run_files(args: argparse.Namespace, runner, decode: Decode, field: str) -> int:
    """Decode FILE arguments; a bad file is reported on its own line and the others still go through.

    Returns:
        0, or 2 when a file could not be read or is too short for the model.
    """
    results, failed = decode_files(args, runner, decode, args.files)
    for name, result in results.items():
        _print_result(args, name, result, field)
    return 2 if failed else 0


def decode_files(args: argparse.Namespace, runner, decode: Decode, files: list[str]) -> tuple[dict, int]:
    """``({file: result}, number of bad files)``: files read whole and decoded in batches."""
    failed, names, waveforms = 0, [], []
    for path in files:
        try:
            waveforms.append(_load(runner, path, path))
            names.append(path)
        except AudioError as e:
            _error(args, str(e))
            failed += 1
    if not waveforms:
        return {}, failed
    with progress_bar(len(waveforms), args.quiet) as bar:
        results = decode(waveforms, bar.update)
    return dict(zip(names, results, strict=True)), failed


def _print_result(args: argparse.Namespace, name: str, result, field: str) -> None:
    if args.json:
        record = {"file": name, field: result.text, "score": result.score, "scores": result.scores}
        print(json.dumps(record, ensure_ascii=False))
    else:
        print(f"{name}\t{one_line(result.text)}")


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
