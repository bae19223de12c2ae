"""Vocoder speed on one CPU thread: Griffin-Lim, our Vocos-style generator, HiFi-GAN V1 and V3.

Usage: python bench/vocoder.py [--rounds 7] [--seconds 10] [--batch 16] [--batch-seconds 2]
       [--checkpoint exp/vocoder/model.ckpt] [--out RESULTS.md | --out results.json] [--quick]
       python bench/vocoder.py --precision-pair [--device cuda] [--quick] [--out FILE]
       (the GPU figures: the LJSpeech vocoder's samples/s at batch 16, fp32 vs bf16; bench/gpu_ding.sh)

All rows invert the same log-mels (``LogMel(LogMelConfig.tts())``: 22.05 kHz, hop 256, 80 mels) of
real speech: the first recordings of the mini TTS test manifest, the last one cut so that they add
up to ``--seconds`` (white noise when the corpus is absent). Each utterance is vocoded alone
(batch 1, as a sentence is synthesized); a row's time is the sum over the utterances. Then a
throughput pair: Griffin-Lim and ours on a batch of ``--batch`` items of ``--batch-seconds`` each,
cut end to end from the same recordings.

- Griffin-Lim: ``MelInverter(config, n_iter=32)``, phases seeded from a fresh generator per call.
- ours: ``VocosGenerator`` at the mini recipe's sizes (recipes/mini/tts/conf/vocoder.yaml), random
  weights (a trained one costs the same), or ``--checkpoint``'s trained generator.
- HiFi-GAN V1 and V3 (Kong et al., 2020): the generators' architecture (below), random weights and
  no weight norm (which folds into the weights at inference). They are why the generator is
  Vocos-style: transposed convolutions and residual stacks at the sample rate cost far more.

Everything runs under ``torch.inference_mode()`` on one thread, after one warm-up call per row.
The rows are interleaved within each round. RTF (real-time factor) = compute seconds / seconds of
audio the row produced; each row's ratio to Griffin-Lim is taken per round (the two runs of a
round share the machine's load of the moment) and reported as the median with the quartiles.
``--out`` writes the report as JSON when the name ends in ``.json``, otherwise as Markdown (the
text printed); the JSON also holds the rows of ``bench/suite.py`` (``suite_rows``: ours against
Griffin-Lim at batch 1 and at ``--batch``, and against HiFi-GAN V1, as per-round time ratios).
``--quick`` is a smoke run on a tiny input (2 rounds, 0.5 s, batch 2 of 0.25 s).
"""

from __future__ import annotations

import argparse
import json
import math
import shlex
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from speech.audio import load
from speech.data import read_manifest
from speech.features import LogMel, LogMelConfig, MelInverter, VocoderOutput
from speech.models.vocoder import VocosConfig, VocosGenerator

sys.path.insert(0, str(Path(__file__).resolve().parent))
import timing  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
MANIFEST = ROOT / "recipes" / "mini" / "tts" / "data" / "corpus" / "tts" / "test.jsonl"
OURS = VocosConfig(dim=256, intermediate_dim=768, layers=8)  # recipes/mini/tts/conf/vocoder.yaml
GL_ITERATIONS = 32
RTF_TARGET = 0.05
GRIFFIN_LIM, NEURAL = "Griffin-Lim", "ours (Vocos)"


# --- HiFi-GAN generators (Kong et al., 2020, section 2.1 and appendix A), architecture only ---


@dataclass(frozen=True)
class HiFiGANSize:
    """One generator variant: upsampling stages and the multi-receptive-field fusion (MRF) blocks."""

    upsample_rates: tuple[int, ...]
    upsample_kernels: tuple[int, ...]
    channels: int  # after the input convolution; halved by every upsampling stage
    resblock: int  # 1: two convolutions per dilation; 2: one
    kernels: tuple[int, ...]  # one residual block per kernel size in every MRF
    dilations: tuple[tuple[int, ...], ...]  # per residual block


HIFIGAN = {
    "V1": HiFiGANSize((8, 8, 2, 2), (16, 16, 4, 4), 512, 1, (3, 7, 11), ((1, 3, 5),) * 3),
    "V3": HiFiGANSize((8, 8, 4), (16, 16, 8), 256, 2, (3, 5, 7), ((1, 2),) * 3),
}


