"""Long-form decoding against decoding the same utterances one by one, on a recording of known layout.

The recording concatenates a test manifest's utterances (shuffled, cycled when more audio is
asked for than the manifest holds) with a pause plus a random gap (seeded) between them, so the
reference text and the time of every utterance are known. It is written to a WAV file block by
block, then:

- the long-form path (:func:`speech.inference.longform.iter_segments`: Silero VAD segments,
  batched beam search, the file read in blocks) decodes it;
- the ordinary batched path decodes the same utterances one file each (in chunks of 64 files,
  so that this baseline's memory stays flat too): the segmentation given for free;
- the peer pipeline runs Silero's own ``get_speech_timestamps`` over the whole recording and
  decodes the cut segments in batches: what a user without the long-form path would do, with
  the same VAD model and decoder;
- both are scored with the WER of ``speech score --normalize`` (lower case, numbers as words, no
  punctuation; jiwer): long-form as the whole recording's text, one by one as the corpus WER;
- VAD segments are matched to the reference utterances (the largest overlap) and the start and
  end errors in seconds are reported.

Peak memory is measured from outside::

    /usr/bin/time -v python bench/longform.py --minutes 10 --threads 1 --out results.json

(``Maximum resident set size``). ``--quick`` is a smoke run of about 20 s of audio for tests;
when the model or the manifest is absent it uses a tiny untrained checkpoint and generated
recordings (bench/tiny.py). ``--rounds N`` decodes N times both ways, interleaved (long-form, one
by one, the peer, ...), and reports the median times (and the WERs of the last round). The JSON
of ``--out`` also holds the rows of ``bench/suite.py`` (``rows``): long-form against the peer
pipeline and against one by one, each ratio being the per-round other time over the long-form
time (> 1: long-form faster).
"""

from __future__ import annotations

import argparse
import json
import math
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import timing  # noqa: E402
import tiny  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
MODEL = timing.default_checkpoint(
    "recipes/mini/asr/exp16/model.ckpt", "recipes/mini/asr/exp14/model.ckpt"
) or (ROOT / "recipes/mini/asr/exp16/model.ckpt")
MANIFEST = ROOT / "recipes/mini/asr/data/corpus/test.jsonl"


def build_recording(
    manifest: Path, wav: Path, seconds: float, seed: int, pause: float, gap: float
) -> list[dict]:
    """Write the recording to ``wav``; return its reference utterances (id, start, end, text)."""
    from speech.audio import load
    from speech.data import read_manifest

    utterances = read_manifest(manifest)
    rate = utterances[0].sample_rate or 16000
    rng = random.Random(seed)
    order: list = []
    reference, t = [], 0.0
    with sf.SoundFile(str(wav), "w", samplerate=rate, channels=1, subtype="PCM_16") as out:
        while t < seconds:
            if not order:
                order = rng.sample(utterances, len(utterances))
            u = order.pop()
            silence = int((pause + rng.uniform(0.0, gap)) * rate)
            out.write(np.zeros(silence, dtype=np.float32))
            audio = load(u.audio, rate).numpy()
            start = t + silence / rate
            out.write(audio)
            t = start + len(audio) / rate
            reference.append({"id": u.id, "audio": str(u.audio), "start": start, "end": t, "text": u.text})
        out.write(np.zeros(int(pause * rate), dtype=np.float32))
    return reference


def boundary_errors(reference: list[dict], segments: list) -> dict:
    """Mean and median |start error| and |end error| (s) of the segment overlapping each utterance most."""
    starts, ends, j = [], [], 0
    for ref in reference:
        while j < len(segments) and segments[j].end <= ref["start"]:
            j += 1
        best, overlap = None, 0.0
        for seg in segments[j : j + 4]:
            o = min(seg.end, ref["end"]) - max(seg.start, ref["start"])
            if o > overlap:
                best, overlap = seg, o
        if best is not None:
            starts.append(abs(best.start - ref["start"]))
            ends.append(abs(best.end - ref["end"]))
    return {
        "matched": len(starts),
        "utterances": len(reference),
        "segments": len(segments),
        "start_error_mean_s": statistics.fmean(starts) if starts else math.nan,
        "start_error_median_s": statistics.median(starts) if starts else math.nan,
        "end_error_mean_s": statistics.fmean(ends) if ends else math.nan,
        "end_error_median_s": statistics.median(ends) if ends else math.nan,
    }


def one_by_one(runner, reference: list[dict], beam: int | None, batch_size: int) -> tuple[list[str], float]:
    """Hypotheses of the utterances decoded as separate files (the batched path), and the seconds taken."""
    texts, start = [], time.perf_counter()
    for i in range(0, len(reference), 64):
        paths = [r["audio"] for r in reference[i : i + 64]]
        texts += [r.text for r in runner.decode(paths, beam_size=beam, batch_size=batch_size)]
    return texts, time.perf_counter() - start


