"""Synthesize a planned corpus into a folder: parallel workers, completion marker, resume.

A corpus script (see :mod:`data_prep.synthetic`, :mod:`data_prep.ding_corpus`) plans everything
up front in a :class:`CorpusPlan`: one :class:`Job` per audio file (text, voice, jitter, rate,
path) and one :class:`ManifestPlan` per manifest. :func:`build_corpus` then

1. returns at once ("up to date") when ``<out>/.done.json`` holds the sha256 of the same
   options and every manifest exists;
2. resumes when ``<out>/.partial.json`` holds that hash (audio files already written are kept:
   each was written atomically, so any that exists is whole); otherwise removes this corpus's
   outputs (the top-level entries its jobs and manifests write into, nothing else in ``out``)
   and writes ``.partial.json``;
3. synthesizes the missing audio in ``jobs`` worker processes (``imap`` over the job list, a
   tqdm bar), each job depending only on its own fields so the result does not depend on the
   worker count; a job whose audio fails the spoken-words check is dropped and counted;
4. writes the manifests, each atomically, only once all audio exists; then ``.done.json`` (last)
   with the hash and the summary, and removes ``.partial.json`` and the scratch folder.

An interrupted run thus leaves no manifest of its own making, or whole ones but no marker; the
next run with the same options resumes, with other options it starts over. Audio paths in the
manifests are relative to the manifest's folder, so two runs give byte-identical manifests.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import multiprocessing
import os
import posixpath
import shutil
import signal
import time
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import torch
from tqdm import tqdm

from data_prep import voices
from speech import audio
from speech.data.manifest import Utterance, write_manifest
from speech.errors import SpeechError
from speech.io import atomic_write, check_output_dir, check_output_file

FORMAT_VERSION = 2
"""Bumped when the generated data changes for the same options (part of the marker hash)."""
DONE = ".done.json"
PARTIAL = ".partial.json"
_WORK = ".work"


@dataclass(frozen=True)
class Job:
    """One audio file to synthesize.

    Attributes:
        id: Utterance id (unique in the corpus).
        text: What the voice says; also the transcript.
        voice: The synthesizer voice.
        tempo: Speaking-rate factor.
        pitch: Pitch factor.
        sample_rate: Rate of the written file in Hz.
        audio: Path of the file relative to the corpus folder (POSIX).
        prosody: Intonation factors the engine applies.
    """

    id: str
    text: str
    voice: voices.Voice
    tempo: float
    pitch: float
    sample_rate: int
    audio: str
    prosody: voices.Prosody = voices.NEUTRAL


@dataclass(frozen=True)
class Entry:
    """One manifest line to be: a job plus the translation it carries."""

    job_id: str
    translation: str | None = None
    target_lang: str | None = None


@dataclass(frozen=True)
class ManifestPlan:
    """One manifest: its path relative to the corpus folder, its split and its lines."""

    path: str
    split: str
    entries: tuple[Entry, ...]


@dataclass(frozen=True)
class CorpusPlan:
    """Everything a corpus run will produce.

    Attributes:
        name: Corpus name, e.g. ``"mini"``.
        out: Corpus folder.
        options: The options that determine the output (hashed into the marker).
        jobs: The audio files.
        manifests: The manifests.
        lang: Source language code written to every manifest line.
    """

    name: str
    out: Path
    options: dict[str, Any]
    jobs: tuple[Job, ...]
    manifests: tuple[ManifestPlan, ...]
    lang: str = "en"

    @property
    def digest(self) -> str:
        """sha256 of the corpus name, :data:`FORMAT_VERSION` and the options."""
        return options_digest(self.name, self.options)


def options_digest(name: str, options: dict[str, Any]) -> str:
    """sha256 of a corpus name, :data:`FORMAT_VERSION` and the options (the marker's hash)."""
    blob = json.dumps(
        {"corpus": name, "version": FORMAT_VERSION, "options": options}, sort_keys=True, default=str
    )
    return hashlib.sha256(blob.encode()).hexdigest()


@dataclass(frozen=True)
class ManifestSummary:
    """Size of one written manifest."""

    path: str
    split: str
    utterances: int
    hours: float
    speakers: int


@dataclass
class CorpusSummary:
    """What a run produced (or found up to date)."""

    name: str
    out: str
    manifests: list[ManifestSummary]
    synthesized: int = 0
    dropped: int = 0
    seconds: float = 0.0
    up_to_date: bool = False
    drop_reasons: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """The summary as JSON-ready fields (``--json``)."""
        return {
            "corpus": self.name,
            "out": self.out,
            "up_to_date": self.up_to_date,
            "synthesized": self.synthesized,
            "dropped": self.dropped,
            "seconds": round(self.seconds, 3),
            "manifests": [asdict(m) for m in self.manifests],
            "drop_reasons": self.drop_reasons,
        }

    def table(self) -> str:
        """A printable summary: a headline and one row per manifest."""
        if self.up_to_date:
            head = f"{self.name}: {self.out} is up to date (same options); delete {DONE} there to regenerate"
        else:
            minutes, seconds = divmod(round(self.seconds), 60)
            head = (
                f"{self.name}: {self.synthesized} audio files in {minutes}m{seconds:02d}s, "
                f"{self.dropped} dropped (spoken words differ from the text) -> {self.out}"
            )
        width = max([len("manifest")] + [len(m.path) for m in self.manifests])
        split = max([len("split")] + [len(m.split) for m in self.manifests])
        columns = f"{'split':<{split}}  {'utts':>6}  {'hours':>7}  {'speakers':>8}"
        rows = [head, f"{'manifest':<{width}}  {columns}"]
        rows += [
            f"{m.path:<{width}}  {m.split:<{split}}  {m.utterances:>6}  {m.hours:>7.3f}  {m.speakers:>8}"
            for m in self.manifests
        ]
        rows += [f"dropped {reason}" for reason in self.drop_reasons[:5]]
        rows += [f"... and {len(self.drop_reasons) - 5} more"] if len(self.drop_reasons) > 5 else []
        return "\n".join(rows)


def build_corpus(plan: CorpusPlan, jobs: int = 1, progress: bool = True) -> CorpusSummary:
    """Synthesize and write a planned corpus, or skip it when the marker says it is up to date.

    Args:
        plan: The corpus plan.
        jobs: Worker processes (1 runs in this process).
        progress: Show a progress bar (on a terminal).

    Returns:
        The summary of the corpus.

    Raises:
        SpeechError: ``out`` holds another corpus, a synthesizer fails, or a manifest ends up
            empty because every one of its utterances was dropped.
    """
    out = plan.out
    check_outputs(plan)
    current = up_to_date(plan.name, out, plan.options)
    if current is not None:
        return current
    _prepare_folder(plan)
    start = time.monotonic()
    results = _synthesize_all(plan, jobs, progress)
    summary = _write_manifests(plan, results)
    summary.seconds = time.monotonic() - start
    with atomic_write(out / DONE) as f:
        marker = {
            "corpus": plan.name,
            "options_sha256": plan.digest,
            "options": plan.options,
            "manifests": [asdict(m) for m in summary.manifests],
            "dropped": summary.dropped,
        }
        json.dump(marker, f, indent=1, sort_keys=True, default=str)
    (out / PARTIAL).unlink(missing_ok=True)
    shutil.rmtree(out / _WORK, ignore_errors=True)
    return summary


def check_outputs(plan: CorpusPlan) -> None:
    """Before any work: the corpus folder, markers and manifests can be written, all inside ``out``.

    Raises:
        SpeechError: One line naming the path that cannot be written, or a planned path that
            would land outside the corpus folder.
    """
    out = check_output_dir(plan.out, "corpus folder")
    root = os.path.abspath(out)
    for relative in _outputs(plan):
        target = os.path.abspath(out / relative)
        if Path(relative).is_absolute() or os.path.commonpath([root, target]) != root or target == root:
            raise SpeechError(f"{plan.name}: planned output {relative!r} is outside {out}")
    for name in (DONE, PARTIAL, *(m.path for m in plan.manifests)):
        check_output_file(out / name, "corpus file")


def up_to_date(name: str, out: Path, options: dict[str, Any]) -> CorpusSummary | None:
    """The stored summary when ``out`` holds a complete corpus made with these options, else ``None``.

    Raises:
        SpeechError: ``out`` holds another corpus.
    """
    done = _read_marker(out / DONE, name)
    if done.get("options_sha256") != options_digest(name, options):
        return None
    try:
        manifests = [ManifestSummary(**m) for m in done["manifests"]]
    except (KeyError, TypeError):
        return None
    if not all((out / m.path).is_file() for m in manifests):
        return None
    return CorpusSummary(name, str(out), manifests, up_to_date=True)


def _read_marker(path: Path, corpus: str) -> dict[str, Any]:
    try:
        marker = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(marker, dict):
        return {}
    if marker.get("corpus") not in (None, corpus):
        raise SpeechError(
            f"{path.parent} holds the '{marker['corpus']}' corpus; choose another --out-dir for '{corpus}'"
        )
    return marker


def _prepare_folder(plan: CorpusPlan) -> None:
    """Resume a partial run of the same options, or clear this corpus's outputs and start over."""
    out = plan.out
    partial_marker = _read_marker(out / PARTIAL, plan.name)
    (out / DONE).unlink(missing_ok=True)
    if partial_marker.get("options_sha256") == plan.digest:
        for folder in {(out / p).parent for p in _outputs(plan)}:
            for stale in folder.glob(".*.tmp*") if folder.is_dir() else ():
                stale.unlink(missing_ok=True)
    else:
        for top in sorted({Path(p).parts[0] for p in _outputs(plan)} | {_WORK}):
            target = out / top
            if top in ("", ".", "..") or not target.resolve().is_relative_to(out.resolve()):
                raise SpeechError(f"refusing to clear '{top}' outside {out}")
            if target.is_dir() and not target.is_symlink():
                shutil.rmtree(target)
            else:
                target.unlink(missing_ok=True)
        with atomic_write(out / PARTIAL) as f:
            json.dump({"corpus": plan.name, "options_sha256": plan.digest}, f)
    shutil.rmtree(out / _WORK, ignore_errors=True)
    (out / _WORK).mkdir()


def _outputs(plan: CorpusPlan) -> list[str]:
    return [job.audio for job in plan.jobs] + [m.path for m in plan.manifests]


def _synthesize_all(plan: CorpusPlan, workers: int, progress: bool) -> dict[str, tuple[float | None, str]]:
    """Run every job; ``{job id: (duration or None when dropped, drop reason)}``."""
    run = partial(_run_job, plan.out)
    bar = tqdm(
        total=len(plan.jobs),
        desc=f"{plan.name}: synthesizing",
        unit="utt",
        disable=None if progress else True,
        dynamic_ncols=True,
    )
    results: dict[str, tuple[float | None, str]] = {}
    with bar:
        if workers <= 1 or len(plan.jobs) <= 1:
            stream = map(run, plan.jobs)
            for job_id, duration, reason in stream:
                results[job_id] = (duration, reason)
                bar.update()
            return results
        methods = multiprocessing.get_all_start_methods()
        context = multiprocessing.get_context("fork" if "fork" in methods else None)
        chunk = max(1, min(16, len(plan.jobs) // (workers * 8)))
        with context.Pool(workers, initializer=_init_worker) as pool:
            for job_id, duration, reason in pool.imap(run, plan.jobs, chunksize=chunk):
                results[job_id] = (duration, reason)
                bar.update()
    return results


def _init_worker() -> None:
    torch.set_num_threads(1)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C stops the parent, which terminates the pool
    # the pool ends its workers with SIGTERM: a forked copy of the CLI's handler would print
    # its exception instead of dying quietly
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _run_job(out: Path, job: Job) -> tuple[str, float | None, str]:
    """Synthesize one job unless its audio already exists; ``(id, duration or None, drop reason)``."""
    path = out / job.audio
    if path.is_file():
        with contextlib.suppress(SpeechError):
            return job.id, round(audio.info(path).duration, 4), ""
        path.unlink()
    work = out / _WORK / f"{job.id}.wav"
    rendered = voices.render(job.voice, job.text, job.tempo, job.pitch, work, job.prosody)
    reason = voices.spoken_mismatch(job.voice, job.text, rendered.words)
    if reason is not None:
        return job.id, None, reason
    waveform = voices.finish(rendered, job.voice, job.pitch, job.sample_rate)
    audio.save(path, waveform, job.sample_rate)
    return job.id, round(waveform.numel() / job.sample_rate, 4), ""


def _write_manifests(plan: CorpusPlan, results: dict[str, tuple[float | None, str]]) -> CorpusSummary:
    jobs = {job.id: job for job in plan.jobs}
    summaries = []
    for manifest in plan.manifests:
        folder = posixpath.dirname(manifest.path) or "."
        utterances = []
        for entry in manifest.entries:
            job, (duration, _) = jobs[entry.job_id], results[entry.job_id]
            if duration is None:
                continue
            utterances.append(
                Utterance(
                    id=job.id,
                    audio=posixpath.relpath(job.audio, folder),
                    duration=duration,
                    sample_rate=job.sample_rate,
                    text=job.text,
                    translation=entry.translation,
                    speaker=job.voice.spec,
                    lang=plan.lang,
                    target_lang=entry.target_lang,
                )
            )
        if not utterances:
            raise SpeechError(f"{plan.out / manifest.path}: every utterance was dropped; check the voices")
        write_manifest(utterances, plan.out / manifest.path)
        hours = sum(u.duration for u in utterances) / 3600
        speakers = len({u.speaker for u in utterances})
        summaries.append(
            ManifestSummary(manifest.path, manifest.split, len(utterances), round(hours, 4), speakers)
        )
    dropped = sorted(f"{job_id}: {reason}" for job_id, (d, reason) in results.items() if d is None)
    return CorpusSummary(
        plan.name,
        str(plan.out),
        summaries,
        synthesized=len(results) - len(dropped),
        dropped=len(dropped),
        drop_reasons=dropped,
    )
