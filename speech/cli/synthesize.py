"""``speech synthesize``: text to speech with a TTS checkpoint."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import warnings
from pathlib import Path

import torch

from speech.errors import SpeechError
from speech.io import atomic_write


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``speech synthesize``."""
    p = sub.add_parser(
        "synthesize",
        help="synthesize speech from text with a TTS checkpoint",
        description="Speak --text into --out, every line of --text-file into --out-dir (ID<TAB>TEXT lines "
        "name their file ID.wav, other lines are numbered), or every utterance of --manifest into "
        "--out-dir (with a manifest of the results and timing statistics).",
    )
    p.add_argument("--model", required=True, help="TTS checkpoint (model.ckpt or a training checkpoint)")
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument("--text", help="text to speak (long text is split into sentences)")
    source.add_argument("--text-file", help="one text per line")
    source.add_argument("--manifest", help="speak the 'text' of every utterance of a manifest")
    p.add_argument("--out", help="output wav file (with --text)")
    p.add_argument("--out-dir", help="output folder (with --text-file or --manifest)")
    p.add_argument(
        "--speaker",
        help="speaker name of a multi-speaker model (with --manifest: default each utterance's own speaker)",
    )
    p.add_argument("--device", default="cpu", help="cpu or cuda")
    p.add_argument("--griffin-lim-iters", type=int, default=32, help="Griffin-Lim iterations")
    p.add_argument("--stop-threshold", type=float, default=None, help="stop probability threshold")
    p.add_argument("--seed", type=int, default=None, help="seed of the prenet's dropout")
    p.add_argument("--batch-size", type=int, default=8, help="with --manifest: texts synthesized together")
    p.add_argument("--threads", type=int, default=0, help="torch CPU threads (0 = torch's default)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Check inputs and outputs first, then synthesize; nothing is half-written."""
    from speech.audio import save
    from speech.inference.synthesizer import Synthesizer

    items = _items(args)
    out_dir = _check_outputs(args)
    if args.batch_size < 1:
        raise SpeechError(f"--batch-size must be at least 1, got {args.batch_size}")
    if args.griffin_lim_iters < 0:
        raise SpeechError(f"--griffin-lim-iters must be >= 0, got {args.griffin_lim_iters}")
    if args.threads:
        torch.set_num_threads(args.threads)
    synth = Synthesizer.from_checkpoint(
        args.model, device=args.device, griffin_lim_iters=args.griffin_lim_iters
    )
    changes = {
        k: v for k, v in (("stop_threshold", args.stop_threshold), ("seed", args.seed)) if v is not None
    }
    synth = synth.with_inference(**changes) if changes else synth
    for _, text in items:  # fail on bad text before any file is written
        synth.encode(text) if args.manifest else [synth.encode(s) for s in _sentences(synth, text)]
    if args.manifest:
        return _run_manifest(args, synth, items, out_dir)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for name, text in items:
            waveform, rate = synth.synthesize(text, speaker=args.speaker)
            path = Path(args.out) if args.out else out_dir / f"{name}.wav"
            save(path, waveform, rate)
            print(f"{path}\t{waveform.numel() / rate:.2f} s")
    for w in caught:
        print(f"speech synthesize: warning: {w.message}", file=sys.stderr)
    return 0


def _run_manifest(args: argparse.Namespace, synth, items: list[tuple[str, str]], out_dir: Path) -> int:
    """Synthesize a manifest's texts in batches; write wavs, ``synth.jsonl`` and ``synth.stats.json``.

    A multi-speaker model without ``--speaker`` speaks each utterance with its own ``speaker``
    (batches then hold one speaker each); ``synth.jsonl`` lists the utterances in manifest order.
    """
    from speech.audio import save
    from speech.metrics import alignment_health

    speakers = _manifest_speakers(args, synth, [name for name, _ in items])
    records: list[dict | None] = [None] * len(items)
    health: list[list[float] | None] = [None] * len(items)
    seconds, stopped = 0.0, 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # counted in the statistics instead
        for speaker, chunk in _batches(speakers, args.batch_size):
            begin = time.perf_counter()
            results = synth.synthesize_sentences([items[i][1] for i in chunk], speaker=speaker)
            seconds += time.perf_counter() - begin
            for i, result in zip(chunk, results, strict=True):
                name, text = items[i]
                path = out_dir / f"{name}.wav"
                save(path, result.waveform, synth.sample_rate)
                duration = result.waveform.numel() / synth.sample_rate
                records[i] = {
                    "id": name,
                    "audio": path.name,
                    "duration": duration,
                    "sample_rate": synth.sample_rate,
                    "text": text,
                    **({"speaker": speaker} if speaker is not None else {}),
                }
                att = result.attention[None]  # (1, steps, symbols)
                h = alignment_health(att, torch.tensor([att.shape[2]]), torch.tensor([att.shape[1]]), 0.2)
                health[i] = [float(v[0]) for v in h]
                stopped += result.stopped
    audio_seconds = sum(r["duration"] for r in records)
    with atomic_write(out_dir / "synth.jsonl") as f:
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
        "threads": torch.get_num_threads(),
    }
    with atomic_write(out_dir / "synth.stats.json") as f:
        json.dump(stats, f)
    print(json.dumps(stats), file=sys.stderr)
    return 0