def silero_then_decode(runner, wav: Path, beam: int | None, batch_size: int, config):
    """The peer pipeline: Silero's own ``get_speech_timestamps`` over the recording, then the cut
    segments decoded in batches (chunks of 64). Hypotheses and the seconds taken (loading included).

    The same VAD model (its ONNX build, one thread) and the same decoder as the long-form path, put
    together as a user without it would: the whole recording in memory, not streamed; Silero's
    settings are the long-form path's (``config``: a ``LongFormConfig``).
    """
    from silero_vad import get_speech_timestamps, load_silero_vad

    from speech.audio import load

    start = time.perf_counter()
    model = load_silero_vad(onnx=True)
    audio = load(wav, 16_000)
    stamps = get_speech_timestamps(
        audio, model, threshold=config.threshold, sampling_rate=16_000,
        min_speech_duration_ms=config.min_speech_ms, max_speech_duration_s=config.max_segment_seconds,
        min_silence_duration_ms=config.min_silence_ms, speech_pad_ms=config.speech_pad_ms,
    )  # fmt: skip
    if runner.sample_rate != 16_000:
        audio = load(wav, runner.sample_rate)
    scale = runner.sample_rate / 16_000
    pieces = [audio[round(t["start"] * scale) : round(t["end"] * scale)] for t in stamps]
    texts = []
    for i in range(0, len(pieces), 64):
        texts += [r.text for r in runner.decode(pieces[i : i + 64], beam_size=beam, batch_size=batch_size)]
    return texts, time.perf_counter() - start


def run(args: argparse.Namespace, work: Path) -> dict:
    """Build, decode both ways, score; the results as a dict."""
    from speech.inference import LongFormConfig, Transcriber, iter_segments
    from speech.metrics import error_rates
    from speech.metrics.intelligibility import normalize_for_wer

    wav = work / "long.wav"
    reference = build_recording(args.manifest, wav, args.minutes * 60, args.seed, args.pause, args.gap)
    audio_seconds = sf.info(str(wav)).duration
    runner = Transcriber.from_checkpoint(args.model)
    config = LongFormConfig(max_segment_seconds=args.max_segment_seconds)
    long_times, obo_times, silero_times = [], [], []
    for _ in range(args.rounds):
        start = time.perf_counter()
        segments = list(iter_segments(runner, wav, config, beam_size=args.beam, batch_size=args.batch_size))
        long_times.append(time.perf_counter() - start)
        if not args.skip_baseline:
            hyps, seconds = one_by_one(runner, reference, args.beam, args.batch_size)
            obo_times.append(seconds)
            silero_hyps, seconds = silero_then_decode(runner, wav, args.beam, args.batch_size, config)
            silero_times.append(seconds)
    long_seconds = statistics.median(long_times)
    ref_text = normalize_for_wer(" ".join(r["text"] for r in reference))
    long_text = normalize_for_wer(" ".join(s.text for s in segments))
    result = {
        "model": str(args.model),
        "audio_seconds": audio_seconds,
        "speech_seconds": sum(r["end"] - r["start"] for r in reference),
        "threads": torch.get_num_threads(),
        "long_form": {"wer": error_rates([ref_text], [long_text]).wer, "rtf": long_seconds / audio_seconds},
        "boundaries": boundary_errors(reference, segments),
        "long_form_seconds": long_times,
    }
    if not args.skip_baseline:
        seconds = statistics.median(obo_times)
        result["one_by_one_seconds"] = obo_times
        refs = [normalize_for_wer(r["text"]) for r in reference]
        result["one_by_one"] = {
            "wer": error_rates(refs, [normalize_for_wer(h) for h in hyps]).wer,
            "rtf": seconds / result["speech_seconds"],
        }
        result["wer_difference"] = result["long_form"]["wer"] - result["one_by_one"]["wer"]
        result["silero_then_decode_seconds"] = silero_times
        silero_text = normalize_for_wer(" ".join(silero_hyps))
        result["silero_then_decode"] = {
            "wer": error_rates([ref_text], [silero_text]).wer,
            "rtf": statistics.median(silero_times) / audio_seconds,
        }
    return result


