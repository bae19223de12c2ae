"""Shared helpers of the CPU benchmarks: one thread, interleaved rounds, per-round ratios, suite rows.

Every row of ``bench/suite.py`` is built here, so that all benchmarks follow the same rules:
one thread (torch, OpenMP and the BLAS libraries), the contenders run in turn within a round
(ours, peer, ours, peer, ...), and the figure is the median of the per-round ratios with their
quartiles (the two runs of a round share the machine's load of the moment).

A row's ``ratio`` is always the peer's figure over ours. For times that is peer time / our time,
so a ratio above 1 means ours is faster; a row whose figure is not a time says what its ratio
means in ``ratio_means``.
"""

from __future__ import annotations

import json
import os
import shlex
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMBA_NUM_THREADS")
ROOT = Path(__file__).resolve().parents[1]
FASTER = "peer time / our time: > 1 means ours is faster"


def limit_environment_threads() -> None:
    """Ask OpenMP and the BLAS libraries for one thread (before numpy or torch is imported)."""
    for name in THREAD_VARIABLES:
        os.environ.setdefault(name, "1")


def one_thread() -> None:
    """One thread for torch (intra- and inter-op where still settable) and the libraries above."""
    limit_environment_threads()
    import torch

    torch.set_num_threads(1)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:  # already set, or parallel work has started
        pass


def interleaved(
    contenders: dict[str, Callable[[], object]], rounds: int, warmup: int = 1, sync: Callable | None = None
) -> dict[str, list[float]]:
    """Seconds of each call of each contender: ``warmup`` untimed rounds, then ``rounds`` in turn."""
    for _ in range(warmup):
        for fn in contenders.values():
            fn()
    times: dict[str, list[float]] = {name: [] for name in contenders}
    for _ in range(rounds):
        for name, fn in contenders.items():
            if sync is not None:
                sync()
            start = time.perf_counter()
            fn()
            if sync is not None:
                sync()
            times[name].append(time.perf_counter() - start)
    return times


def quartiles(values: Sequence[float]) -> tuple[float, float, float]:
    """(first quartile, median, third quartile), inclusive: within the values even for few of them."""
    values = list(values)
    if len(values) == 1:
        return values[0], values[0], values[0]
    q1, _, q3 = statistics.quantiles(values, n=4, method="inclusive")
    return q1, statistics.median(values), q3


def row(
    benchmark: str,
    ours: Sequence[float],
    peer: Sequence[float],
    unit: str,
    ours_label: str,
    peer_label: str,
    command: str,
    ratios: Sequence[float] | None = None,
    ratio_means: str = FASTER,
    note: str = "",
    scale: float = 1.0,
) -> dict:
    """One suite row from per-round figures of ours and the peer (same length, paired by round).

    ``ratios`` defaults to peer / ours per round; ``scale`` multiplies the reported medians (e.g.
    1e3 for seconds shown as ms) and not the ratios.
    """
    if len(ours) != len(peer) or not ours:
        raise ValueError(f"{benchmark}: {len(ours)} figures of ours but {len(peer)} of the peer")
    if ratios is None:
        ratios = [p / o for o, p in zip(ours, peer, strict=True)]
    q1, median, q3 = quartiles(ratios)
    return {
        "benchmark": benchmark,
        "ours_label": ours_label,
        "peer_label": peer_label,
        "ours": statistics.median(ours) * scale,
        "peer": statistics.median(peer) * scale,
        "unit": unit,
        "ratio": median,
        "q1": q1,
        "q3": q3,
        "rounds": len(ratios),
        "ratio_means": ratio_means,
        "command": command,
        "note": note,
    }


def skipped(benchmark: str, command: str, reason: str) -> dict:
    """A row that could not run (e.g. a missing checkpoint), with the reason."""
    return {"benchmark": benchmark, "skipped": reason, "command": command}


def command_line(script: str, argv: Sequence[str] | None = None) -> str:
    """The command that reproduces this run: ``OMP_NUM_THREADS=1 python bench/x.py ARGS`` (less ``--out``)."""
    given = sys.argv[1:] if argv is None else list(argv)
    args, skip = [], False
    for a in given:
        if skip:
            skip = False
        elif a == "--out":
            skip = True
        elif not a.startswith("--out="):
            args.append(a)
    return shlex.join(["OMP_NUM_THREADS=1", "python", script, *args])


def write_json(path: Path | None, report: dict) -> None:
    """Write ``report`` as JSON (NaN allowed) when ``path`` is given."""
    if path is None:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")


def print_rows(rows: Sequence[dict]) -> None:
    """One line per row: the medians, the ratio and its quartiles (or why it was skipped)."""
    for r in rows:
        if "skipped" in r:
            print(f"{r['benchmark']}: skipped ({r['skipped']})")
            continue
        print(
            f"{r['benchmark']}: {r['ours_label']} {r['ours']:.4g} {r['unit']}, {r['peer_label']} "
            f"{r['peer']:.4g} {r['unit']}; ratio {r['ratio']:.3f} [{r['q1']:.3f}, {r['q3']:.3f}] "
            f"over {r['rounds']} rounds ({r['ratio_means']})"
        )


def default_checkpoint(*candidates: str) -> Path | None:
    """The first of ``candidates`` (paths relative to the repo root) that exists, else None."""
    for c in candidates:
        if (ROOT / c).is_file():
            return ROOT / c
    return None
