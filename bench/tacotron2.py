"""Our Tacotron2 vs torchaudio.models.Tacotron2 at identical sizes, one CPU thread.

Usage: python bench/tacotron2.py [--rounds 7] [--batch 8] [--symbols 60] [--frames 240] [--steps 200]
       [--out rows.json] [--quick]

Two figures, each timed on the same random batch, runs interleaved (ours, theirs, ours, ...) and
medians compared:
- a training step: forward, MSE on both mel outputs + stop BCE, backward (r = 1 for both);
- inference time per decoder step: free-running synthesis of the batch for a fixed number of
  steps (stop disabled on both sides; ours with its monotonic window, end-of-text stop check and
  per-item dropout, and once more without the window and the check: torchaudio's work).
The target is ours/torchaudio <= 1.0 for both. Our r = 2 figure is reported too (torchaudio
only has r = 1): per decoder step and per output frame. ``--out`` writes the rows of
``bench/suite.py`` (JSON: medians of the per-round ratios torchaudio / ours r=1, with quartiles);
``--quick`` is a smoke run (2 rounds, batch 2, 12 symbols, 24 frames, 8 decoder steps).
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import statistics
import sys
import time
import warnings
from pathlib import Path

import torch
import torch.nn.functional as F
import torchaudio

from speech.kernels import use_inference_kernels
from speech.models.tacotron2 import (
    InferenceConfig,
    Tacotron2,
    Tacotron2Config,
    Tacotron2LossConfig,
    tacotron2_loss,
)

sys.path.insert(0, str(Path(__file__).resolve().parent))
import timing  # noqa: E402

SIZES = dict(embedding=256, rnn=512, attention=128, prenet=256, postnet=256, filters=32, kernel=31)


def ours(r: int, n_symbols: int) -> Tacotron2:
    s = SIZES
    return Tacotron2(
        Tacotron2Config(
            n_symbols=n_symbols,
            reduction_factor=r,
            embedding_dim=s["embedding"],
            encoder_dim=s["embedding"],
            prenet_dims=[s["prenet"], s["prenet"]],
            attention_rnn_dim=s["rnn"],
            decoder_rnn_dim=s["rnn"],
            attention_dim=s["attention"],
            location_filters=s["filters"],
            location_kernel=s["kernel"],
            postnet_channels=s["postnet"],
        )
    )


def theirs(n_symbols: int, max_steps: int) -> torchaudio.models.Tacotron2:
    s = SIZES
    return torchaudio.models.Tacotron2(
        mask_padding=False,  # True masks its outputs in place, which breaks backward in torchaudio 2.11
        n_symbol=n_symbols,
        symbol_embedding_dim=s["embedding"],
        encoder_embedding_dim=s["embedding"],
        decoder_rnn_dim=s["rnn"],
        attention_rnn_dim=s["rnn"],
        attention_hidden_dim=s["attention"],
        attention_location_n_filter=s["filters"],
        attention_location_kernel_size=s["kernel"],
        prenet_dim=s["prenet"],
        postnet_embedding_dim=s["postnet"],
        decoder_max_step=max_steps,
        gate_threshold=1.0,  # sigmoid never exceeds 1: run the fixed number of steps
    )


def make_batch(batch: int, symbols: int, frames: int, n_symbols: int):
    g = torch.Generator().manual_seed(0)
    token_lengths = torch.linspace(symbols, symbols * 0.6, batch).long()  # sorted, as torchaudio wants
    tokens = torch.randint(1, n_symbols, (batch, symbols), generator=g)
    mel_lengths = torch.linspace(frames, frames * 0.6, batch).long()
    mels = torch.randn(batch, frames, 80, generator=g)
    for b in range(batch):
        tokens[b, token_lengths[b] :] = 0
        mels[b, mel_lengths[b] :] = 0
    return tokens, token_lengths, mels, mel_lengths


def train_step_ours(model, tokens, token_lengths, mels, mel_lengths) -> None:
    out = model(tokens, token_lengths, mels, mel_lengths)
    cfg = Tacotron2LossConfig(mel_loss="mse", guided_weight=0.0)
    tacotron2_loss(out, mels, mel_lengths, token_lengths, cfg).loss.backward()


def train_step_theirs(model, tokens, token_lengths, mels, mel_lengths) -> None:
    mel, post, gate, _ = model(tokens, token_lengths, mels.transpose(1, 2), mel_lengths)
    target = mels.transpose(1, 2)
    stop = (torch.arange(mels.shape[1])[None] >= (mel_lengths - 1)[:, None]).float()
    (
        F.mse_loss(mel, target) + F.mse_loss(post, target) + F.binary_cross_entropy_with_logits(gate, stop)
    ).backward()


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--symbols", type=int, default=60)
    parser.add_argument("--frames", type=int, default=240)
    parser.add_argument("--steps", type=int, default=200, help="decoder steps of the inference timing")
    parser.add_argument("--out", type=Path, help="write the rows of bench/suite.py here (JSON)")
    parser.add_argument("--quick", action="store_true", help="smoke run: 2 rounds on a tiny batch")
    args = parser.parse_args()
    if args.quick:
        args.rounds, args.batch, args.symbols, args.frames, args.steps = 2, 2, 12, 24, 8
    timing.one_thread()
    torch.manual_seed(0)
    n_symbols = 40
    batch = make_batch(args.batch, args.symbols, args.frames, n_symbols)
    # the CPU inference kernels, as the Synthesizer runs them; training steps still run the reference
    models = {
        "ours r=1": use_inference_kernels(ours(1, n_symbols), "cpu"),
        "ours r=2": use_inference_kernels(ours(2, n_symbols), "cpu"),
        "torchaudio": theirs(n_symbols, args.steps),
    }
    n_params = {k: sum(p.numel() for p in m.parameters()) for k, m in models.items()}
    print("parameters:", {k: f"{v / 1e6:.2f} M" for k, v in n_params.items()})
    train = {k: [] for k in models}
    infer = {k: [] for k in models}
    no_window: list[float] = []  # ours r=1 doing torchaudio's work: no window, no end-of-text stop check
    for _ in range(args.rounds):
        for name, model in models.items():
            model.train()
            step = train_step_theirs if name == "torchaudio" else train_step_ours
            train[name].append(timed(lambda m=model, s=step: s(m, *batch)))
            model.zero_grad(set_to_none=True)
            model.eval()
            infer[name].append(timed(lambda m=model, n=name: _infer(m, n, batch, args.steps)) / args.steps)
        plain = lambda: _infer(models["ours r=1"], "ours r=1", batch, args.steps, window=False)  # noqa: E731
        no_window.append(timed(plain) / args.steps)
    med = {k: (statistics.median(train[k]), statistics.median(infer[k])) for k in models}
    base_train, base_infer = med["torchaudio"]
    print(
        f"batch {args.batch}, {args.symbols} symbols, {args.frames} frames; "
        f"one thread; medians of {args.rounds}"
    )
    print(
        f"{'model':<12} {'train step s':>12} {'ratio':>7} {'infer ms/step':>14} {'ratio':>7} {'ms/frame':>9}"
    )
    for name, (t, i) in med.items():
        r = 2 if name.endswith("r=2") else 1
        print(
            f"{name:<12} {t:12.3f} {t / base_train:7.2f} "
            f"{1e3 * i:14.2f} {i / base_infer:7.2f} {1e3 * i / r:9.2f}"
        )
    i = statistics.median(no_window)
    print(f"{'ours r=1 without window':<24} {1e3 * i:14.2f} {i / base_infer:7.2f}   (inference only)")
    command = timing.command_line("bench/tacotron2.py")
    sizes = f"batch {args.batch}, {args.symbols} symbols"
    rows = [
        timing.row(f"Tacotron2 training step ({sizes}, {args.frames} frames)", train["ours r=1"],
                   train["torchaudio"], "s", "ours r=1", "torchaudio Tacotron2", command),
        timing.row(f"Tacotron2 inference, time per decoder step ({sizes})", infer["ours r=1"],
                   infer["torchaudio"], "ms", "ours r=1", "torchaudio Tacotron2", command, scale=1e3,
                   note="ours with its attention window and end-of-text stop check"),
    ]  # fmt: skip
    timing.write_json(args.out, {"script": "bench/tacotron2.py", "rows": rows})


@torch.no_grad()
def _infer(model, name: str, batch, steps: int, window: bool = True) -> None:
    tokens, token_lengths, _, _ = batch
    if name == "torchaudio":
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "Reached max decoder steps"
            model.infer(tokens, token_lengths)
        return
    r = model.config.reduction_factor
    # never stop early: exactly `steps` decoder steps (the limit is min_max_frames)
    cfg = InferenceConfig(
        stop_threshold=math.nextafter(1.0, 0.0), max_frames_per_symbol=1e-9, min_max_frames=steps * r
    )
    if not window:
        cfg = dataclasses.replace(cfg, window_backward=-1, stop_near_end=0)
    model.synthesize(tokens, token_lengths, config=cfg)


if __name__ == "__main__":
    main()
