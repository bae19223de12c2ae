"""``speech synthesize``: text to speech with a TTS checkpoint.

Everything is checked before the model loads: the texts, that every item's name is a plain
file name inside ``--out-dir`` (no ``..``, ``/``, NUL or line break) and unique, and that
every output can be written. Then nothing is half-written: each wav (and the ``--alignment``
plot) is written atomically.

``--alignment FILE.png`` (with ``--text``) also saves the attention alignment of each sentence of
the text, one panel per sentence, to judge by eye whether attention moved monotonically through
the text; it needs matplotlib (the ``train`` extra) and does not change the wav.

Warnings go to stderr, one line each, after the work: a text cut at the frame limit (with
``--text``/``--text-file``; a manifest run counts them in ``synth.stats.json``), and a text most
of whose words never occur in the model's training text (checkpoints that store their training
words; one summary line for a manifest). The audio is written all the same.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import warnings
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING

import torch

from speech.cli._args import (
    add_device_option,
    add_output_options,
    add_threads_option,
    non_negative_int,
    positive_int,
    probability,
)
from speech.cli._decode import progress_bar
from speech.errors import SpeechError
from speech.io import (
    STDIN,
    atomic_write,
    check_output_dir,
    check_output_file,
    check_unique,
    child_path,
    input_name,
    read_input,
    same_file,
)

if TYPE_CHECKING:
    from speech.inference.synthesizer import TextSynthesis

MANIFEST_OUTPUTS = ("synth.jsonl", "synth.stats.json")


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``speech synthesize``."""
    p = sub.add_parser(
        "synthesize",
        help="synthesize speech from text with a TTS checkpoint",
        description="Speak --text into --out, every line of --text-file ('-' = stdin) into --out-dir "
        "(ID<TAB>TEXT lines name their file ID.wav, other lines are numbered), or every utterance of "
        "--manifest into --out-dir (with a manifest of the results and timing statistics). Names "
        "must be unique plain file names.",
    )
    p.add_argument("--model", required=True, help="TTS checkpoint (model.ckpt or a training checkpoint)")
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument("--text", help="text to speak (long text is split into sentences)")
    source.add_argument("--text-file", help="one text per line; '-' reads stdin")
    source.add_argument("--manifest", help="speak the 'text' of every utterance of a manifest")
    p.add_argument("--out", help="output wav file (with --text)")
    p.add_argument("--out-dir", help="output folder (with --text-file or --manifest)")
    p.add_argument(
        "--alignment",
        metavar="FILE.png",
        help="with --text: also save the attention alignment as a PNG, one panel per sentence (decoder "
        "steps by input symbols, titled with the sentence and whether it stopped by itself); a "
        "monotonic diagonal is good. Needs matplotlib (pip install 'speech[train]')",
    )
    p.add_argument(
        "--speaker",
        help="speaker name of a multi-speaker model (with --manifest: default each utterance's own speaker)",
    )
    add_device_option(p)
    p.add_argument(
        "--vocoder",
        metavar="CKPT",
        help="neural vocoder checkpoint (speech train vocoder) made for the model's mel features; "
        "default Griffin-Lim",
    )
    p.add_argument(
        "--griffin-lim-iters",
        type=non_negative_int,
        default=32,
        help="Griffin-Lim iterations (at most 1000; without --vocoder)",
    )
    p.add_argument(
        "--stop-threshold",
        type=probability,
        default=None,
        help="stop probability threshold in [0, 1] (default: the model's)",
    )
    p.add_argument(
        "--seed",
        type=non_negative_int,
        default=None,
        help="seed of the prenet's dropout (default: the model's)",
    )
    p.add_argument(
        "--batch-size", type=positive_int, default=8, help="with --manifest: texts synthesized together"
    )
    add_threads_option(p)
    add_output_options(p, json_help="print one JSON object per wav written")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Check inputs and outputs first, then synthesize; nothing is half-written."""
    from speech.inference.synthesizer import Synthesizer

    _check_options(args)
    items = _items(args)  # (name, text, speaker or None)
    paths = _item_paths(args, items)
    out_dir = _check_outputs(args)
    if args.threads:
        torch.set_num_threads(args.threads)
    synth = Synthesizer.from_checkpoint(
        args.model, device=args.device, griffin_lim_iters=args.griffin_lim_iters, vocoder=args.vocoder
    )
    changes = {
        k: v for k, v in (("stop_threshold", args.stop_threshold), ("seed", args.seed)) if v is not None
    }
    synth = synth.with_inference(**changes) if changes else synth
    for _, text, _ in items:  # fail on bad text before any file is written
        synth.encode(text) if args.manifest else [synth.encode(s) for s in synth.sentences(text)]
    if args.manifest:
        return _run_manifest(args, synth, items, paths, out_dir)
    with warnings.catch_warnings(record=True) as caught, progress_bar(len(items), args.quiet) as bar:
        warnings.simplefilter("always")
        for (name, text, _), path in zip(items, paths, strict=True):
            result = synth.synthesize_text(text, speaker=args.speaker)
            _save(path, result.waveform, synth.sample_rate)
            if args.alignment:
                _save_alignment(Path(args.alignment), result)
            bar.update(1)
            _report(args, name, path, result.waveform.numel() / synth.sample_rate)
    for message, count in Counter(str(w.message) for w in caught).items():
        times = f" ({count} times)" if count > 1 else ""
        print(f"speech synthesize: warning: {message}{times}", file=sys.stderr)
    return 0


def _save(path: Path, waveform: torch.Tensor, rate: int) -> None:
    from speech.audio import save

    save(path, waveform, rate)


def _save_alignment(path: Path, result: TextSynthesis) -> None:
    """One panel per sentence: its attention (decoder steps x input symbols), titled with the sentence."""
    _plots().save_synthesis_alignment(path, result)


def _plots():
    """:mod:`speech.plots`, or a one-line error when matplotlib is missing."""
    import importlib

    try:
        return importlib.import_module("speech.plots")
    except ModuleNotFoundError as e:
        if (e.name or "").split(".")[0] != "matplotlib":
            raise
        raise SpeechError("--alignment needs matplotlib: pip install 'speech[train]'") from None


def _report(args: argparse.Namespace, name: str, path: Path, seconds: float, **extra) -> None:
    """One result on stdout: ``path<TAB>N.NN s``, or a JSON object with ``--json``."""
    if args.json:
        record = {"id": name, "file": str(path), "seconds": seconds, **extra}
        print(json.dumps(record, ensure_ascii=False), flush=True)
    elif not args.manifest:
        print(f"{path}\t{seconds:.2f} s", flush=True)


def _run_manifest(
    args: argparse.Namespace,
    synth,
    items: list[tuple[str, str, str | None]],
    paths: list[Path],
    out_dir: Path,
) -> int:
    """Synthesize a manifest's texts in batches; write wavs, ``synth.jsonl`` and ``synth.stats.json``.

    A multi-speaker model without ``--speaker`` speaks each utterance with its own ``speaker``
    (batches then hold one speaker each); ``synth.jsonl`` lists the utterances in manifest order.
    """
    from speech.metrics import alignment_health

    speakers = _manifest_speakers(args, synth, items)
    records: list[dict | None] = [None] * len(items)
    health: list[list[float] | None] = [None] * len(items)
    seconds, stopped = 0.0, 0
    with warnings.catch_warnings(record=True) as caught, progress_bar(len(items), args.quiet) as bar:
        warnings.simplefilter("always")  # stops are counted in the statistics; unseen words summed up
        for speaker, chunk in _batches(speakers, args.batch_size):
            begin = time.perf_counter()
            results = synth.synthesize_sentences([items[i][1] for i in chunk], speaker=speaker)
            seconds += time.perf_counter() - begin
            for i, result in zip(chunk, results, strict=True):
                name, text, _ = items[i]
                _save(paths[i], result.waveform, synth.sample_rate)
                duration = result.waveform.numel() / synth.sample_rate
                records[i] = {
                    "id": name,
                    "audio": paths[i].name,
                    "duration": duration,
                    "sample_rate": synth.sample_rate,
                    "text": text,
                    **({"speaker": speaker} if speaker is not None else {}),
                }
                att = result.attention[None]  # (1, steps, symbols)
                h = alignment_health(att, torch.tensor([att.shape[2]]), torch.tensor([att.shape[1]]), 0.2)
                health[i] = [float(v[0]) for v in h]
                stopped += result.stopped
                _report(args, name, paths[i], duration, stopped=bool(result.stopped))
            bar.update(len(chunk))
    _warn_unseen_words(caught, len(items))
    _write_manifest_results(args, synth, out_dir, records, health, seconds, stopped)
    return 0


def _warn_unseen_words(caught: list[warnings.WarningMessage], texts: int) -> None:
    """One stderr line for all the texts of a manifest that are mostly words unseen in training."""
    from speech.inference.synthesizer import UnseenWordsWarning

    unseen = [w for w in caught if issubclass(w.category, UnseenWordsWarning)]
    if unseen:
        print(
            f"speech synthesize: warning: {len(unseen)} of {texts} texts are mostly words the model "
            f"never saw in training; the first: {unseen[0].message}",
            file=sys.stderr,
        )


def _write_manifest_results(
    args: argparse.Namespace,
    synth,
    out_dir: Path,
    records: list[dict],
    health: list[list[float]],
    seconds: float,
    stopped: int,
) -> None:
    """``synth.jsonl`` and ``synth.stats.json`` (also on stderr unless ``--quiet``)."""
    audio_seconds = sum(r["duration"] for r in records)
    with atomic_write(out_dir / MANIFEST_OUTPUTS[0]) as f:
        f.writelines(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
    means = torch.tensor(health).mean(dim=0).tolist()
    stats = {
        "utterances": len(records),
        "audio_seconds": audio_seconds,
        "synthesis_seconds": seconds,
        "rtf": seconds / max(audio_seconds, 1e-9),
        "stop_rate": stopped / len(records),
        "focus_rate": means[0],
        "diagonality": means[1],
        "monotonicity": means[2],
        "griffin_lim_iters": getattr(synth.vocoder, "n_iter", None),
        "vocoder": str(args.vocoder) if args.vocoder else "griffin-lim",
        "threads": torch.get_num_threads(),
    }
    with atomic_write(out_dir / MANIFEST_OUTPUTS[1]) as f:
        json.dump(stats, f)
    if not args.quiet:
        print(json.dumps(stats), file=sys.stderr)


def _manifest_speakers(args: argparse.Namespace, synth, items: list[tuple[str, str, str | None]]) -> list:
    """Each utterance's speaker: ``--speaker``, or for a multi-speaker model the manifest's own."""
    if args.speaker is not None or not synth.speakers:
        return [args.speaker] * len(items)
    for name, _, speaker in items:
        if speaker is None:
            raise SpeechError(
                f"{args.manifest}: utterance {name!r} names no speaker, and this model has "
                f"{len(synth.speakers)}: choose one with --speaker"
            )
        if speaker not in synth.speakers:
            raise SpeechError(
                f"{args.manifest}: speaker {speaker!r} of utterance {name!r} is unknown to the model "
                "(choose one with --speaker)"
            )
    return [speaker for _, _, speaker in items]


def _batches(speakers: list[str | None], size: int) -> list[tuple[str | None, list[int]]]:
    """``(speaker, item indices)`` batches of at most ``size`` items of one speaker each."""
    groups: dict[str | None, list[int]] = {}
    for i, speaker in enumerate(speakers):
        groups.setdefault(speaker, []).append(i)
    return [(s, ids[k : k + size]) for s, ids in groups.items() for k in range(0, len(ids), size)]


def _items(args: argparse.Namespace) -> list[tuple[str, str, str | None]]:
    """(name, text, speaker) triples from --text, --text-file or --manifest; names are unique."""
    if args.text is not None:
        if not args.text.strip():
            raise SpeechError("--text is empty")
        return [("out", args.text, None)]
    if args.manifest:
        from speech.data import read_manifest

        items = [(u.id, u.text, u.speaker) for u in read_manifest(args.manifest)]
        where = args.manifest
    else:
        items = [(name, text, None) for name, text in _text_file_items(args.text_file)]
        where = input_name(args.text_file)
    check_unique([name for name, _, _ in items], "id", where)
    return items


def _read_text_file(text_file: str) -> str:
    """The whole text file ('-' = stdin) as UTF-8 text."""
    data, where = read_input(text_file)
    try:
        return data.decode("utf-8-sig")  # a leading byte-order mark is not part of the first id
    except UnicodeDecodeError:
        raise SpeechError(f"{where}: not UTF-8 text") from None


def _text_file_items(text_file: str) -> list[tuple[str, str]]:
    """(name, text) per line: ``ID<TAB>TEXT`` names the file ID.wav, a plain line is numbered."""
    where = input_name(text_file)
    lines = _read_text_file(text_file).split("\n")  # only \n ends a line: U+2028 is text
    if lines and not lines[-1]:
        lines.pop()
    items = []
    for n, line in enumerate(lines, start=1):
        line = line.removesuffix("\r")
        name, _, text = line.partition("\t") if "\t" in line else (f"{n:04d}", "", line)
        if not text.strip():
            raise SpeechError(f"{where}:{n}: empty text")
        items.append((name, text))
    if not items:
        raise SpeechError(f"{where}: no text")
    return items


def _check_options(args: argparse.Namespace) -> None:
    """``--out`` and ``--alignment`` go with ``--text``, ``--out-dir`` with ``--text-file``/``--manifest``."""
    if args.text is not None:
        if args.out_dir:
            raise SpeechError("--out-dir goes with --text-file or --manifest; --text writes --out FILE.wav")
        if not args.out:
            raise SpeechError("--text needs --out FILE.wav")
        if args.out == "-":
            raise SpeechError("--out -: audio cannot go to stdout; name a .wav file")
        if args.alignment is not None:
            _check_alignment_option(args)
    elif args.alignment is not None:
        raise SpeechError("--alignment goes with --text (it plots the sentences of that one text)")
    elif args.out:
        raise SpeechError("--out goes with --text; --text-file and --manifest write into --out-dir")
    elif not args.out_dir:
        raise SpeechError("--text-file and --manifest need --out-dir")


def _check_alignment_option(args: argparse.Namespace) -> None:
    """``--alignment`` names a ``.png`` file other than ``--out``."""
    if args.alignment == "-":
        raise SpeechError("--alignment -: the plot cannot go to stdout; name a .png file")
    if same_file(args.out, args.alignment):
        raise SpeechError(f"--alignment {args.alignment} is also --out: name two different files")
    if Path(args.alignment).suffix.lower() != ".png":
        raise SpeechError(f"--alignment {args.alignment!r}: the plot is a PNG; name a .png file")


def _item_paths(args: argparse.Namespace, items: list[tuple[str, str, str | None]]) -> list[Path]:
    """Each item's wav, confined to ``--out-dir``; none may be a folder, nor may the results files."""
    if args.text is not None:
        return [Path(args.out)]
    out_dir = Path(args.out_dir)
    where = args.manifest or input_name(args.text_file)
    paths = []
    for name, _, _ in items:
        try:
            paths.append(child_path(out_dir, name, ".wav", what="id"))
        except SpeechError as e:
            raise SpeechError(f"{where}: {e}") from None
    extra = [out_dir / name for name in MANIFEST_OUTPUTS] if args.manifest else []
    inputs = _input_files(args)
    for path in [*paths, *extra]:
        if path.is_dir():
            raise SpeechError(f"{path}: cannot write the output file (is a folder)")
        source = inputs.get(os.path.realpath(path))
        if source is not None:
            raise SpeechError(
                f"{path}: cannot write the output file (it is the input {source}; choose another --out-dir)"
            )
    return paths


def _input_files(args: argparse.Namespace) -> dict[str, str]:
    """Every file the command reads (model, text file or manifest and its recordings), by real path."""
    files = [args.model, args.manifest, args.text_file if args.text_file != STDIN else None]
    if args.manifest:
        from speech.data import read_manifest

        files += [u.audio for u in read_manifest(args.manifest)]
    return {os.path.realpath(f): str(f) for f in files if f is not None}


def _check_outputs(args: argparse.Namespace) -> Path | None:
    """Create the output folder and make sure it is writable (or the output files'); returns the folder.

    With ``--alignment``, matplotlib must be importable before anything is created.
    """
    from speech.audio.io import check_audio_format

    if args.text is not None:
        check_audio_format(args.out)
        if args.alignment is not None:
            _plots()
        check_output_file(args.out, "output file", inputs=(args.model,))
        if args.alignment is not None:
            check_output_file(args.alignment, "alignment plot", inputs=(args.model,))
        return None
    return check_output_dir(args.out_dir)