def _same_conv(channels: int, kernel: int, dilation: int) -> nn.Conv1d:
    return nn.Conv1d(channels, channels, kernel, dilation=dilation, padding=dilation * (kernel - 1) // 2)


class ResBlock(nn.Module):
    """Residual stack of one kernel size: per dilation, x + conv_d(lrelu(x)) (type 2), or with a
    second, undilated convolution after another leaky ReLU (type 1)."""

    def __init__(self, channels: int, kernel: int, dilations: tuple[int, ...], kind: int) -> None:
        super().__init__()
        self.dilated = nn.ModuleList(_same_conv(channels, kernel, d) for d in dilations)
        self.plain = nn.ModuleList(_same_conv(channels, kernel, 1) for _ in dilations) if kind == 1 else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for i, conv in enumerate(self.dilated):
            y = conv(F.leaky_relu(x, 0.1))
            if self.plain is not None:
                y = self.plain[i](F.leaky_relu(y, 0.1))
            x = x + y
        return x


class HiFiGANGenerator(nn.Module):
    """Log-mel (B, T, F) to waveforms (B, T * prod(upsample_rates)) with HiFi-GAN's generator."""

    def __init__(self, size: HiFiGANSize, n_mels: int = 80) -> None:
        super().__init__()
        self.hop = math.prod(size.upsample_rates)
        self.pre = nn.Conv1d(n_mels, size.channels, 7, padding=3)
        self.ups = nn.ModuleList()
        self.mrfs = nn.ModuleList()
        ch = size.channels
        for rate, kernel in zip(size.upsample_rates, size.upsample_kernels, strict=True):
            self.ups.append(
                nn.ConvTranspose1d(ch, ch // 2, kernel, stride=rate, padding=(kernel - rate) // 2)
            )
            ch //= 2
            self.mrfs.append(
                nn.ModuleList(
                    ResBlock(ch, k, d, size.resblock)
                    for k, d in zip(size.kernels, size.dilations, strict=True)
                )
            )
        self.post = nn.Conv1d(ch, 1, 7, padding=3)

    def forward(self, log_mel: torch.Tensor, frame_lengths: torch.Tensor | None = None) -> VocoderOutput:
        x = self.pre(log_mel.transpose(1, 2))
        for up, mrf in zip(self.ups, self.mrfs, strict=True):
            x = up(F.leaky_relu(x, 0.1))
            x = sum(block(x) for block in mrf) / len(mrf)
        waveforms = torch.tanh(self.post(F.leaky_relu(x)))[:, 0]
        B, T = log_mel.shape[:2]
        frames = torch.full((B,), T) if frame_lengths is None else frame_lengths
        return VocoderOutput(waveforms, frames * self.hop)


# --- inputs ---


def speech_waveforms(config: LogMelConfig, target: int) -> tuple[list[torch.Tensor], str]:
    """Recordings of the mini TTS test set in file order, the last cut, adding up to ``target`` samples."""
    if MANIFEST.exists():
        waves, total = [], 0
        for utt in read_manifest(MANIFEST):
            if total >= target:
                break
            wave = load(utt.audio, config.sample_rate)[: target - total]
            waves.append(wave)
            total += wave.numel()
        if total >= target:
            return waves, f"{len(waves)} recording(s) of {MANIFEST.relative_to(ROOT)}"
    g = torch.Generator().manual_seed(0)
    return [0.1 * torch.randn(target, generator=g)], "white noise (no mini TTS corpus)"


def log_mels(front_end: LogMel, waves: list[torch.Tensor]) -> list[torch.Tensor]:
    with torch.inference_mode():
        return [front_end(w[None]).features for w in waves]  # (1, T, F) each


def equal_pieces(front_end: LogMel, batch: int, samples: int) -> torch.Tensor:
    """(batch, T, F): log-mels of ``batch`` pieces of ``samples`` cut from the recordings end to end."""
    waves, _ = speech_waveforms(front_end.config, batch * samples)
    with torch.inference_mode():
        return front_end(torch.cat(waves).view(batch, samples)).features


# --- timing ---


@dataclass
class Row:
    """One timed vocoder call pattern and what it measured."""

    name: str
    batch: int
    params: int
    call: Callable[[], float]  # runs the vocoder over its inputs; returns the seconds of audio produced
    baseline: str  # the row its ratio is taken against
    audio_seconds: float = 0.0
    times: list[float] | None = None


def timed_rounds(rows: list[Row], rounds: int) -> None:
    """Warm every row up once, then ``rounds`` rounds with the rows in turn."""
    with torch.inference_mode():
        for row in rows:
            row.audio_seconds = row.call()
            row.times = []
        for _ in range(rounds):
            for row in rows:
                start = time.perf_counter()
                row.call()
                row.times.append(time.perf_counter() - start)


def summary(values: list[float]) -> dict[str, float]:
    """Median and quartiles (inclusive: within the values even for few rounds)."""
    q1, _, q3 = statistics.quantiles(values, n=4, method="inclusive") if len(values) > 1 else (values[0],) * 3
    return {"median": statistics.median(values), "q1": q1, "q3": q3}


def results(rows: list[Row], sample_rate: int) -> list[dict]:
    by_name = {(r.name, r.batch): r for r in rows}
    out = []
    for row in rows:
        base = by_name[(row.baseline, row.batch)]
        rtf = [t / row.audio_seconds for t in row.times]
        ratios = [
            t / row.audio_seconds / (b / base.audio_seconds)
            for t, b in zip(row.times, base.times, strict=True)
        ]
        median_rtf = statistics.median(rtf)
        out.append(
            {
                "name": row.name,
                "batch": row.batch,
                "params": row.params,
                "audio_seconds": row.audio_seconds,
                "rtf": summary(rtf),
                "samples_per_second": sample_rate / median_rtf,
                "vs_griffin_lim": summary(ratios),
            }
        )
    return out


def markdown(report: dict) -> str:
    lines = [
        f"`{report['command']}`",
        "",
        f"torch {report['torch']}, 1 thread, {report['rounds']} interleaved rounds (medians [quartiles]); "
        f"input: {report['input']}; {report['features']}",
        "",
        "| vocoder | batch | params | audio s | RTF | samples/s | RTF / Griffin-Lim |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in report["rows"]:
        rtf, ratio = r["rtf"], r["vs_griffin_lim"]
        params = f"{r['params'] / 1e6:.2f} M" if r["params"] else "-"
        lines.append(
            f"| {r['name']} | {r['batch']} | {params} | {r['audio_seconds']:.2f} | "
            f"{rtf['median']:.4f} [{rtf['q1']:.4f}, {rtf['q3']:.4f}] | {r['samples_per_second']:,.0f} | "
            f"{ratio['median']:.3f} [{ratio['q1']:.3f}, {ratio['q3']:.3f}] |"
        )
    lines.append("")
    for name, s in report["ours_speed_up"].items():
        lines.append(
            f"ours is {s['median']:.1f}x as fast as {name} at batch 1 "
            f"(median of per-round time ratios; quartiles {s['q1']:.1f}-{s['q3']:.1f})"
        )
    for t in report["targets"]:
        verdict = "PASS" if t["pass"] else "FAIL"
        lines.append(f"{verdict}: {t['name']} <= {t['limit']} (measured {t['value']:.4f})")
    return "\n".join(lines) + "\n"


def precision_pair(device: str, quick: bool, out: Path | None) -> None:
    """Throughput of the LJSpeech vocoder (recipes/ljspeech/tts/conf/vocoder.yaml) in fp32 and bf16.

    Samples per second at batch 16 for synthesis (2 s items) and for training steps (64-frame
    segments, generator and discriminators, both optimisers), fp32 (TF32 allowed on CUDA) against
    bf16 autocast, interleaved; on CPU (``--device cpu``) it is the dry run of bench/gpu_ding.sh.
    """
    from speech.config import from_dict as config_from_dict
    from speech.config import load_yaml
    from speech.tasks.vocoder import VocoderConfig, VocoderTask

    config = config_from_dict(VocoderConfig, load_yaml(ROOT / "recipes/ljspeech/tts/conf/vocoder.yaml"))
    if quick:  # a dry run: tiny sizes, batch 2
        config.model.dim, config.model.intermediate_dim, config.model.layers = 16, 32, 2
        config.discriminator.period_channels, config.discriminator.resolution_channels = (4, 4, 8, 8), 4
    batch, seconds, rounds = (2, 0.25, 2) if quick else (16, 2.0, 5)
    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = True
    torch.manual_seed(0)
    task = VocoderTask(config).to(device)
    gen, disc = task.generator, task.discriminators
    features = config.features
    sr, hop, segment = features.sample_rate, features.hop_length, config.data.segment_frames
    waves = torch.randn(batch, round(seconds * sr), device=device) * 0.1
    mels = task.logmel(waves).features
    seg_wave = torch.randn(batch, (segment - 1) * hop, device=device) * 0.1
    seg_mels = task.logmel(seg_wave).features[:, :segment]
    opt_g = torch.optim.AdamW(gen.parameters(), 2e-4)
    opt_d = torch.optim.AdamW(disc.parameters(), 2e-4)
    from speech.models.discriminators import discriminator_loss, feature_matching_loss, generator_loss

    def sync() -> None:
        if device.startswith("cuda"):
            torch.cuda.synchronize()

    def synthesize(dtype) -> int:
        with (
            torch.inference_mode(),
            torch.autocast(device.split(":")[0], dtype=dtype, enabled=dtype is not None),
        ):
            return int(gen(mels).lengths.sum())

    def train_step(dtype) -> int:
        with torch.autocast(device.split(":")[0], dtype=dtype, enabled=dtype is not None):
            fake = gen(seg_mels).waveforms
            real_scores, _ = disc(seg_wave)
            fake_scores, _ = disc(fake.detach())
            loss_d = discriminator_loss(real_scores, fake_scores)
        opt_d.zero_grad()
        loss_d.backward()
        opt_d.step()
        with torch.autocast(device.split(":")[0], dtype=dtype, enabled=dtype is not None):
            with torch.no_grad():
                _, real_features = disc(seg_wave)
            fake_scores, fake_features = disc(fake)
            loss_g = generator_loss(fake_scores) + 2 * feature_matching_loss(real_features, fake_features)
            loss_g = loss_g + 45 * task.mel_loss(fake, seg_wave)
        opt_g.zero_grad()
        loss_g.backward()
        opt_g.step()
        return fake.numel()

    rows = []
    for name, fn in (("synthesis", synthesize), ("training step", train_step)):
        times: dict[str, list[float]] = {"fp32": [], "bf16": []}
        samples = 0
        for dtype in (None, torch.bfloat16):  # warm-up
            fn(dtype)
        for _ in range(rounds):
            for label, dtype in (("fp32", None), ("bf16", torch.bfloat16)):
                sync()
                start = time.perf_counter()
                samples = fn(dtype)
                sync()
                times[label].append(time.perf_counter() - start)
        fp32, bf16 = (statistics.median(times[k]) for k in ("fp32", "bf16"))
        rows.append((name, samples / fp32, samples / bf16, fp32 / bf16))
    device_name = torch.cuda.get_device_name(device) if device.startswith("cuda") else "CPU"
    lines = [
        f"`python {shlex.join(sys.argv)}`",
        "",
        f"{device_name}, torch {torch.__version__}; the LJSpeech vocoder config"
        + (" (tiny sizes: --quick)" if quick else "")
        + f"; batch {batch}: synthesis of {seconds:g} s items, training steps on {segment}-frame segments;"
        f" medians of {rounds} interleaved rounds",
        "",
        "| work | fp32 samples/s | bf16 samples/s | bf16 / fp32 |",
        "|---|---:|---:|---:|",
        *(f"| {n} | {a:,.0f} | {b:,.0f} | {r:.2f} |" for n, a, b, r in rows),
        "",
    ]
    text = "\n".join(lines)
    print(text, end="")
    if out:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text, encoding="utf-8")


def suite_rows(rows: list[Row], args: argparse.Namespace, command: str) -> list[dict]:
    """The rows of ``bench/suite.py``: our vocoder's RTF against Griffin-Lim's and HiFi-GAN V1's."""
    by = {(r.name, r.batch): r for r in rows}

    def rtf(r: Row) -> list[float]:
        return [t / r.audio_seconds for t in r.times]

    out = []
    for batch, peer in ((1, GRIFFIN_LIM), (args.batch, GRIFFIN_LIM), (1, "HiFi-GAN V1")):
        ours, other = by[(NEURAL, batch)], by[(peer, batch)]
        what = f"batch 1, {args.seconds:g} s" if batch == 1 else f"batch {batch} x {args.batch_seconds:g} s"
        label = f"{peer} ({GL_ITERATIONS} iterations)" if peer == GRIFFIN_LIM else f"{peer} (random weights)"
        out.append(timing.row(f"vocoder, {what}: ours (Vocos) vs {peer}", rtf(ours), rtf(other), "RTF",
                              "ours (Vocos)", label, command))  # fmt: skip
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--seconds", type=float, default=10.0, help="audio of the batch-1 rows")
    parser.add_argument("--batch", type=int, default=16, help="items of the throughput pair")
    parser.add_argument("--batch-seconds", type=float, default=2.0, help="length of each of those items")
    parser.add_argument("--checkpoint", help="a trained vocoder (speech train vocoder), not random weights")
    parser.add_argument("--out", type=Path, help="also write the report here (.json: JSON, else Markdown)")
    parser.add_argument("--quick", action="store_true", help="smoke run: 2 rounds on a tiny input")
    parser.add_argument(
        "--precision-pair",
        action="store_true",
        help="instead: the LJSpeech vocoder's samples/s at batch 16, fp32 vs bf16 (bench/gpu_ding.sh)",
    )
    parser.add_argument("--device", default="cuda", help="--precision-pair's device (default cuda)")
    args = parser.parse_args()
    if args.precision_pair:
        precision_pair(args.device, args.quick, args.out)
        return
    if args.quick:
        args.rounds, args.seconds, args.batch, args.batch_seconds = 2, 0.5, 2, 0.25
    if args.rounds < 1 or args.seconds <= 0 or args.batch < 1 or args.batch_seconds <= 0:
        parser.error("--rounds and --batch must be >= 1, --seconds and --batch-seconds > 0")
    torch.set_num_threads(1)
    torch.manual_seed(0)
    config = LogMelConfig.tts()

    if args.checkpoint:
        from speech.inference.vocoder import NeuralVocoder

        ours = NeuralVocoder.from_checkpoint(args.checkpoint).model
        if ours.features != config:
            parser.error(f"{args.checkpoint}: the vocoder's features are not LogMelConfig.tts()")
    else:
        ours = VocosGenerator(OURS, config)
    ours.eval()
    c = ours.config
    weights = (
        args.checkpoint
        or f"random weights, dim {c.dim}, intermediate {c.intermediate_dim}, {c.layers} layers"
    )
    griffin_lim = MelInverter(config, n_iter=GL_ITERATIONS)
    hifigan = {name: HiFiGANGenerator(size, config.n_mels).eval() for name, size in HIFIGAN.items()}

    front_end = LogMel(config)
    sr = config.sample_rate
    waves, source = speech_waveforms(config, round(args.seconds * sr))
    mels = log_mels(front_end, waves)
    batch = equal_pieces(front_end, args.batch, round(args.batch_seconds * sr))

    def run_each(vocoder: Callable[..., VocoderOutput], inputs: list[torch.Tensor]) -> Callable[[], float]:
        def call() -> float:
            samples = 0
            for m in inputs:
                lengths = torch.full((m.shape[0],), m.shape[1])
                samples += int(vocoder(m, lengths).lengths.sum())
            return samples / sr

        return call

    def gl(m: torch.Tensor, lengths: torch.Tensor) -> VocoderOutput:
        return griffin_lim(m, lengths, generator=torch.Generator().manual_seed(0))

    count = lambda m: sum(p.numel() for p in m.parameters())  # noqa: E731
    rows = [
        Row(GRIFFIN_LIM, 1, 0, run_each(gl, mels), GRIFFIN_LIM),
        Row(NEURAL, 1, count(ours), run_each(ours, mels), GRIFFIN_LIM),
        *(
            Row(f"HiFi-GAN {name}", 1, count(m), run_each(m, mels), GRIFFIN_LIM)
            for name, m in hifigan.items()
        ),
        Row(GRIFFIN_LIM, args.batch, 0, run_each(gl, [batch]), GRIFFIN_LIM),
        Row(NEURAL, args.batch, count(ours), run_each(ours, [batch]), GRIFFIN_LIM),
    ]
    timed_rounds(rows, args.rounds)
    table = results(rows, sr)
    times = {row.name: row.times for row in rows if row.batch == 1}
    ours_rtf = next(r for r in table if r["name"] == NEURAL and r["batch"] == 1)["rtf"]["median"]
    report = {
        "command": "python " + shlex.join(sys.argv),
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "rounds": args.rounds,
        "input": f"{source}, {args.seconds:g} s at batch 1; batch {args.batch} x {args.batch_seconds:g} s",
        "features": f"LogMelConfig.tts(): {sr} Hz, hop {config.hop_length}, n_fft {config.n_fft}, "
        f"{config.n_mels} mels; Griffin-Lim {GL_ITERATIONS} iterations; ours: "
        + weights,
        "checkpoint": args.checkpoint,
        "rows": table,
        "ours_speed_up": {
            f"HiFi-GAN {name}": summary(
                [h / o for h, o in zip(times[f"HiFi-GAN {name}"], times[NEURAL], strict=True)]
            )
            for name in HIFIGAN
        },
        "targets": [
            {"name": "ours RTF (batch 1, one thread)", "value": ours_rtf, "limit": RTF_TARGET,
             "pass": ours_rtf <= RTF_TARGET},
        ],
    }  # fmt: skip
    report["suite_rows"] = suite_rows(rows, args, timing.command_line("bench/vocoder.py"))
    text = markdown(report)
    print(text, end="")
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        body = json.dumps(report, indent=2) + "\n" if args.out.suffix == ".json" else text
        args.out.write_text(body, encoding="utf-8")


if __name__ == "__main__":
    main()
