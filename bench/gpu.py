"""GPU figures of the training and inference paths (bench/gpu.sh runs this on a lent GPU machine).

Usage: python bench/gpu.py [--device cuda] [--out bench/RESULTS-gpu.md] [--max-minutes 7]
       python bench/gpu.py --smoke --device cpu --out x.md   (the CPU dry run: tiny sizes, 2 steps)

Everything is synthetic (random features, mels and tokens with real lengths: bench/workloads.py),
so the machine needs only the repository and PyTorch; no data file, no checkpoint, no network.

- Tacotron2 training throughput in mel frames a second (the real frames of the batch, as
  NVIDIA's "mels/s" count them) at batch 128 with LJSpeech-like lengths (1-10 s, mean ~6.5 s),
  the paper's sizes (recipes/ljspeech/tts/conf/train.yaml) at r = 1 (NVIDIA's setting) and r = 2
  (our LJSpeech recipe's); fp32 with TF32 matmuls against bf16 autocast, interleaved. NVIDIA's
  published DGX A100 figures (DeepLearningExamples, Tacotron2, batch 128): about 31.5k mels/s in
  TF32 and 26.5k with AMP.
- LAS and ST training steps a second, fp32/TF32 against bf16 autocast, at the ding GPU configs'
  sizes (recipes/ding/{asr,st}/conf/train_gpu.yaml, 500 output pieces, ~3.5 a second) with 128
  utterances of 2-6 s a batch.
- Inference, fp32/TF32: the ASR beam search (beam 8 + CTC prefix score, ding GPU config's LAS,
  from features: the listener and the search) as an RTF at batch 1 and 32 of 4 s utterances,
  the output length pinned to 0.24 pieces per memory frame (about 3 a second) since the weights
  are random; the Tacotron2 decoder's time per step (LJSpeech sizes, r = 2, stop disabled) at
  batch 1 and 32, eager and with the step under ``torch.compile`` (inductor's fused kernels, and
  its CUDA-graph mode), each compiled once in the warm-up round; a mode that fails is reported as
  such.
- Peak GPU memory (``torch.cuda.max_memory_allocated``) of every figure.

Each figure is the median over ``--steps`` timed rounds after one warm-up; a round runs the
contenders in turn (fp32, bf16, ...). Sections that would start after ``--max-minutes`` are
reported as skipped. The figures go to a Markdown file (``--out``).
"""

from __future__ import annotations

import argparse
import datetime
import math
import random
import shlex
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import workloads  # noqa: E402

from speech.decoding import SearchConfig  # noqa: E402
from speech.models.tacotron2 import InferenceConfig  # noqa: E402

NVIDIA_A100 = {"fp32": 31_500, "bf16": 26_500}  # mels/s, batch 128: TF32, and AMP (fp16)
PRECISIONS = {"fp32": None, "bf16": torch.bfloat16}
GIB = 2**30


class Bench:
    """Device, timing, peak memory and the time budget of one run."""

    def __init__(self, device: str, steps: int, max_minutes: float) -> None:
        self.device = torch.device(device)
        self.cuda = self.device.type == "cuda"
        self.steps = steps
        self.deadline = time.perf_counter() + 60 * max_minutes

    def out_of_time(self) -> bool:
        """Whether the time budget is spent."""
        return time.perf_counter() > self.deadline

    def sync(self) -> None:
        """Wait for the device."""
        if self.cuda:
            torch.cuda.synchronize(self.device)

    def measure(self, contenders: dict[str, Callable[[], object]]) -> dict[str, tuple[float, float]]:
        """``{name: (median seconds, peak GiB)}``: one warm-up each, then rounds in turn."""
        times: dict[str, list[float]] = {k: [] for k in contenders}
        peaks: dict[str, float] = dict.fromkeys(contenders, 0.0)
        for round_ in range(self.steps + 1):
            for name, fn in contenders.items():
                self.sync()
                if self.cuda:
                    torch.cuda.reset_peak_memory_stats(self.device)
                start = time.perf_counter()
                fn()
                self.sync()
                if round_:
                    times[name].append(time.perf_counter() - start)
                if self.cuda:
                    peaks[name] = max(peaks[name], torch.cuda.max_memory_allocated(self.device) / GIB)
        return {k: (statistics.median(times[k]), peaks[k]) for k in contenders}

    def peak(self, gib: float) -> str:
        """A peak-memory cell ("-" off CUDA)."""
        return f"{gib:.2f}" if self.cuda else "-"


