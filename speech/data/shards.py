"""Sharded datasets: utterances streamed from POSIX tar shards instead of one small file each.

A shard folder (written by ``speech prepare shard``, see :mod:`speech.data.shard_writer`) holds
``shard-000000.tar``, ``shard-000001.tar``, ... with two members per utterance, ``<id>.<ext>`` (the
audio file's bytes as they were, ``ext`` its extension) and ``<id>.json`` (the manifest entry less
``audio``); ``shards.json`` (the shards with their utterance counts and durations, the sample rate,
the source manifest); and ``utterances.jsonl``, the entries of every shard in order with their
shard's name, so that a task reads the texts and durations without opening a tar.

Why WebDataset rather than Lhotse Shar: the shards are plain POSIX tar files that ``tar``, Python's
``tarfile`` or any other tool reads and writes; the package is tiny (it needs ``braceexpand`` and
what we already install); and it is built around an ``IterableDataset`` with node and worker
splitting and shuffle buffers. Lhotse brings a large dependency tree for cuts, features and
recipes we do not use. We take WebDataset's tar streaming and member grouping, and do the
splitting, shuffling and bucketing here, because DDP needs every rank to yield the same number of
batches and a resumed run needs to know where an epoch stopped: both follow from a plan that is
computed from the index (durations only, no audio) the same way on every rank.

How an epoch is read (:class:`ShardDataset`):

1. Shard order: sorted by name; when shuffling, permuted by ``Random(seed, epoch)``.
2. Rank ``r`` of ``w`` takes shards ``r::w`` of that order; DataLoader worker ``i`` of ``n`` takes
   ``i::n`` of the rank's shards (fewer shards than ``w x n`` slots is an error).
3. Each worker streams its shards and gathers ``buffer_size`` utterances at a time; a buffer is
   sorted by duration (with the seeded jitter of :class:`~speech.data.LengthBucketSampler`), cut
   into batches of at most ``max_seconds`` of padded audio, and the batch order shuffled. Only the
   batches yielded are decoded, so a buffer holds compressed bytes, not waveforms.
4. Every rank yields as many batches as the rank with the most: a rank with fewer repeats the
   first batches of its workers (as the bucket sampler repeats batches), so no rank waits on a
   collective that the others never join. The DataLoader takes batches from its workers in turn,
   so the rank's sequence, its length and the batches a resumed run skips are known in advance.
"""

from __future__ import annotations

import io
import json
import os
import random
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf
import torch
import torch.distributed as dist
from torch.utils.data import IterableDataset, get_worker_info

from speech.audio import resample
from speech.data.dataset import Sample, SpeechDataset
from speech.data.manifest import Utterance, json_object, parse_record, read_manifest
from speech.data.sampler import LengthBucketSampler
from speech.errors import AudioError, ManifestError, SpeechError

SHARDS_FILE = "shards.json"
INDEX_FILE = "utterances.jsonl"
FORMAT = "speech-shards"
VERSION = 1


@dataclass(frozen=True)
class ShardInfo:
    """One shard of a shard folder.

    Attributes:
        name: File name inside the folder, e.g. ``shard-000000.tar``.
        utterances: Utterances it holds.
        duration: Their total duration in seconds.
        bytes: Size of the tar file.
    """

    name: str
    utterances: int
    duration: float
    bytes: int


def shard_folder(path: str | os.PathLike) -> Path | None:
    """The shard folder ``path`` names (the folder, or its ``shards.json``), or None for anything else."""
    path = Path(path)
    if path.is_dir() and (path / SHARDS_FILE).is_file():
        return path
    if path.name == SHARDS_FILE and path.is_file():
        return path.parent
    return None


def is_shard_folder(path: str | os.PathLike) -> bool:
    """Whether ``path`` is a shard folder or its ``shards.json`` (else it is taken for a JSONL manifest)."""
    return shard_folder(path) is not None


