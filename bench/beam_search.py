"""Batched beam search vs one utterance at a time (beam 8, 16 utterances, one thread).

Usage: python bench/beam_search.py [--model exp/model.ckpt] [--manifest data/corpus/test.jsonl]
       [--out rows.json] [--quick]

Both searches decode the same 16 utterances (sorted by length, as the Transcriber batches
them) with the same scorers (attention decoder + CTC prefix score) from the same listener
output: the encoder runs once and is not timed. Runs are interleaved; the speed-up is the
median over rounds of each round's ratio (the two runs of a round share the machine's load
of the moment), with the ratio of the median times and the quartiles of the per-round ratios
beside it. The best hypotheses must be identical; the target is a speed-up of at least 3x.

The model defaults to the mini ASR recipe's (exp16, else exp14) and the manifest to its test set.
``--out`` writes the row of ``bench/suite.py`` (JSON). ``--quick`` is a smoke run: 4 utterances,
2 rounds, and, when the model or the manifest is absent, a tiny untrained checkpoint and
generated recordings (bench/tiny.py).
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch

from speech.audio import load
from speech.data import read_manifest
from speech.data.dataset import pad_sequences
from speech.inference import Transcriber
from speech.kernels import use_inference_kernels
from speech.models.listener import ListenerOutput

sys.path.insert(0, str(Path(__file__).resolve().parent))
import timing  # noqa: E402
import tiny  # noqa: E402

MODEL = timing.default_checkpoint("recipes/mini/asr/exp16/model.ckpt", "recipes/mini/asr/exp14/model.ckpt")
MANIFEST = timing.ROOT / "recipes/mini/asr/data/corpus/test.jsonl"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=MODEL, help="default: the mini ASR recipe's")
    parser.add_argument("--manifest", type=Path, default=MANIFEST)
    parser.add_argument("--utterances", type=int, default=16)
    parser.add_argument("--beam", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--out", type=Path, help="write the row of bench/suite.py here (JSON)")
    parser.add_argument("--quick", action="store_true", help="smoke run (tiny model when none is found)")
    args = parser.parse_args()
    command = timing.command_line("bench/beam_search.py")
    timing.one_thread()
    with tempfile.TemporaryDirectory() as tmp:
        if args.quick:
            args.utterances, args.rounds = 4, 2
            if args.model is None or not args.model.is_file() or not args.manifest.is_file():
                args.model = tiny.checkpoints(Path(tmp))["asr"]
                args.manifest = tiny.noise_corpus(Path(tmp) / "corpus", args.utterances)
        if args.model is None or not args.model.is_file() or not args.manifest.is_file():
            name = "batched vs one-at-a-time beam search"
            reason = f"no checkpoint or manifest ({args.model}, {args.manifest}): train recipes/mini/asr"
            print(f"{name}: skipped ({reason})")
            timing.write_json(args.out, {"rows": [timing.skipped(name, command, reason)]})
            return
        run(args, command)


def run(args: argparse.Namespace, command: str) -> None:
    """Time both searches; print the figures and write the suite row."""
    tr = Transcriber.from_checkpoint(args.model)
    for module in (tr.model, tr.front_end):  # the kernels a CPU Transcriber runs (idempotent)
        use_inference_kernels(module, "cpu")
    utts = read_manifest(args.manifest)[: args.utterances]
    waves = sorted((load(u.audio, tr.sample_rate) for u in utts), key=lambda w: -w.numel())
    batch, lengths = pad_sequences(waves)
    with torch.no_grad():
        feats, frame_lengths = tr.features(batch, lengths)
        feats = tr.cmvn(feats, frame_lengths)
        enc = tr.model.listener(feats, frame_lengths)
    search = dataclasses.replace(tr.search, beam_size=args.beam)

    def batched():
        return [h[0].tokens for h in tr.model.search(enc, search)]

    def one_by_one():
        out = []
        for i in range(len(utts)):
            m, c = int(enc.memory_lengths[i]), int(enc.ctc_lengths[i])
            single = ListenerOutput(
                enc.memory[i : i + 1, :m],
                enc.memory_lengths[i : i + 1],
                enc.ctc_input[i : i + 1, :c],
                enc.ctc_lengths[i : i + 1],
            )
            out.append(tr.model.search(single, search)[0][0].tokens)
        return out

    times = {"batched": [], "one_by_one": []}
    results = {}
    for _ in range(args.rounds):
        for name, fn in (("batched", batched), ("one_by_one", one_by_one)):
            start = time.perf_counter()
            results[name] = fn()
            times[name].append(time.perf_counter() - start)
    same = results["batched"] == results["one_by_one"]
    b, o = statistics.median(times["batched"]), statistics.median(times["one_by_one"])
    audio = sum(w.numel() for w in waves) / tr.sample_rate
    print(f"{len(utts)} utterances, {audio:.1f} s of audio, beam {args.beam}, 1 thread, {args.rounds} rounds")
    print(f"batched search     median {b:.3f} s  (search RTF {b / audio:.4f})")
    print(f"one-by-one search  median {o:.3f} s  (search RTF {o / audio:.4f})")
    ratios = [one / bat for one, bat in zip(times["one_by_one"], times["batched"], strict=True)]
    q1, _, q3 = statistics.quantiles(ratios, n=4) if len(ratios) > 1 else (ratios[0],) * 3
    print(
        f"speed-up {statistics.median(ratios):.2f}x (median of per-round ratios; quartiles {q1:.2f}-{q3:.2f};"
        f" ratio of medians {o / b:.2f}x); identical best hypotheses: {same}"
    )
    name = f"beam search, beam {args.beam}, {len(utts)} utterances: batched vs one at a time"
    note = f"search only; {audio:.1f} s of audio; identical best hypotheses: {same}"
    rows = [timing.row(name, times["batched"], times["one_by_one"], "s", "batched", "one at a time",
                       command, note=note)]  # fmt: skip
    timing.write_json(args.out, {"script": "bench/beam_search.py", "rows": rows})


if __name__ == "__main__":
    main()