def params(model: torch.nn.Module) -> str:
    """Parameter count in millions."""
    return f"{sum(p.numel() for p in model.parameters()) / 1e6:.1f} M"


def train_contenders(bench: Bench, model: torch.nn.Module, batch: workloads.Batch) -> dict:
    """fp32 and bf16 training steps of one model on one batch (one optimizer: the same weights)."""
    optimizer = torch.optim.AdamW(model.parameters(), 1e-4)
    return {
        name: (lambda d=dtype: workloads.train_step(model, optimizer, batch, d))
        for name, dtype in PRECISIONS.items()
    }


def tacotron2_training(bench: Bench, smoke: bool) -> list[str]:
    """Mel frames a second of Tacotron2 training steps, fp32/TF32 vs bf16, r = 1 and 2."""
    lines = [
        "## Tacotron2 training throughput (LJSpeech sizes, LJSpeech-like lengths)",
        "",
        "| r | batch | precision | step s | mel frames/s | NVIDIA A100 mels/s | peak GiB |",
        "|---:|---:|---|---:|---:|---:|---:|",
    ]
    batch_size = 4 if smoke else 128
    config = workloads.CONFIGS["gpu"]["tts"]
    seconds: list[float] = []
    for r in (1, 2):
        if bench.out_of_time():
            lines.append(f"| {r} | {batch_size} | skipped: time budget spent | | | | |")
            continue
        torch.manual_seed(0)
        model = workloads.build("tts", config, tiny=smoke, reduction=r).to(bench.device).train()
        seconds = workloads.ljspeech_durations(batch_size, seed=r)
        if smoke:
            seconds = [s / 5 for s in seconds]
        batch = workloads.make_batch("tts", seconds, reduction=r).to(bench.device)
        results = bench.measure(train_contenders(bench, model, batch))
        for name, (t, peak) in results.items():
            nvidia = f"{NVIDIA_A100[name]:,}" + (" (AMP fp16)" if name == "bf16" else " (TF32)")
            lines.append(
                f"| {r} | {batch_size} | {name} | {t:.3f} | {batch.frames / t:,.0f} | "
                f"{nvidia if r == 1 else '-'} | {bench.peak(peak)} |"
            )
        speed_up = results["fp32"][0] / results["bf16"][0]
        lines.append(f"| {r} | | bf16 speed-up (fp32 time / bf16 time) | {speed_up:.2f}x | | | |")
        del model, batch
        free(bench)
    mean = statistics.fmean(seconds) if seconds else math.nan
    lines += [
        "",
        f"{params(workloads.build('tts', config, tiny=smoke))} parameters; batch of {batch_size} clips "
        f"(mean {mean:.1f} s); a step is forward, l1+mse and stop losses, guided attention, backward, "
        "clip, AdamW. NVIDIA's figures: DeepLearningExamples Tacotron2, DGX A100, batch 128, r = 1.",
        "",
    ]
    return lines


