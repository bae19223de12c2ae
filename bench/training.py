"""Training-side CPU benchmarks on one thread: padding share, the data loader, bf16 vs fp32 steps.

Usage: python bench/training.py [--rounds 5] [--only padding,loader,bf16] [--out rows.json] [--quick]

- padding: the share of padded frames in batches of our length-bucketed sampler
  (``LengthBucketSampler``, ``max_frames`` 400 s as recipes/ljspeech/tts) against random batches
  of the same sizes, on 13,100 LJSpeech-like durations (``workloads.ljspeech_durations``), one
  epoch per seed; no timing. The ratio is random share / our share (> 1: ours pads less).
- loader: batches per second of the training data loader alone (``bucketed_loader``: WAV
  reading, tokenizing, collating; ``num_workers=0`` on one thread) against training steps per
  second on the same batches (log-mel front end + the mini ASR model's forward, backward and
  AdamW step), on a small generated corpus (bench/tiny.py). Interleaved: one loader pass, then
  the steps, per round. The ratio is loader batches/s over steps/s: below 1 the configuration is
  loader-bound (with ``num_workers=0`` the loader's time adds to every step).
- bf16: a training step (forward, backward, clip, AdamW) of the mini ASR (LAS), ST and TTS
  models (recipes/mini/*/conf/train.yaml sizes, random batches of 8 utterances of 2-4 s) in fp32
  against bf16 autocast, interleaved. The ratio is fp32 time / bf16 time (> 1: bf16 faster).

``--out`` writes the rows of ``bench/suite.py`` (JSON); ``--quick`` is a smoke run (2 rounds,
tiny models and batches).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import timing  # noqa: E402

timing.limit_environment_threads()

import argparse  # noqa: E402
import random  # noqa: E402
import tempfile  # noqa: E402

import tiny  # noqa: E402
import torch  # noqa: E402
import workloads  # noqa: E402

from speech.data import read_manifest  # noqa: E402
from speech.data.dataset import Collate, SpeechDataset  # noqa: E402
from speech.data.sampler import LengthBucketSampler  # noqa: E402
from speech.features import LogMel, LogMelConfig  # noqa: E402
from speech.tasks.common import bucketed_loader  # noqa: E402
from speech.text import CharTokenizer  # noqa: E402

SECTIONS = ("padding", "loader", "bf16")
SYMBOLS = list(" abcdefghijklmnopqrstuvwxyz'")


def padding_share(lengths: list[float], batches: list[list[int]]) -> float:
    """Share of the padded frames (longest x items, summed over batches) that are padding."""
    padded = sum(max(lengths[i] for i in b) * len(b) for b in batches)
    return 1.0 - sum(lengths) / padded


def padding_row(seeds: int, n: int, command: str) -> dict:
    """Our bucketed sampler's padding share against random batches of the same sizes, per seed."""
    ours, peer = [], []
    for seed in range(seeds):
        durations = workloads.ljspeech_durations(n, seed)
        sampler = LengthBucketSampler(durations, max_frames=400.0, shuffle=True, seed=seed)
        batches = sampler.all_batches()
        order = list(range(n))
        random.Random(seed).shuffle(order)
        shuffled, start = [], 0
        for b in batches:
            shuffled.append(order[start : start + len(b)])
            start += len(b)
        ours.append(100 * sampler.padding_fraction())
        peer.append(100 * padding_share(durations, shuffled))
    mean = sum(durations) / n
    items = n / len(batches)
    return timing.row(
        f"padding share, {n} LJSpeech-like clips (1-10 s, mean {mean:.1f} s), ~{items:.0f} a batch",
        ours, peer, "% padding", "length-bucketed sampler", "random batches, same sizes", command,
        ratio_means="random padding share / ours: > 1 means ours pads less (no timing; one epoch per seed)",
    )  # fmt: skip


