"""Every CPU benchmark in one run, one table: bench/RESULTS.md (``make bench``).

Usage: python bench/suite.py [--quick] [--out bench/RESULTS.md] [--only features,training,...]

Each benchmark script runs in its own process with ``OMP_NUM_THREADS=1`` (and the BLAS
libraries at one thread), sets ``torch.set_num_threads(1)``, interleaves its contenders (ours,
peer, ours, peer, ...) and reports the median of the per-round ratios with their quartiles
(bench/timing.py); each writes its rows with ``--out x.json`` and this script gathers them into
one Markdown table with the command that reproduces every row. The ratio is the peer's figure
over ours (for times: peer time / our time, so > 1 means ours is faster) unless the row's
footnote says otherwise.

Rows that need the mini recipes' trained checkpoints (recipes/mini/{asr,tts}/exp16, else
exp14) are skipped with a note when those are absent. ``--quick`` runs every script's smoke mode
(a few seconds each; tiny untrained models where checkpoints are missing). The full run is
sized for about 10 minutes on one core (an estimate from the quick runs; it prints each script's
time).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ONE_THREAD = {
    v: "1" for v in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMBA_NUM_THREADS")
}

# name: (script, arguments of the full run); --quick replaces the arguments with --quick.
BENCHMARKS: dict[str, tuple[str, list[str]]] = {
    "features": ("bench/features.py", ["--rounds", "15"]),
    "tacotron2": ("bench/tacotron2.py", ["--rounds", "5"]),
    "beam_search": ("bench/beam_search.py", ["--rounds", "9"]),
    "training": ("bench/training.py", ["--rounds", "5"]),
    "decoding": ("bench/decoding.py", ["--rounds", "3"]),
    "vocoder": ("bench/vocoder.py", ["--rounds", "5", "--seconds", "5"]),
    "longform": ("bench/longform.py", ["--minutes", "1", "--rounds", "3", "--threads", "1"]),
}
QUICK_EXTRA = {"longform": ["--rounds", "2"]}

# (substring, how many rows have it) of the rows each benchmark reports; the suite and its test check them.
EXPECTED: dict[str, list[tuple[str, int]]] = {
    "features": [("vs librosa", 2), ("vs raw torchaudio", 2), ("profile, FFT alone", 2)],
    "tacotron2": [("Tacotron2 training step", 1), ("Tacotron2 inference, time per decoder step", 1)],
    "beam_search": [("batched vs one at a time", 1)],
    "training": [
        ("padding share", 1),
        ("data loading", 1),
        ("ASR (LAS) training step, bf16", 1),
        ("ST training step, bf16", 1),
        ("TTS (Tacotron2) training step, bf16", 1),
    ],
    "decoding": [("ASR decoding RTF", 1), ("TTS synthesis RTF", 1)],
    "vocoder": [("vs Griffin-Lim", 2), ("vs HiFi-GAN V1", 1)],
    "longform": [("long-form decoding", 2)],
}


def missing_rows(name: str, rows: list[dict]) -> list[str]:
    """The expected rows of benchmark ``name`` that ``rows`` lacks."""
    return [
        f"{text} (x{count})"
        for text, count in EXPECTED[name]
        if sum(text in r["benchmark"] for r in rows if r.get("suite") == name) != count
    ]


def run_benchmark(name: str, quick: bool, work: Path) -> tuple[list[dict], float, str]:
    """Run one script; its rows (a failure row if it failed), its seconds and the end of its output."""
    script, args = BENCHMARKS[name]
    args = ["--quick", *QUICK_EXTRA.get(name, [])] if quick else args
    out = work / f"{name}.json"
    env = {**os.environ, **ONE_THREAD}
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, script, *args, "--out", str(out)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.perf_counter() - start
    output = (proc.stdout + proc.stderr)[-3000:]
    command = " ".join(["OMP_NUM_THREADS=1", "python", script, *args])
    if proc.returncode != 0 or not out.is_file():
        last = [line for line in output.splitlines() if line.strip()][-1:] or ["no output"]
        return (
            [{"benchmark": name, "failed": f"exit {proc.returncode}: {last[0]}", "command": command}],
            seconds,
            output,
        )
    report = json.loads(out.read_text(encoding="utf-8"))
    return report.get("suite_rows", report.get("rows", [])), seconds, output


def cell(value: float, unit: str) -> str:
    """A figure with 4 significant digits and its unit."""
    return f"{value:.4g} {unit}".strip()


def markdown(rows: list[dict], header: str) -> str:
    """The table, then the footnotes (ratios that are not peer time / our time, and notes)."""
    lines = [
        header,
        "",
        "| benchmark | ours | peer | ratio | quartiles | command |",
        "|---|---|---|---:|---:|---|",
    ]
    footnotes: list[str] = []
    for r in rows:
        cmd = f"`{r['command']}`"
        if "skipped" in r or "failed" in r:
            what = f"skipped: {r['skipped']}" if "skipped" in r else f"FAILED: {r['failed']}"
            lines.append(f"| {r['benchmark']} | {what} | | | | {cmd} |")
            continue
        marks = ""
        for text in (r["ratio_means"] if not r["ratio_means"].startswith("peer time /") else "", r["note"]):
            if text:
                if text not in footnotes:
                    footnotes.append(text)
                marks += f"[{footnotes.index(text) + 1}]"
        lines.append(
            f"| {r['benchmark']}{' ' + marks if marks else ''} | "
            f"{r['ours_label']}: {cell(r['ours'], r['unit'])} | "
            f"{r['peer_label']}: {cell(r['peer'], r['unit'])} | {r['ratio']:.3g} | "
            f"{r['q1']:.3g}-{r['q3']:.3g} ({r['rounds']} rounds) | {cmd} |"
        )
    lines.append("")
    lines += [f"[{i}] {text}" for i, text in enumerate(footnotes, 1)]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="every script's smoke mode (a few seconds each)")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "RESULTS.md", help="the Markdown table")
    parser.add_argument("--only", default=",".join(BENCHMARKS), help="comma-separated benchmark names")
    args = parser.parse_args(argv)
    names = [n for n in args.only.split(",") if n]
    if unknown := set(names) - set(BENCHMARKS):
        parser.error(f"--only: unknown {', '.join(sorted(unknown))} (known: {', '.join(BENCHMARKS)})")
    rows: list[dict] = []
    failed = False
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        for name in names:
            got, seconds, output = run_benchmark(name, args.quick, Path(tmp))
            failed |= any("failed" in r for r in got)
            status = "FAILED" if any("failed" in r for r in got) else f"{len(got)} rows"
            print(f"[{time.perf_counter() - start:6.1f} s] {name}: {status} in {seconds:.1f} s", flush=True)
            if any("failed" in r for r in got):
                print(output, file=sys.stderr)
            for r in got:
                r["suite"] = name
            rows += got
            if not any("failed" in r for r in got) and (missing := missing_rows(name, rows)):
                print(f"{name}: rows missing: {', '.join(missing)}", file=sys.stderr)
                failed = True
    import torch

    header = (
        f"# CPU benchmarks{' (--quick: smoke sizes, not figures)' if args.quick else ''}\n\n"
        f"`python bench/suite.py{' --quick' if args.quick else ''}` on "
        f"{datetime.date.today().isoformat()}: {platform.processor() or platform.machine()}, "
        f"{os.cpu_count()} cores, torch {torch.__version__}, Python {platform.python_version()}; "
        f"{time.perf_counter() - start:.0f} s in all. One thread everywhere, contenders interleaved "
        "(ours, peer, ours, peer, ...); ratio = median of the per-round ratios peer / ours (for times:\n"
        "peer time / our time, so > 1 means ours is faster; footnotes say where a row's ratio differs),\n"
        "with the quartiles of those ratios."
    )
    text = markdown(rows, header)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    print(text, end="")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
