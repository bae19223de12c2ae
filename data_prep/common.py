"""What every real-corpus preparation shares: candidates, skip counts, markers, the driver.

A corpus module scans its download into :class:`Candidate` utterances per manifest (one per
split or subset), counting every line or file it cannot use in :class:`Skips` with a reason;
:func:`prepare_corpus` then

1. returns at once ("up to date") when ``OUT/<marker>`` holds the sha256 of the same options
   (corpus folder included) and every manifest it lists exists; ``force`` ignores it;
2. removes the marker, scans, and reads every audio header (or cuts every segment) in ``jobs``
   processes (:mod:`data_prep.parallel`); an unreadable or missing file is a counted skip;
3. writes each manifest ``OUT/<name>.jsonl`` atomically, then the marker, last.

Before any work the output folder, the marker and every manifest are checked writable. Data never
becomes a path outside ``OUT``: a candidate whose id is not a plain file name (``..``, ``/``, NUL,
a line break), whose audio path holds a control character, or whose cut would land outside
``OUT`` is skipped and counted. A corpus with parts (subsets, splits) prepares by default every
known part found on disk (:func:`present_parts`); parts named explicitly must all exist.

Nothing is dropped silently: the summary (and the marker) lists each reason with its count and
a few ``path: problem`` examples. A missing corpus folder or index file is one ``SpeechError``.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from data_prep.builder import ManifestSummary
from data_prep.parallel import Cut, cut_segments, read_headers
from speech.audio.io import AudioInfo
from speech.data.manifest import Utterance, has_control, write_manifest
from speech.errors import SpeechError
from speech.io import atomic_write, check_output_dir, check_output_file, safe_name

PREP_VERSION = 1
"""Bumped when the manifests change for the same options (part of the marker hash)."""
DONE = ".done.json"
EXAMPLES = 3


@dataclass(frozen=True)
class Candidate:
    """An utterance found in the corpus, before its audio header is read.

    Attributes:
        id: Utterance id (unique within its manifest).
        audio: Absolute path of the audio file the manifest will point at.
        text: Source-language transcript.
        speaker: Speaker id.
        translation: Target-language text.
        lang: Source language code.
        target_lang: Target language code.
        cut: When set, ``audio`` is written by cutting this segment from a longer recording.
    """

    id: str
    audio: str
    text: str
    speaker: str | None = None
    translation: str | None = None
    lang: str | None = None
    target_lang: str | None = None
    cut: Cut | None = None


@dataclass
class Skips:
    """Utterances (or lines) left out, counted by reason, with a few ``path: problem`` examples."""

    counts: Counter[str] = field(default_factory=Counter)
    examples: dict[str, list[str]] = field(default_factory=dict)

    def add(self, reason: str, detail: str) -> None:
        """Count one skip; ``reason`` is a short category, ``detail`` reads ``path: problem``."""
        self.counts[reason] += 1
        kept = self.examples.setdefault(reason, [])
        if len(kept) < EXAMPLES:
            kept.append(detail)

    @property
    def total(self) -> int:
        """All skips."""
        return sum(self.counts.values())

    def lines(self) -> list[str]:
        """One line per reason, most frequent first, then its examples indented."""
        rows = []
        for reason, count in sorted(self.counts.items(), key=lambda kv: (-kv[1], kv[0])):
            rows.append(f"skipped {count}: {reason}")
            rows += [f"  {example}" for example in self.examples.get(reason, [])]
        return rows


@dataclass
class PrepSummary:
    """What a preparation produced (or found up to date)."""

    name: str
    out: str
    manifests: list[ManifestSummary]
    skips: Skips = field(default_factory=Skips)
    seconds: float = 0.0
    up_to_date: bool = False

    @property
    def utterances(self) -> int:
        """Utterances over all manifests."""
        return sum(m.utterances for m in self.manifests)

    def as_dict(self) -> dict[str, Any]:
        """The summary as JSON-ready fields (``--json``)."""
        return {
            "corpus": self.name,
            "out": self.out,
            "up_to_date": self.up_to_date,
            "utterances": self.utterances,
            "seconds": round(self.seconds, 3),
            "manifests": [asdict(m) for m in self.manifests],
            "skipped": dict(self.skips.counts),
            "examples": self.skips.examples,
        }

    def table(self) -> str:
        """A printable summary: a headline, one row per manifest, the skip reasons."""
        if self.up_to_date:
            head = f"{self.name}: {self.out} is up to date (same options); use --force to redo it"
        else:
            rate = self.utterances / self.seconds if self.seconds > 0 else 0.0
            head = (
                f"{self.name}: {self.utterances} utterances in {self.seconds:.1f}s ({rate:.0f} utt/s), "
                f"{self.skips.total} skipped -> {self.out}"
            )
        width = max([len("manifest")] + [len(m.path) for m in self.manifests])
        rows = [head, f"{'manifest':<{width}}  {'utts':>7}  {'hours':>8}  {'speakers':>8}"]
        rows += [
            f"{m.path:<{width}}  {m.utterances:>7}  {m.hours:>8.3f}  {m.speakers:>8}" for m in self.manifests
        ]
        return "\n".join(rows + self.skips.lines())


Scan = Callable[[Skips], dict[str, list[Candidate]]]
"""Reads the corpus index into candidates per manifest name, counting what it skips."""


def options_digest(name: str, options: dict[str, Any]) -> str:
    """sha256 of the corpus name, :data:`PREP_VERSION` and the options."""
    blob = json.dumps(
        {"corpus": name, "version": PREP_VERSION, "options": options}, sort_keys=True, default=str
    )
    return hashlib.sha256(blob.encode()).hexdigest()


def up_to_date(name: str, out: Path, options: dict[str, Any], marker: str = DONE) -> PrepSummary | None:
    """The stored summary when ``out`` holds this preparation with these options, else ``None``.

    Raises:
        SpeechError: ``out`` holds another corpus.
    """
    try:
        done = json.loads((out / marker).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(done, dict):
        return None
    if done.get("corpus") not in (None, name):
        raise SpeechError(f"{out} holds the '{done['corpus']}' corpus; choose another --out-dir for '{name}'")
    if done.get("options_sha256") != options_digest(name, options):
        return None
    try:
        manifests = [ManifestSummary(**m) for m in done["manifests"]]
        skips = Skips(Counter(done["skipped"]), done["examples"])
    except (KeyError, TypeError):
        return None
    if not all((out / m.path).is_file() for m in manifests):
        return None
    return PrepSummary(name, str(out), manifests, skips, up_to_date=True)


def prepare_corpus(
    name: str,
    out: Path,
    options: dict[str, Any],
    scan: Scan,
    jobs: int = 1,
    progress: bool = True,
    force: bool = False,
    marker: str = DONE,
) -> PrepSummary:
    """Scan, read headers (or cut segments), write the manifests and the marker; see the module doc.

    Args:
        name: Corpus name (in the marker and the summary).
        out: Output folder; manifests are ``out/<manifest name>.jsonl``.
        options: Everything the output depends on (hashed into the marker); not ``jobs``.
        scan: Reads the corpus index (called only when the output is not up to date).
        jobs: Workers: threads reading headers, processes cutting segments.
        progress: Show progress bars (on a terminal).
        force: Redo even when the marker says the output is up to date.
        marker: Marker file name inside ``out``.

    Raises:
        SpeechError: A missing corpus folder or index file, ``out`` unusable or holding another
            corpus, or a manifest left empty because all of its utterances were skipped.
    """
    if jobs < 1:
        raise SpeechError(f"--jobs must be at least 1, got {jobs}")
    check_output_dir(out)
    check_output_file(out / marker, "completion marker")
    current = None if force else up_to_date(name, out, options, marker)
    if current is not None:
        return current
    (out / marker).unlink(missing_ok=True)
    start = time.monotonic()
    skips = Skips()
    found = {key: confine(cands, out, skips) for key, cands in scan(skips).items()}
    for key in found:
        check_output_file(out / f"{safe_name(key, 'manifest name')}.jsonl", "manifest")
    results = _audio_results(found, jobs, progress, name)
    reported: set[str] = set()  # an audio file in several manifests is one skip, not several
    kept = {key: _utterances(cands, results, skips, reported) for key, cands in found.items()}
    for key, utterances in kept.items():
        if not utterances:
            reasons = ", ".join(f"{n} {reason}" for reason, n in skips.counts.most_common(3))
            raise SpeechError(
                f"{out / (key + '.jsonl')}: no usable utterances "
                f"({'skipped: ' + reasons if reasons else 'none found'})"
            )
    summaries = [_write(out, key, utterances) for key, utterances in kept.items()]
    summary = PrepSummary(name, str(out), summaries, skips, seconds=time.monotonic() - start)
    _write_marker(out / marker, summary, options)
    return summary


def confine(candidates: list[Candidate], out: Path, skips: Skips) -> list[Candidate]:
    """The candidates whose id, audio path and cut are safe to use; the others are counted skips.

    An id must be a plain file name (it names files downstream, e.g. ``speech synthesize``'s
    wavs); an audio path must hold no control character or line break; a cut must write inside
    ``out``.
    """
    root = os.path.abspath(out)
    kept = []
    for c in candidates:
        try:
            safe_name(c.id, "id")
        except SpeechError as e:
            skips.add("id cannot be a file name", f"{c.audio!r}: {e}")
            continue
        if has_control(c.audio):
            skips.add("control character in a path", f"{c.audio!r}: holds a control character (id {c.id!r})")
        elif c.cut is not None and os.path.commonpath([root, os.path.abspath(c.cut.out)]) != root:
            skips.add("path outside the output folder", f"{c.cut.out!r}: outside {out} (id {c.id!r})")
        else:
            kept.append(c)
    return kept


def present_parts(
    known: Sequence[str], exists: Callable[[str], bool], where: Path, what: str, layout: str = "{}"
) -> tuple[str, ...]:
    """The known parts (subsets, splits) found on disk, in ``known`` order: a preparer's default.

    Args:
        known: Every part the corpus may have.
        exists: Whether one part is present.
        where: The corpus folder (for the message).
        what: What a part is called, e.g. ``"LibriSpeech subsets"``.
        layout: How a part appears under ``where``, e.g. ``"{}.tsv"`` (for the message).

    Raises:
        SpeechError: None of them is present; the message lists what was looked for.
    """
    found = tuple(part for part in known if exists(part))
    if not found:
        looked = ", ".join(layout.format(part) for part in known)
        raise SpeechError(f"{where}: none of the {what} found (looked for {looked})")
    return found


def _write_marker(path: Path, summary: PrepSummary, options: dict[str, Any]) -> None:
    """The completion marker, written last: the options, their hash, the manifests and the skips."""
    record = {
        "corpus": summary.name,
        "options_sha256": options_digest(summary.name, options),
        "options": options,
        "manifests": [asdict(m) for m in summary.manifests],
        "skipped": dict(summary.skips.counts),
        "examples": summary.skips.examples,
    }
    with atomic_write(path) as f:
        json.dump(record, f, indent=1, sort_keys=True, ensure_ascii=False, default=str)


def _audio_results(
    found: dict[str, list[Candidate]], jobs: int, progress: bool, name: str
) -> dict[str, AudioInfo | str]:
    """``{audio path: header or "path: problem"}`` for every candidate, read or cut in parallel."""
    plain = sorted({c.audio for cands in found.values() for c in cands if c.cut is None})
    cuts = {c.audio: c.cut for cands in found.values() for c in cands if c.cut is not None}
    results: dict[str, AudioInfo | str] = {}
    if plain:
        results.update(zip(plain, read_headers(plain, jobs, progress, f"{name}: headers"), strict=True))
    if cuts:
        cut_list = list(cuts.values())
        done = cut_segments(cut_list, jobs, progress, f"{name}: cutting")
        results.update(zip(cuts, done, strict=True))
    return results


def _utterances(
    cands: list[Candidate], results: dict[str, AudioInfo | str], skips: Skips, reported: set[str]
) -> list[Utterance]:
    utterances: list[Utterance] = []
    seen: set[str] = set()
    for c in cands:
        header = results[c.audio]
        if isinstance(header, str):
            if c.audio not in reported:
                skips.add(_audio_reason(header), header)
                reported.add(c.audio)
        elif c.id in seen:
            skips.add("duplicate id", f"{c.audio}: id '{c.id}' already used")
        else:
            seen.add(c.id)
            utterances.append(
                Utterance(
                    c.id,
                    c.audio,
                    round(header.duration, 4),
                    header.sample_rate,
                    c.text,
                    c.translation,
                    c.speaker,
                    c.lang,
                    c.target_lang,
                )
            )
    return utterances


def _audio_reason(problem: str) -> str:
    if problem.endswith("no such file"):
        return "missing audio"
    return "segment outside its recording" if "outside the recording" in problem else "unreadable audio"


def _write(out: Path, key: str, utterances: list[Utterance]) -> ManifestSummary:
    path = f"{key}.jsonl"
    write_manifest(utterances, out / path)
    hours = round(sum(u.duration for u in utterances) / 3600, 4)
    return ManifestSummary(path, key, len(utterances), hours, len({u.speaker for u in utterances}))


def require_dir(path: Path, what: str) -> Path:
    """``path`` when it is a folder, else ``SpeechError("path: no such folder (what)")``."""
    if not path.is_dir():
        problem = "not a folder" if path.exists() else "no such folder"
        raise SpeechError(f"{path}: {problem} ({what})")
    return path


def read_lines(path: Path, what: str) -> list[str]:
    """The lines of a UTF-8 text file (a BOM is dropped); one-line ``SpeechError`` when unreadable."""
    try:
        return path.read_text(encoding="utf-8-sig").splitlines()
    except FileNotFoundError:
        raise SpeechError(f"{path}: no such file ({what})") from None
    except UnicodeDecodeError as e:
        raise SpeechError(f"{path}: not UTF-8 text (byte {e.start})") from None
    except OSError as e:
        raise SpeechError(f"{path}: cannot read ({e.strerror or e})") from None


Row = tuple[str, dict[str, str] | None]
"""``("path:line", fields by column name)``, or ``None`` fields for a malformed line."""


def read_table(path: Path, required: tuple[str, ...], what: str, escapechar: str | None = None) -> list[Row]:
    """Read a tab-separated file with a header line, by column name (no quoting, as CV writes them).

    Raises:
        SpeechError: The file is missing, unreadable, empty, or lacks a required column.
    """
    lines = read_lines(path, what)
    if not lines:
        raise SpeechError(f"{path}: empty file ({what})")
    rows = list(csv.reader(lines, delimiter="\t", quoting=csv.QUOTE_NONE, escapechar=escapechar))
    header = rows[0]
    missing = [c for c in required if c not in header]
    if missing:
        raise SpeechError(f"{path}: no '{missing[0]}' column in the header (has: {', '.join(header)})")
    table: list[Row] = []
    for number, row in enumerate(rows[1:], start=2):
        if not row:
            continue
        fields = dict(zip(header, row, strict=False)) if len(row) == len(header) else None
        table.append((f"{path}:{number}", fields))
    return table


def clean_text(text: str) -> str:
    """One line, single spaces, no leading or trailing space."""
    return " ".join(text.split())


def rank(key: str, seed: int = 0) -> str:
    """A stable pseudo-random sort key for deterministic splits (sha1 of ``seed:key``)."""
    return hashlib.sha1(f"{seed}:{key}".encode()).hexdigest()


def hold_out(candidates: list[Candidate], dev: int, test: int, seed: int) -> dict[str, list[Candidate]]:
    """Hold out utterances by hash rank: the first ``test`` ids by :func:`rank` are test, the next ``dev``.

    Returns:
        ``{"train", "dev", "test"}``, each split in corpus order.
    """
    ranked = sorted(candidates, key=lambda c: rank(c.id, seed))
    chosen = {c.id: ("test" if i < test else "dev") for i, c in enumerate(ranked[: dev + test])}
    return {
        split: [c for c in candidates if chosen.get(c.id, "train") == split]
        for split in ("train", "dev", "test")
    }