def s2t_training(bench: Bench, smoke: bool) -> list[str]:
    """Training steps a second of the LAS and ST GPU configs, fp32/TF32 vs bf16."""
    lines = [
        "## LAS and ST training steps (ding GPU configs)",
        "",
        "| model | params | batch | audio s | precision | steps/s | audio s/s | peak GiB |",
        "|---|---:|---:|---:|---|---:|---:|---:|",
    ]
    batch_size = 4 if smoke else 128
    rng = random.Random(0)
    seconds = [rng.uniform(2.0, 6.0) / (5 if smoke else 1) for _ in range(batch_size)]
    for kind, name in (("asr", "LAS (ASR)"), ("st", "ST")):
        if bench.out_of_time():
            lines.append(f"| {name} | | | | skipped: time budget spent | | | |")
            continue
        torch.manual_seed(0)
        model = workloads.build(kind, workloads.CONFIGS["gpu"][kind], tiny=smoke, vocab=500)
        model = model.to(bench.device).train()
        batch = workloads.make_batch(kind, seconds, vocab=500, tokens_per_second=3.5).to(bench.device)
        results = bench.measure(train_contenders(bench, model, batch))
        for precision, (t, peak) in results.items():
            lines.append(
                f"| {name} | {params(model)} | {batch_size} | {sum(seconds):.0f} | {precision} | "
                f"{1 / t:.2f} | {sum(seconds) / t:,.0f} | {bench.peak(peak)} |"
            )
        speed_up = results["fp32"][0] / results["bf16"][0]
        lines.append(f"| {name} | | | | bf16 speed-up (fp32 time / bf16 time) | {speed_up:.2f}x | | |")
        del model, batch
        free(bench)
    lines.append("")
    return lines


def asr_inference(bench: Bench, smoke: bool) -> list[str]:
    """Beam-search RTF (listener + beam 8 with CTC) of the ding GPU LAS at batch 1 and 32."""
    lines = [
        "## Inference (fp32/TF32)",
        "",
        "| what | batch | figure | peak GiB |",
        "|---|---:|---:|---:|",
    ]
    torch.manual_seed(0)
    model = workloads.build("asr", workloads.CONFIGS["gpu"]["asr"], tiny=smoke, vocab=500)
    model = model.to(bench.device).eval()
    ratio = 0.24  # output pieces per memory frame: ~3 a second at 12.5 memory frames a second
    search = SearchConfig(beam_size=8, max_length_ratio=ratio, min_length_ratio=ratio)
    for batch_size in (1, 32):
        if bench.out_of_time():
            lines.append(f"| ASR beam search RTF | {batch_size} | skipped: time budget spent | |")
            continue
        seconds = [(1.0 if smoke else 4.0)] * batch_size
        batch = workloads.make_batch("asr", seconds, vocab=500).to(bench.device)
        features, lengths = batch.inputs[:2]

        def decode(features=features, lengths=lengths, model=model) -> None:
            with torch.inference_mode():
                model.decode(features, lengths, search)

        ((t, peak),) = bench.measure({"fp32": decode}).values()
        lines.append(
            f"| ASR beam 8 + CTC, RTF ({seconds[0]:g} s each) | {batch_size} | {t / sum(seconds):.5f} | "
            f"{bench.peak(peak)} |"
        )
    del model
    free(bench)
    return lines


def tts_inference(bench: Bench, smoke: bool) -> list[str]:
    """Time per decoder step of Tacotron2 inference (LJSpeech sizes, r = 2) at batch 1 and 32."""
    lines = []
    torch.manual_seed(0)
    model = workloads.build("tts", workloads.CONFIGS["gpu"]["tts"], tiny=smoke).to(bench.device).eval()
    r = model.config.reduction_factor
    steps = 5 if smoke else 200
    config = InferenceConfig(
        stop_threshold=math.nextafter(1.0, 0.0), max_frames_per_symbol=1e-9, min_max_frames=steps * r
    )
    for batch_size in (1, 32):
        if bench.out_of_time():
            lines.append(f"| Tacotron2 decoder ms/step | {batch_size} | skipped: time budget spent | |")
            continue
        batch = workloads.make_batch("tts", [6.5] * batch_size, reduction=r).to(bench.device)
        tokens, token_lengths = batch.inputs[:2]

        def synthesize(tokens=tokens, token_lengths=token_lengths, model=model, step=None) -> None:
            decoder = model.decoder
            if step is not None:  # this contender's decoder step, on the instance for this call only
                decoder._fused_step = step
            try:
                with torch.inference_mode(), warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    model.synthesize(tokens, token_lengths, config=config)
            finally:
                decoder.__dict__.pop("_fused_step", None)

        contenders = {"eager": synthesize}
        if bench.cuda:  # inductor needs Triton (CUDA wheels ship it); on CPU it would need a C++ compiler
            for mode, label in COMPILE_MODES.items():
                contenders[label] = lambda m=mode, f=synthesize, d=model.decoder: f(step=compiled_step(d, m))
        for label, fn in contenders.items():
            try:
                ((t, peak),) = bench.measure({label: fn}).values()
                cells = f"{1e3 * t / steps:.2f} | {bench.peak(peak)}"
            except Exception as e:  # a compile mode this machine cannot run: say why, go on
                cells = f"failed: {type(e).__name__}: {str(e).splitlines()[0][:120] if str(e) else ''} |"
            lines.append(f"| Tacotron2 decoder, ms per step ({label}; r = {r}, {steps} steps, stop off) | "
                         f"{batch_size} | {cells} |")  # fmt: skip
    lines += [
        "",
        "The ASR figures start from random features (the log-mel front end is left out) with random "
        "weights; the output length is pinned to 0.24 pieces per memory frame (about 3 a second).",
        "",
    ]
    del model
    free(bench)
    return lines