def loader_row(rounds: int, quick: bool, command: str) -> dict:
    """Loader batches/s against training steps/s on the same batches of a generated corpus."""
    with tempfile.TemporaryDirectory() as tmp:
        n = 8 if quick else 48
        manifest = tiny.noise_corpus(Path(tmp), n, min_seconds=1.0, max_seconds=2.0 if quick else 4.0)
        utts = read_manifest(manifest)
        tokenizer = CharTokenizer(SYMBOLS)
        dataset = SpeechDataset(utts, 16000, text_tokenizer=tokenizer)
        max_seconds = 6.0 if quick else 20.0
        loader = bucketed_loader(dataset, max_seconds, True, 0, Collate(tokenizer.pad_id))
        batches = list(loader)
        model = workloads.build("asr", workloads.CONFIGS["cpu"]["asr"], tiny=quick)
        front_end = LogMel(LogMelConfig.asr(n_mels=workloads.N_MELS))
        optimizer = torch.optim.AdamW(model.parameters(), 1e-3)
        model.train()

        def load_all() -> None:
            for _ in loader:
                pass

        def train_all() -> None:
            for b in batches:
                with torch.no_grad():
                    feats = front_end(b.waveforms, b.waveform_lengths)
                out = model(feats.features, feats.frame_lengths, b.text, b.text_lengths)
                optimizer.zero_grad(set_to_none=True)
                out.loss.backward()
                optimizer.step()

        times = timing.interleaved({"loader": load_all, "train": train_all}, rounds)
    k = len(batches)
    loader_rate = [k / t for t in times["loader"]]
    step_rate = [k / t for t in times["train"]]
    return timing.row(
        f"data loading: {n} generated WAVs (1-{2 if quick else 4} s), {k} bucketed batches of <= "
        f"{max_seconds:g} s, num_workers=0",
        loader_rate, step_rate, "/s", "loader batches/s", "ASR training steps/s", command,
        ratios=[a / b for a, b in zip(loader_rate, step_rate, strict=True)],
        ratio_means="loader batches/s / training steps/s: < 1 means loader-bound",
        note="training step: log-mel + mini LAS forward/backward/AdamW",
    )  # fmt: skip


def bf16_rows(rounds: int, quick: bool, command: str) -> list[dict]:
    """fp32 against bf16 autocast training steps of the ASR, ST and TTS models."""
    rows = []
    names = {"asr": "ASR (LAS)", "st": "ST", "tts": "TTS (Tacotron2)"}
    for kind, name in names.items():
        torch.manual_seed(0)
        model = workloads.build(kind, workloads.CONFIGS["cpu"][kind], tiny=quick)
        model.train()
        r = getattr(getattr(model, "config", None), "reduction_factor", 1)
        seconds = [1.0, 0.8] if quick else [4.0, 3.7, 3.4, 3.1, 2.8, 2.5, 2.2, 2.0]
        batch = workloads.make_batch(kind, seconds, reduction=r)
        optimizer = torch.optim.AdamW(model.parameters(), 1e-4)
        times = timing.interleaved(
            {
                "bf16": lambda m=model, o=optimizer, b=batch: workloads.train_step(m, o, b, torch.bfloat16),
                "fp32": lambda m=model, o=optimizer, b=batch: workloads.train_step(m, o, b, None),
            },
            rounds,
        )
        params = sum(p.numel() for p in model.parameters()) / 1e6
        rows.append(
            timing.row(
                f"{name} training step, bf16 autocast vs fp32 ({params:.2f} M params, batch {len(seconds)})",
                times["bf16"],
                times["fp32"],
                "s",
                "bf16 autocast",
                "fp32",
                command,
                ratio_means="fp32 time / bf16 time: > 1 means bf16 is faster",
            )  # fmt: skip
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--only", default=",".join(SECTIONS), help=f"comma-separated: {', '.join(SECTIONS)}")
    parser.add_argument("--out", type=Path, help="write the rows of bench/suite.py here (JSON)")
    parser.add_argument("--quick", action="store_true", help="smoke run: 2 rounds, tiny models")
    args = parser.parse_args()
    only = [s for s in args.only.split(",") if s]
    if unknown := set(only) - set(SECTIONS):
        parser.error(f"--only: unknown {', '.join(sorted(unknown))}")
    if args.quick:
        args.rounds = 2
    command = timing.command_line("bench/training.py")
    timing.one_thread()
    rows = []
    if "padding" in only:
        rows.append(padding_row(3 if args.quick else 9, 2000 if args.quick else 13100, command))
    if "loader" in only:
        rows.append(loader_row(args.rounds, args.quick, command))
    if "bf16" in only:
        rows += bf16_rows(args.rounds, args.quick, command)
    timing.print_rows(rows)
    timing.write_json(args.out, {"script": "bench/training.py", "rows": rows})


if __name__ == "__main__":
    main()