def _manifest_speakers(args: argparse.Namespace, synth, names: list[str]) -> list[str | None]:
    """Each utterance's speaker: ``--speaker``, or for a multi-speaker model the manifest's own."""
    if args.speaker is not None or not synth.speakers:
        return [args.speaker] * len(names)
    from speech.data import read_manifest

    own = {u.id: u.speaker for u in read_manifest(args.manifest)}
    for name in names:
        if own[name] is None:
            raise SpeechError(
                f"{args.manifest}: utterance {name!r} names no speaker, and this model has "
                f"{len(synth.speakers)}: choose one with --speaker"
            )
        if own[name] not in synth.speakers:
            raise SpeechError(
                f"{args.manifest}: speaker {own[name]!r} of utterance {name!r} is unknown to the model "
                "(choose one with --speaker)"
            )
    return [own[name] for name in names]


def _batches(speakers: list[str | None], size: int) -> list[tuple[str | None, list[int]]]:
    """``(speaker, item indices)`` batches of at most ``size`` items of one speaker each."""
    groups: dict[str | None, list[int]] = {}
    for i, speaker in enumerate(speakers):
        groups.setdefault(speaker, []).append(i)
    return [(s, ids[k : k + size]) for s, ids in groups.items() for k in range(0, len(ids), size)]


def _sentences(synth, text: str) -> list[str]:
    from speech.text import split_sentences

    if not text.strip():
        raise SpeechError("empty text")
    return split_sentences(text, synth.text_config.lang) or [text]


def _items(args: argparse.Namespace) -> list[tuple[str, str]]:
    """(name, text) pairs from --text, --text-file or --manifest."""
    if args.text is not None:
        if not args.text.strip():
            raise SpeechError("--text is empty")
        return [("out", args.text)]
    if args.manifest:
        from speech.data import read_manifest

        return [(u.id, u.text) for u in read_manifest(args.manifest)]
    try:
        lines = Path(args.text_file).read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise SpeechError(f"{args.text_file}: no such file") from None
    except (OSError, UnicodeDecodeError) as e:
        raise SpeechError(f"{args.text_file}: cannot read ({e.__class__.__name__})") from None
    items = []
    for n, line in enumerate(lines, start=1):
        name, _, text = line.partition("\t") if "\t" in line else (f"{n:04d}", "", line)
        if not text.strip():
            raise SpeechError(f"{args.text_file}:{n}: empty text")
        if "/" in name or name in ("", ".", ".."):
            raise SpeechError(f"{args.text_file}:{n}: bad utterance name {name!r}")
        items.append((name, text))
    if not items:
        raise SpeechError(f"{args.text_file}: no text")
    return items


def _check_outputs(args: argparse.Namespace) -> Path | None:
    """The output folder (created) or the output file's folder must be writable."""
    if args.text is not None:
        if not args.out:
            raise SpeechError("--text needs --out FILE.wav")
        folder = Path(args.out).parent
    else:
        if not args.out_dir:
            raise SpeechError("--text-file and --manifest need --out-dir")
        folder = Path(args.out_dir)
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise SpeechError(f"{folder}: cannot create the output folder ({e.strerror})") from None
    if not folder.is_dir():
        raise SpeechError(f"{folder}: no such folder for the output")
    if not os.access(folder, os.W_OK):
        raise SpeechError(f"{folder}: not writable")
    if args.out and Path(args.out).is_dir():
        raise SpeechError(f"{args.out}: is a folder, not an output file")
    return folder if args.text is None else None