COMPILE_MODES = {
    "default": "torch.compile (inductor)",
    "reduce-overhead": "torch.compile reduce-overhead (CUDA graphs)",
}
"""torch.compile modes tried on the Tacotron2 decoder step (CUDA only), with their row labels."""

_COMPILED: dict[tuple[int, str], Callable] = {}


def compiled_step(decoder: torch.nn.Module, mode: str) -> Callable:
    """``decoder._fused_step`` under ``torch.compile(mode=mode)``, compiled once per decoder and mode.

    Its outputs are cloned: under CUDA graphs a replay overwrites the previous step's outputs,
    which the synthesis loop keeps (frames, weights) and feeds back (state).
    """
    key = (id(decoder), mode)
    if key not in _COMPILED:
        step = torch.compile(type(decoder)._fused_step, mode=mode, dynamic=False)

        def run(*args, step=step):
            if mode == "reduce-overhead":
                torch.compiler.cudagraph_mark_step_begin()
            out = step(decoder, *args)
            return torch.utils._pytree.tree_map(
                lambda x: x.clone() if isinstance(x, torch.Tensor) else x, out
            )

        _COMPILED[key] = run
    return _COMPILED[key]


def free(bench: Bench) -> None:
    """Release cached device memory between sections."""
    if bench.cuda:
        torch.cuda.empty_cache()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "RESULTS-gpu.md")
    parser.add_argument("--steps", type=int, default=3, help="timed rounds per figure (after a warm-up)")
    parser.add_argument("--max-minutes", type=float, default=7.0, help="no section starts after this")
    parser.add_argument("--smoke", action="store_true", help="CPU dry run: tiny sizes, 2 rounds")
    args = parser.parse_args(argv)
    if args.smoke:
        args.steps = min(args.steps, 2)
    if args.device.startswith("cuda") and not torch.cuda.is_available():
        parser.error("no CUDA device: use --device cpu (with --smoke for the dry run)")
    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = True  # "fp32" = TF32
    if args.device == "cpu":
        torch.set_num_threads(1)
    bench = Bench(args.device, args.steps, args.max_minutes)
    start = time.perf_counter()
    name = torch.cuda.get_device_name(bench.device) if bench.cuda else "CPU"
    lines = [
        f"# GPU benchmarks{' (smoke run on CPU: tiny sizes, not figures)' if args.smoke else ''}",
        "",
        f"`python {shlex.join(['bench/gpu.py', *(sys.argv[1:] if argv is None else argv)])}` on "
        f"{datetime.date.today().isoformat()}: {name}, torch {torch.__version__}; medians of "
        f"{args.steps} rounds after a warm-up; fp32 = TF32 matmuls allowed.",
        "",
    ]
    for section in (tacotron2_training, s2t_training, asr_inference, tts_inference):
        t0 = time.perf_counter()
        lines += section(bench, args.smoke)
        now = time.perf_counter()
        print(f"[{now - start:6.1f} s] {section.__name__} in {now - t0:.1f} s", flush=True)
    lines.append(f"Total {time.perf_counter() - start:.0f} s.")
    text = "\n".join(lines) + "\n"
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    print(text, end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
