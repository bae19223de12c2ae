"""Parallel audio work for corpus preparation: header reads and segment cutting.

Header reads run in a thread pool (they wait on the disk, and libsndfile calls release the
GIL; threads also start at once, where forking a process holding torch takes a good fraction
of a second); segment cuts, which decode and encode audio, run in worker processes (``fork``
where available, so nothing is re-imported). Both work on chunks, show a tqdm bar, and never
raise for one bad file: each item's result is either the :class:`~speech.audio.io.AudioInfo` of
the (written) file or a ``"path: problem"`` string that the caller counts as a skipped
utterance. The result does not depend on the worker count.

Durations come from headers (``soundfile.info``): nothing is decoded except the frames a
segment cut needs, read with ``seek`` + ``read`` from a file opened once per source.
"""

from __future__ import annotations

import multiprocessing
import signal
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from multiprocessing.pool import ThreadPool
from pathlib import Path
from typing import TypeVar

import numpy as np
import soundfile as sf
from tqdm import tqdm

from speech import audio
from speech.audio.io import AudioInfo
from speech.errors import SpeechError

Result = AudioInfo | str
"""The header of a readable file, or ``"path: problem"``."""

T = TypeVar("T")
R = TypeVar("R")


@dataclass(frozen=True)
class Cut:
    """One segment to cut from a longer recording.

    Attributes:
        source: The recording (any format soundfile reads).
        start: Segment start in seconds.
        duration: Segment length in seconds; ``None`` runs to the end of the recording.
        out: The (mono, 16-bit) wav file to write.
    """

    source: str
    start: float
    duration: float | None
    out: str


def read_header(path: str) -> Result:
    """The header of one audio file, or ``"path: problem"`` when it is missing or unreadable."""
    try:
        header = audio.info(path)
    except SpeechError as e:
        return str(e)
    if header.frames <= 0:
        return f"{path}: audio file has no samples"
    return header


def read_headers(
    paths: list[str], jobs: int = 1, progress: bool = True, desc: str = "headers"
) -> list[Result]:
    """Read many headers in ``jobs`` processes; results are in the order of ``paths``."""
    size = max(1, min(256, -(-len(paths) // (max(jobs, 1) * 4))))
    chunks = [paths[i : i + size] for i in range(0, len(paths), size)]
    results: list[Result] = []
    for chunk in parallel_map(
        _read_chunk, chunks, jobs, progress, desc, [len(c) for c in chunks], threads=True
    ):
        results.extend(chunk)
    return results


def _read_chunk(paths: list[str]) -> list[Result]:
    return [read_header(p) for p in paths]


def cut_segments(
    cuts: list[Cut], jobs: int = 1, progress: bool = True, desc: str = "cutting"
) -> list[Result]:
    """Cut segments into wav files, each source opened once; results are in the order of ``cuts``.

    A segment file that already exists with the expected length is kept (a resumed run).
    """
    by_source: dict[str, list[int]] = {}
    for index, cut in enumerate(cuts):
        by_source.setdefault(cut.source, []).append(index)
    groups = [[cuts[i] for i in indices] for indices in by_source.values()]
    results: list[Result] = [""] * len(cuts)
    done = parallel_map(_cut_source, groups, jobs, progress, desc, [len(g) for g in groups], threads=False)
    for indices, group_results in zip(by_source.values(), done, strict=True):
        for index, result in zip(indices, group_results, strict=True):
            results[index] = result
    return results


def _cut_source(cuts: list[Cut]) -> list[Result]:
    """Cut every segment of one source, in order of start time, from one open file."""
    source = cuts[0].source
    try:
        header = audio.info(source)
        handle = sf.SoundFile(source)
    except (SpeechError, sf.LibsndfileError, RuntimeError) as e:
        return [str(e) if isinstance(e, SpeechError) else f"{source}: not a readable audio file"] * len(cuts)
    results: dict[int, Result] = {}
    with handle:
        for index in sorted(range(len(cuts)), key=lambda i: cuts[i].start):
            results[index] = _cut_one(handle, header, cuts[index])
    return [results[i] for i in range(len(cuts))]


def _cut_one(handle: sf.SoundFile, header: AudioInfo, cut: Cut) -> Result:
    rate = header.sample_rate
    start = round(cut.start * rate)
    stop = header.frames if cut.duration is None else min(start + round(cut.duration * rate), header.frames)
    where = f"{cut.source} [{cut.start:.3f}s +{cut.duration}s]"
    if cut.start < 0 or start >= header.frames or stop <= start:
        return f"{where}: segment lies outside the recording ({header.duration:.3f}s)"
    expected = AudioInfo(rate, stop - start, 1)
    out = Path(cut.out)
    if out.is_file():
        existing = read_header(cut.out)
        if existing == expected:
            return expected
    try:
        handle.seek(start)
        data = handle.read(stop - start, dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError, ValueError) as e:
        return f"{where}: cannot read the segment ({e.__class__.__name__})"
    if data.shape[0] < stop - start:
        return f"{where}: truncated recording ({data.shape[0]} of {stop - start} frames read)"
    mono = data.mean(axis=1) if data.shape[1] > 1 else data[:, 0]  # (T, C) -> (T,)
    if not np.isfinite(mono).all():
        return f"{where}: audio contains NaN or Inf samples"
    try:
        audio.save(out, mono, rate)
    except SpeechError as e:
        return str(e)
    return expected


def parallel_map(
    fn: Callable[[T], R],
    items: list[T],
    jobs: int,
    progress: bool,
    desc: str,
    weights: list[int] | None = None,
    threads: bool = True,
) -> Iterator[R]:
    """``map(fn, items)`` in ``jobs`` threads or processes, in order, with a progress bar.

    Args:
        fn: The work; with processes it must be picklable (a module-level function).
        items: Its arguments.
        jobs: Workers (1 runs in this thread).
        progress: Show the bar (on a terminal).
        desc: The bar's label.
        weights: How far each item advances the bar (default 1 each).
        threads: Threads (for I/O and GIL-releasing calls) or processes.
    """
    weights = weights if weights is not None else [1] * len(items)
    bar = tqdm(
        total=sum(weights), desc=desc, unit="utt", disable=None if progress else True, dynamic_ncols=True
    )
    with bar:
        if jobs <= 1 or len(items) <= 1:
            yield from _advance(map(fn, items), bar, weights)
            return
        if threads:
            with ThreadPool(min(jobs, len(items))) as pool:
                yield from _advance(pool.imap(fn, items), bar, weights)
            return
        methods = multiprocessing.get_all_start_methods()
        context = multiprocessing.get_context("fork" if "fork" in methods else None)
        with context.Pool(min(jobs, len(items)), initializer=_init_worker) as pool:
            yield from _advance(pool.imap(fn, items), bar, weights)


def _advance(results: Iterable[R], bar: tqdm, weights: list[int]) -> Iterator[R]:
    for result, weight in zip(results, weights, strict=False):
        bar.update(weight)
        yield result


def _init_worker() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C stops the parent, which terminates the pool
    # The pool ends its workers with SIGTERM when it closes. A forked copy of the CLI's handler
    # raises its exception in the worker instead of ending it; a worker idle on the task queue then
    # died slowly or not at all (seen: `speech prepare mustc --jobs 2` hung in the pool's join).
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