def report(result: dict) -> str:
    """A markdown summary."""
    b = result["boundaries"]
    lines = [
        f"audio {result['audio_seconds'] / 60:.1f} min, {b['utterances']} utterances, "
        f"{b['segments']} VAD segments, {result['threads']} thread(s)",
        "",
        "| path | WER % | RTF |",
        "| --- | ---: | ---: |",
        f"| long-form | {100 * result['long_form']['wer']:.2f} | {result['long_form']['rtf']:.4f} |",
    ]
    if "one_by_one" in result:
        lines.append(
            f"| one by one | {100 * result['one_by_one']['wer']:.2f} | {result['one_by_one']['rtf']:.4f} |"
        )
        peer = result["silero_then_decode"]
        lines.append(
            f"| Silero get_speech_timestamps, then batches | {100 * peer['wer']:.2f} | {peer['rtf']:.4f} |"
        )
        lines += [
            "",
            f"WER difference (long-form - one by one): {100 * result['wer_difference']:+.2f} points",
        ]
    lines.append(
        f"boundaries ({b['matched']} matched): |start error| mean {b['start_error_mean_s']:.3f} s, "
        f"median {b['start_error_median_s']:.3f} s; |end error| mean {b['end_error_mean_s']:.3f} s, "
        f"median {b['end_error_median_s']:.3f} s"
    )
    return "\n".join(lines)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--minutes", type=float, default=10.0, help="length of the recording (e.g. 10 or 60)")
    p.add_argument("--model", type=Path, default=MODEL, help="ASR checkpoint")
    p.add_argument(
        "--manifest", type=Path, default=MANIFEST, help="test manifest whose utterances are joined"
    )
    p.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    p.add_argument("--beam", type=int, default=None, help="beam size (default: the model's)")
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--max-segment-seconds", type=float, default=20.0)
    p.add_argument("--pause", type=float, default=0.4, help="silence always left between utterances (s)")
    p.add_argument("--gap", type=float, default=1.6, help="random extra silence, uniform in [0, gap] (s)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--skip-baseline", action="store_true", help="do not decode the utterances one by one")
    p.add_argument(
        "--work-dir", type=Path, default=None, help="keep the recording here (default: a temp dir)"
    )
    p.add_argument("--rounds", type=int, default=1, help="decode this many times both ways, interleaved")
    p.add_argument("--out", type=Path, default=None, help="write the results as JSON")
    p.add_argument("--quick", action="store_true", help="smoke run: about 20 s of audio, beam 1")
    args = p.parse_args(argv)
    if args.quick:
        args.minutes, args.beam = 20 / 60, 1
    if args.rounds < 1:
        p.error("--rounds must be >= 1")
    return args


def suite_rows(result: dict, command: str) -> list[dict]:
    """The row of ``bench/suite.py``: long-form decoding time against one by one (as RTFs)."""
    name = f"long-form decoding, {result['audio_seconds'] / 60:.1f} min recording"
    if "one_by_one_seconds" not in result:
        return [timing.skipped(name, command, "--skip-baseline: no one-by-one run to compare with")]
    audio = result["audio_seconds"]
    lf = [t / audio for t in result["long_form_seconds"]]
    obo = [t / audio for t in result["one_by_one_seconds"]]
    note = (
        f"RTFs over the whole recording (silences included); WER long-form "
        f"{100 * result['long_form']['wer']:.1f}%, one by one {100 * result['one_by_one']['wer']:.1f}%"
    )
    peer = [t / audio for t in result["silero_then_decode_seconds"]]
    peer_wer = 100 * result["silero_then_decode"]["wer"]
    peer_note = (
        f"the same VAD (Silero, ONNX, one thread) and decoder, not streamed; WER long-form "
        f"{100 * result['long_form']['wer']:.1f}%, Silero then batches {peer_wer:.1f}%"
    )
    return [
        timing.row(f"{name}: vs Silero's get_speech_timestamps + batched decoding", lf, peer, "RTF",
                   "long-form (streamed VAD + batches)", "Silero timestamps, then batches", command,
                   note=peer_note),
        timing.row(f"{name}: vs one file per utterance (segmentation given, no VAD)", lf, obo, "RTF",
                   "long-form (VAD + batches)", "one file per utterance", command, note=note),
    ]  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    timing.limit_environment_threads()
    torch.set_num_threads(args.threads)
    command = timing.command_line("bench/longform.py", argv)
    with tempfile.TemporaryDirectory() as tmp:
        work = args.work_dir or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        if args.quick and (not args.model.is_file() or not args.manifest.is_file()):
            args.model = tiny.checkpoints(Path(tmp) / "tiny")["asr"]
            args.manifest = tiny.noise_corpus(Path(tmp) / "corpus", 4, min_seconds=1.5, max_seconds=3.0)
        if not args.model.is_file() or not args.manifest.is_file():
            name = "long-form decoding"
            reason = f"no checkpoint or manifest ({args.model}, {args.manifest}): train recipes/mini/asr"
            print(f"{name}: skipped ({reason})")
            if args.out:
                args.out.write_text(json.dumps({"rows": [timing.skipped(name, command, reason)]}) + "\n")
            return 0
        result = run(args, work)
    result["command"] = command
    result["rows"] = suite_rows(result, command)
    print(f"bench/longform.py {'--quick ' if args.quick else ''}({args.minutes:g} min)")
    print(report(result))
    if args.out:
        args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