def read_shard_list(path: str | os.PathLike) -> list[ShardInfo]:
    """The shards listed in a shard folder's ``shards.json``.

    Raises:
        ManifestError: One line naming ``shards.json``: missing, not JSON, or not this format.
    """
    folder = _folder(path)
    where = folder / SHARDS_FILE
    try:
        record = json.loads(where.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ManifestError(f"{where}: cannot read the shard list ({e.__class__.__name__})") from None
    if not isinstance(record, dict) or record.get("format") != FORMAT:
        raise ManifestError(f'{where}: not a shard list (no "format": "{FORMAT}")')
    if record.get("version") != VERSION:
        raise ManifestError(f"{where}: shard list version {record.get('version')!r}, this reads {VERSION}")
    try:
        shards = [ShardInfo(s["name"], s["utterances"], s["duration"], s["bytes"]) for s in record["shards"]]
    except (KeyError, TypeError) as e:
        raise ManifestError(f"{where}: malformed shard entry ({e.__class__.__name__}: {e})") from None
    if not shards:
        raise ManifestError(f"{where}: lists no shards")
    return shards


def read_shard_utterances(path: str | os.PathLike) -> list[Utterance]:
    """Every utterance of a shard folder in shard order, read from its index (no tar is opened).

    Each :class:`~speech.data.Utterance`'s ``audio`` is the absolute path of its shard's tar file.

    Raises:
        ManifestError: ``utterances.jsonl:line: problem`` for a bad entry or one naming an unlisted shard.
    """
    folder = _folder(path).resolve()
    names = {s.name for s in read_shard_list(folder)}
    where = folder / INDEX_FILE
    try:
        lines = where.read_text(encoding="utf-8").split("\n")
    except (OSError, UnicodeDecodeError) as e:
        raise ManifestError(f"{where}: cannot read the shard index ({e.__class__.__name__})") from None
    utterances = []
    for number, line in enumerate(lines, start=1):
        if line.strip():
            record = json_object(line, f"{where}:{number}")
            shard = record.pop("shard", None)
            if shard not in names:
                raise ManifestError(
                    f"{where}:{number}: names shard {shard!r}, which shards.json does not list"
                )
            record["audio"] = str(folder / shard)
            utterances.append(parse_record(record, f"{where}:{number}", folder))
    if not utterances:
        raise ManifestError(f"{where}: the shard index is empty")
    return utterances


def _folder(path: str | os.PathLike) -> Path:
    folder = shard_folder(path)
    if folder is None:
        raise ManifestError(f"{path}: not a shard folder (no {SHARDS_FILE})")
    return folder


def member_key(name: str) -> tuple[str | None, str | None]:
    """Split a tar member name into (utterance id, extension) at its last dot (ids may hold dots)."""
    key, dot, ext = name.rpartition(".")
    return (key, ext) if dot and key else (None, None)


def decode_audio(data: bytes, where: str, sample_rate: int) -> torch.Tensor:
    """Decode audio bytes as :func:`speech.audio.load` decodes a file: mono float32, resampled.

    Raises:
        AudioError: ``where: problem`` for bytes that are not audio, empty, or hold NaN/Inf.
    """
    try:
        samples, rate = sf.read(io.BytesIO(data), dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError, TypeError, ValueError) as e:
        raise AudioError(f"{where}: not readable audio ({str(e).splitlines()[0] if str(e) else e})") from None
    if samples.shape[0] == 0:
        raise AudioError(f"{where}: audio has no samples")
    mono = samples.mean(axis=1) if samples.shape[1] > 1 else samples[:, 0]
    if not np.isfinite(mono).all():
        raise AudioError(f"{where}: audio contains NaN or Inf samples")
    waveform = torch.from_numpy(np.ascontiguousarray(mono))
    return resample(waveform, int(rate), sample_rate) if rate != sample_rate else waveform


@dataclass
class _Record:
    """One utterance on its way through a worker: its duration, and when streamed its entry and audio."""

    duration: float
    utt: Utterance | None = None
    audio: bytes = b""
    where: str = ""


class ShardDataset(IterableDataset):
    """Length-bucketed batches of :class:`~speech.data.Sample` streamed from a shard folder.

    It yields lists of samples (use a DataLoader with ``batch_size=None`` and a
    :class:`~speech.data.Collate` as ``collate_fn``); see the module docstring for how shards are
    split between ranks and workers, shuffled and bucketed. ``len()`` is this rank's number of
    batches in the selected epoch.

    Args:
        folder: The shard folder (or its ``shards.json``).
        items: Turns an utterance and its waveform into a sample: the sample rate, tokenizers
            and transforms of this :class:`~speech.data.SpeechDataset` are used, its utterances not.
        max_seconds: Padded audio per batch, in seconds.
        max_batch_size: Optional cap on utterances per batch.
        shuffle: Shuffle shards, buffers' grouping and batch order per epoch; False reads in order.
        seed: Base seed; epoch ``e`` shuffles with ``(seed, e)``.
        buffer_size: Utterances gathered, sorted and cut into batches at a time.
        num_workers: The DataLoader's worker processes (0 = the main process reads).
        max_duration: Utterances longer than this (s) are left out.
        num_replicas: DDP ranks; defaults to the world size when torch.distributed is initialised.
        rank: This rank; defaults to the process rank.

    Raises:
        SpeechError: A bad shard folder, or fewer shards than ``ranks x workers``.
    """

    def __init__(
        self,
        folder: str | os.PathLike,
        items: SpeechDataset,
        max_seconds: float,
        max_batch_size: int | None = None,
        shuffle: bool = True,
        seed: int = 0,
        buffer_size: int = 2000,
        num_workers: int = 0,
        max_duration: float | None = None,
        num_replicas: int | None = None,
        rank: int | None = None,
    ) -> None:
        if max_seconds <= 0 or buffer_size < 1 or num_workers < 0:
            raise ValueError("max_seconds and buffer_size must be positive, num_workers >= 0")
        self.folder = _folder(folder).resolve()
        self.items = SpeechDataset(
            [],
            items.sample_rate,
            items.text_tokenizer,
            items.translation_tokenizer,
            items.text_transform,
            items.translation_transform,
            items.speaker_ids,
        )
        self.max_seconds, self.max_batch_size = max_seconds, max_batch_size
        self.shuffle, self.seed, self.buffer_size = shuffle, seed, buffer_size
        self.num_workers, self.max_duration = num_workers, max_duration
        distributed = dist.is_available() and dist.is_initialized()
        self.num_replicas = num_replicas or (dist.get_world_size() if distributed else 1)
        self.rank = rank if rank is not None else (dist.get_rank() if distributed else 0)
        if not 0 <= self.rank < self.num_replicas:
            raise ValueError(f"rank {self.rank} is not in [0, {self.num_replicas})")
        self.shards = [s.name for s in read_shard_list(self.folder)]
        slots = self.num_replicas * max(num_workers, 1)
        if len(self.shards) < slots:
            raise SpeechError(
                f"{self.folder}: {len(self.shards)} shards cannot feed {self.num_replicas} rank(s) x "
                f"{max(num_workers, 1)} loader worker(s); write smaller shards (speech prepare shard "
                "--shard-size) or use fewer workers"
            )
        self.durations: dict[str, list[float]] = {name: [] for name in self.shards}
        for utt in read_shard_utterances(self.folder):
            self.durations[Path(utt.audio).name].append(utt.duration)
        self.epoch, self.skip = 0, 0
        self._plan: tuple[int, list[int], list[int]] | None = None

    # Position ------------------------------------------------------------------------------------
    def set_epoch(self, epoch: int) -> None:
        """Select the epoch whose batches the next iteration yields, from its first batch."""
        self.set_position(epoch, 0)

    def set_position(self, epoch: int, skip: int = 0) -> None:
        """Select the epoch and how many of this rank's batches of it the next iteration leaves out."""
        if skip < 0:
            raise ValueError(f"skip must be >= 0, got {skip}")
        self.epoch, self.skip = epoch, skip

    def __len__(self) -> int:
        """This rank's batches in the selected epoch (the same on every rank; ``skip`` not counted)."""
        return sum(self._counts()[1])

    # Plan ----------------------------------------------------------------------------------------
    def slot_shards(self, rank: int, worker: int) -> list[str]:
        """The shards worker ``worker`` of rank ``rank`` reads in the selected epoch, in order."""
        order = sorted(self.shards)
        if self.shuffle:
            random.Random(f"shards:{self.seed}:{self.epoch}").shuffle(order)
        return order[rank :: self.num_replicas][worker :: max(self.num_workers, 1)]

    def _counts(self) -> tuple[list[int], list[int]]:
        """(batches of each of this rank's workers, batches each yields after evening out the ranks)."""
        if self._plan is None or self._plan[0] != self.epoch:
            workers = max(self.num_workers, 1)
            counts = [[self._count(r, w) for w in range(workers)] for r in range(self.num_replicas)]
            target = max(sum(c) for c in counts)
            mine = counts[self.rank]
            if sum(mine) == 0:
                raise SpeechError(f"{self.folder}: rank {self.rank} gets no utterance in epoch {self.epoch}")
            totals, extra, w = list(mine), target - sum(mine), 0
            while extra:  # the rank's shortfall, one batch at a time, over the workers that have batches
                if mine[w % workers]:
                    totals[w % workers] += 1
                    extra -= 1
                w += 1
            self._plan = (self.epoch, mine, totals)
        return self._plan[1], self._plan[2]

    def _count(self, rank: int, worker: int) -> int:
        records = (_Record(d) for s in self.slot_shards(rank, worker) for d in self.durations[s])
        return sum(1 for _ in self._bucket(records, self._rng(rank, worker)))

    def _rng(self, rank: int, worker: int) -> random.Random:
        return random.Random(f"buckets:{self.seed}:{self.epoch}:{rank}:{worker}")

    def _bucket(self, records: Iterator[_Record], rng: random.Random) -> Iterator[list[_Record]]:
        """Gather ``buffer_size`` records, sort them by (jittered) duration, cut and shuffle batches."""
        buffer: list[_Record] = []
        for record in records:
            if self.max_duration is not None and record.duration > self.max_duration:
                continue
            buffer.append(record)
            if len(buffer) == self.buffer_size:
                yield from self._cut(buffer, rng)
                buffer = []
        if buffer:
            yield from self._cut(buffer, rng)

    def _cut(self, buffer: list[_Record], rng: random.Random) -> Iterator[list[_Record]]:
        sampler = LengthBucketSampler(
            [r.duration for r in buffer],
            self.max_seconds,
            self.max_batch_size,
            shuffle=self.shuffle,
            seed=rng.getrandbits(32),
            num_replicas=1,
            rank=0,
        )
        for batch in sampler.all_batches():
            yield [buffer[i] for i in batch]

    # Iteration -----------------------------------------------------------------------------------
    def __iter__(self) -> Iterator[list[Sample]]:
        """This worker's batches of the selected epoch (after the rank's first ``skip`` batches)."""
        info = get_worker_info()
        worker = info.id if info is not None else 0
        if info is not None and info.num_workers != max(self.num_workers, 1):
            raise RuntimeError(f"built for {self.num_workers} loader workers, read by {info.num_workers}")
        totals = self._counts()[1]
        skips, first = _worker_skip(totals, self.skip)
        worker = (worker + first) % len(totals)  # the DataLoader asks worker 0 first: it resumes the turn
        skip = skips[worker]
        shards = self.slot_shards(self.rank, worker)
        yielded = 0
        while yielded < totals[worker]:  # a second pass repeats the first batches (evening out ranks)
            before = yielded
            for batch in self._bucket(self._stream(shards), self._rng(self.rank, worker)):
                if yielded >= skip:
                    yield [self._sample(r) for r in batch]
                yielded += 1
                if yielded == totals[worker]:
                    return
            if yielded == before:
                raise SpeechError(f"{self.folder}: shards {shards} yield no batch; {INDEX_FILE} lists some")

    def _stream(self, shards: list[str]) -> Iterator[_Record]:
        """The records of ``shards`` in order, with their entries and audio bytes."""
        from webdataset.tariterators import group_by_keys, tar_file_expander

        for name in shards:
            path, count = self.folder / name, 0
            try:
                with open(path, "rb") as stream:
                    members = tar_file_expander([{"url": str(path), "stream": stream}])
                    for entry in group_by_keys(members, keys=member_key, lcase=False):
                        record = _record(entry, path, self.folder)
                        count += 1
                        yield record
            except SpeechError:
                raise
            except Exception as e:  # OSError, tarfile.TarError, webdataset's duplicate-member ValueError
                raise SpeechError(f"{path}: cannot read the shard ({_first_line(e)})") from None
            if count != len(self.durations[name]):
                raise SpeechError(
                    f"{path}: holds {count} utterances, {INDEX_FILE} lists {len(self.durations[name])}"
                )

    def _sample(self, record: _Record) -> Sample:
        waveform = decode_audio(record.audio, record.where, self.items.sample_rate)
        return self.items.sample(record.utt, waveform)


def _record(entry: Mapping[str, object], path: Path, folder: Path) -> _Record:
    """The utterance and audio bytes of one grouped tar entry (``__key__``, ``json``, the audio)."""
    key = entry["__key__"]
    where = f"{path}:{key}"
    audio = [k for k in entry if not k.startswith("__") and k != "json"]
    if "json" not in entry or len(audio) != 1:
        raise SpeechError(f"{where}: expected {key}.json and one audio member, found {sorted(entry)}")
    record = json_object(entry["json"].decode("utf-8"), f"{where}.json")
    if record.get("id") != key:
        raise SpeechError(f"{where}.json: id {record.get('id')!r} differs from its member name")
    record["audio"] = str(path)
    utt = parse_record(record, f"{where}.json", folder)
    return _Record(utt.duration, utt, entry[audio[0]], f"{where}.{audio[0]}")


def _worker_skip(totals: list[int], skip: int) -> tuple[list[int], int]:
    """How many of each worker's first batches fall in the rank's first ``skip``, and whose turn is next.

    A DataLoader takes one batch from each worker in turn (a worker that is done drops out), so the
    rank's batches are round 0 of workers 0, 1, ..., then round 1, and so on.
    """
    skips, taken, round_ = [0] * len(totals), 0, 0
    while round_ < max(totals, default=0):
        for w, total in enumerate(totals):
            if round_ < total:
                if taken == skip:
                    return skips, w
                skips[w] += 1
                taken += 1
        round_ += 1
    return skips, 0


def _first_line(e: BaseException) -> str:
    text = str(e.args[0]) if e.args else e.__class__.__name__
    return text.splitlines()[0] if text.strip() else e.__class__.__name__


def read_utterances(path: str | os.PathLike) -> list[Utterance]:
    """The utterances of a JSONL manifest or of a shard folder (from its index), whichever ``path`` is."""
    return read_shard_utterances(path) if is_shard_folder(path) else read_manifest(path)
