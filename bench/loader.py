"""Training-loader throughput: one audio file per utterance (JSONL manifest) against tar shards.

Both loaders yield the same length-bucketed batches of waveforms (no tokenizer: the audio
reading is what differs): the per-file loader is ``speech.tasks.common.bucketed_loader`` over a
:class:`~speech.data.SpeechDataset`, the sharded one ``sharded_loader`` over a
:class:`~speech.data.ShardDataset` of the same manifest written by ``speech prepare shard``.
Each measurement iterates a fresh loader (its workers' start included) over ``--max-batches``
batches (0 = the whole epoch) and counts utterances per second. Rounds are interleaved (every
loader and worker count once per round) and the medians reported; torch runs single-threaded::

    python bench/loader.py --manifest recipes/mini/asr/data/corpus/train.jsonl --rounds 3 --out loader.json

``--quick`` generates a tiny corpus and reads a few batches (for tests).
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
MANIFEST = ROOT / "recipes/mini/asr/data/corpus/train.jsonl"


def tiny_corpus(folder: Path, n: int = 48, rate: int = 16000) -> Path:
    """``n`` noise bursts of 0.3-1.2 s (wav) and their manifest; returns the manifest."""
    rng = np.random.default_rng(0)
    (folder / "wavs").mkdir(parents=True, exist_ok=True)
    lines = []
    for i in range(n):
        seconds = 0.3 + 0.9 * rng.random()
        sf.write(folder / "wavs" / f"u{i}.wav", 0.1 * rng.standard_normal(int(seconds * rate)), rate)
        lines.append(
            {"id": f"u{i}", "audio": f"wavs/u{i}.wav", "duration": seconds, "sample_rate": rate, "text": "x"}
        )
    manifest = folder / "train.jsonl"
    manifest.write_text("".join(json.dumps(x) + "\n" for x in lines), encoding="utf-8")
    return manifest


def make_loader(kind: str, manifest: Path, shards: Path, workers: int, args: argparse.Namespace, epoch: int):
    """A fresh training loader of ``kind`` (``jsonl`` or ``shards``) set to ``epoch``."""
    from speech.data import Collate, ShardDataset, SpeechDataset, read_manifest
    from speech.tasks.common import bucketed_loader, position_loader, sharded_loader

    items = SpeechDataset(read_manifest(manifest), args.sample_rate)
    if kind == "jsonl":
        loader = bucketed_loader(items, args.max_seconds, True, 0, Collate(), workers)
    else:
        dataset = ShardDataset(shards, items, args.max_seconds, seed=0, num_workers=workers)
        loader = sharded_loader(dataset, Collate(), workers)
    position_loader(loader, epoch)
    return loader


def measure(loader, max_batches: int) -> tuple[int, float]:
    """(utterances, seconds) of iterating ``loader`` for ``max_batches`` batches (0 = all)."""
    start, count = time.perf_counter(), 0
    iterator = iter(loader)
    for i, batch in enumerate(iterator):
        count += len(batch)
        if max_batches and i + 1 >= max_batches:
            break
    seconds = time.perf_counter() - start
    del iterator  # shuts the workers down before the next measurement
    return count, seconds


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; print a table and write the JSON of ``--out``."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--manifest", type=Path, default=MANIFEST if MANIFEST.is_file() else None)
    parser.add_argument("--quick", action="store_true", help="tiny generated corpus, a few batches")
    parser.add_argument("--workers", default="1,4", help="comma-separated DataLoader worker counts")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--max-batches", type=int, default=0, help="batches per measurement (0 = the epoch)")
    parser.add_argument("--max-seconds", type=float, default=60.0, help="padded audio per batch")
    parser.add_argument("--shard-size", type=int, default=None, help="default: 1000, or enough for 8 shards")
    parser.add_argument("--sample-rate", type=int, default=16000)
    parser.add_argument("--out", type=Path, default=None, help="JSON results")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    workers = [int(w) for w in args.workers.split(",")]
    with tempfile.TemporaryDirectory(prefix="loader-bench-") as tmp:
        tmp = Path(tmp)
        if args.quick:
            args.manifest, args.rounds = tiny_corpus(tmp / "corpus"), min(args.rounds, 2)
            args.max_batches, args.max_seconds = args.max_batches or 4, min(args.max_seconds, 4.0)
        if args.manifest is None:
            parser.error(
                "--manifest is needed (the default recipes/mini/asr/data/corpus/train.jsonl is absent)"
            )
        results = run(args, tmp, workers)
    print(table(results))
    if args.out is not None:
        args.out.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    return 0


def run(args: argparse.Namespace, tmp: Path, workers: list[int]) -> dict:
    """Shard the manifest, then time every (loader, workers) pair once per round."""
    from speech.data import read_manifest, write_shards

    n = len(read_manifest(args.manifest))
    shard_size = args.shard_size or max(1, min(1000, math.ceil(n / (2 * max(workers)))))
    start = time.perf_counter()
    summary = write_shards(args.manifest, tmp / "shards", shard_size=shard_size)
    prepare_s = time.perf_counter() - start
    rates: dict[str, list[float]] = {f"{k}/{w}": [] for k in ("jsonl", "shards") for w in workers}
    utterances: dict[str, int] = {}
    for epoch in range(args.rounds):
        for w in workers:
            for kind in ("jsonl", "shards"):
                loader = make_loader(kind, args.manifest, tmp / "shards", w, args, epoch)
                count, seconds = measure(loader, args.max_batches)
                rates[f"{kind}/{w}"].append(count / seconds)
                utterances[f"{kind}/{w}"] = count
    rows = [
        {
            "loader": key.split("/")[0],
            "workers": int(key.split("/")[1]),
            "utterances": utterances[key],
            "utt_per_s_median": statistics.median(values),
            "utt_per_s": values,
        }
        for key, values in rates.items()
    ]
    return {
        "manifest": str(args.manifest),
        "utterances": n,
        "hours": summary.duration / 3600,
        "shards": len(summary.shards),
        "shard_size": shard_size,
        "prepare_shard_s": prepare_s,
        "rounds": args.rounds,
        "max_batches": args.max_batches,
        "max_seconds": args.max_seconds,
        "torch_threads": torch.get_num_threads(),
        "rows": rows,
    }


def table(results: dict) -> str:
    """A Markdown table of the medians."""
    lines = [
        f"{results['manifest']}: {results['utterances']} utterances ({results['hours']:.2f} h), "
        f"{results['shards']} shards written in {results['prepare_shard_s']:.1f} s; "
        f"median of {results['rounds']} rounds",
        "",
        "| loader | workers | utterances | utt/s (median) |",
        "|---|---|---|---|",
    ]
    for row in results["rows"]:
        lines.append(
            f"| {row['loader']} | {row['workers']} | {row['utterances']} | {row['utt_per_s_median']:.0f} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
