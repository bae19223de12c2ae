"""Kaldi data directories: ``speech prepare kaldi`` (import) and ``speech prepare kaldi-export``.

**Import** reads ``wav.scp`` (``<recording> <path>``), ``text`` (``<utt> <transcript>``) and, when
present, ``segments`` (``<utt> <recording> <start> <end>``, end ``-1`` = to the end) and
``utt2spk``, into ``OUT/<name>.jsonl``. Without ``segments`` every utterance is its recording;
with them, the segments are cut into ``OUT/wav/<name>/<utt>.wav`` (each recording opened once).
Relative paths in ``wav.scp`` are resolved against ``base_dir`` (Kaldi runs from the recipe
folder: pass it; default the current folder). ``wav.scp`` entries that are commands
(``sox a.flac -t wav - |``) are skipped with a reason unless ``allow_pipes``, which runs them
through the shell in ``base_dir``, once each, into ``OUT/wav/<name>/recordings/<recording>.wav``; archive
entries (``foo.ark:123``) are skipped. The options hash includes the files' contents. Ids that
become file names (segments, piped recordings) must be plain file names (no ``/``, ``..`` or
control character), so nothing is written outside ``OUT``; others are skipped and counted.

**Export** writes a manifest as a data dir: ``wav.scp``, ``text``, ``utt2spk``, ``spk2utt``,
``utt2dur``, and ``segments`` when needed (several utterances naming one audio file; each then
spans its whole file). Kaldi needs utterance ids that start with their speaker id (so that
``utt2spk`` sorts the same by either column): other ids get ``<speaker>-`` prepended, and
utterances without a speaker are their own speaker. Non-wav audio is piped through
``convert`` (default ``sox <path> -t wav - |``). Kaldi files are line based and split on
whitespace, so a manifest line whose id or speaker holds whitespace, or whose id, speaker, audio
path or text holds a control character or line break, is refused (``manifest:line: problem``)
before anything is written: otherwise a path holding a newline would become a second
``wav.scp`` line, which an import with pipes allowed would run. The output folder and files are
checked writable first; files are sorted (C locale) and written atomically; an export always
rewrites them, so it needs no marker.
"""

from __future__ import annotations

import argparse
import hashlib
import re
import shlex
import subprocess
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import NamedTuple

from data_prep.cli import add_common_args, add_output_options, print_summary, run_options
from data_prep.common import (
    Candidate,
    PrepSummary,
    Skips,
    clean_text,
    prepare_corpus,
    read_lines,
    require_dir,
)
from data_prep.parallel import Cut, parallel_map, read_header
from speech.data.manifest import Utterance, has_control, read_manifest_lines
from speech.errors import SpeechError
from speech.io import atomic_path, atomic_write, check_output_dir, check_output_file, child_path, safe_name

FILES = ("wav.scp", "text", "segments", "utt2spk")
EXPORT_FILES = ("wav.scp", "text", "utt2spk", "spk2utt", "utt2dur")
CONVERT = "sox {path} -t wav - |"
_ARK = re.compile(r"\.ark:\d+$")
Entry = tuple[str, str]
"""``(value, "path:line")`` of one line of a Kaldi table."""


def import_kaldi(
    data_dir: str | Path,
    out_dir: str | Path,
    name: str | None = None,
    base_dir: str | Path | None = None,
    allow_pipes: bool = False,
    lang: str | None = None,
    jobs: int = 1,
    progress: bool = True,
    force: bool = False,
) -> PrepSummary:
    """Import a Kaldi data dir into ``OUT/<name>.jsonl``; see the module docstring.

    Args:
        data_dir: The data dir (holding ``wav.scp`` and ``text``).
        out_dir: Output folder.
        name: Manifest name (default: the data dir's name).
        base_dir: Folder relative ``wav.scp`` paths are resolved against (default: the current one).
        allow_pipes: Run ``wav.scp`` commands instead of skipping them.
        lang: Language code written to every utterance.
        jobs: Worker threads (headers, pipes) and processes (segment cuts).
        progress: Show progress bars.
        force: Redo even when up to date.

    Raises:
        SpeechError: A missing data dir, ``wav.scp`` or ``text``.
    """
    data = require_dir(Path(data_dir).resolve(), "the Kaldi data dir")
    for required in ("wav.scp", "text"):
        if not (data / required).is_file():
            raise SpeechError(f"{data / required}: no such file (a Kaldi data dir needs wav.scp and text)")
    name = safe_name(name or data.name, "manifest name (--name)")
    base = Path(base_dir).resolve() if base_dir is not None else Path.cwd()
    out = Path(out_dir)

    def scan(skips: Skips) -> dict[str, list[Candidate]]:
        return {name: scan_data_dir(data, out.resolve() / "wav" / name, base, allow_pipes, lang, jobs, skips)}

    digest = hashlib.sha256(
        b"".join((data / f).read_bytes() if (data / f).is_file() else b"-" for f in FILES)
    )
    options = {
        "data_dir": str(data),
        "name": name,
        "base_dir": str(base),
        "allow_pipes": allow_pipes,
        "lang": lang,
        "files_sha256": digest.hexdigest(),
    }
    return prepare_corpus(
        "kaldi", out, options, scan, jobs, progress, force, marker=f".done.kaldi-{name}.json"
    )


def read_table(path: Path, skips: Skips, what: str) -> dict[str, Entry]:
    """``{key: (rest of the line, "path:line")}``; lines without a value or repeating a key are skipped."""
    table: dict[str, Entry] = {}
    for number, line in enumerate(read_lines(path, what), start=1):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        fields = line.split(maxsplit=1)
        key, value = fields[0], fields[1] if len(fields) > 1 else ""
        if not value.strip():
            skips.add("malformed line", f"{where}: expected '<id> <value>', got {line[:60]!r}")
        elif key in table:
            skips.add("duplicate id", f"{where}: '{key}' already on {table[key][1]}")
        else:
            table[key] = (value.strip(), where)
    return table


class Recording(NamedTuple):
    """One ``wav.scp`` entry: its audio file, or why it cannot be used."""

    audio: str
    where: str
    reason: str = ""
    detail: str = ""


def scan_data_dir(
    data: Path, work: Path, base: Path, allow_pipes: bool, lang: str | None, jobs: int, skips: Skips
) -> list[Candidate]:
    """The utterances of a data dir, in ``text`` order; segments become cuts into ``work``."""
    texts = read_table(data / "text", skips, "Kaldi transcripts")
    speakers = read_table(data / "utt2spk", skips, "Kaldi speakers") if (data / "utt2spk").is_file() else {}
    recordings = _recordings(
        read_table(data / "wav.scp", skips, "Kaldi recordings"), work, base, allow_pipes, jobs
    )
    segmented = (data / "segments").is_file()
    if segmented:
        spans = _segments(data / "segments", texts, skips)
    else:
        for rec, recording in recordings.items():
            if rec not in texts:
                skips.add("no transcript", f"{recording.where}: '{rec}' has no line in {data / 'text'}")
        spans = {utt: (utt, 0.0, None) for utt in texts}
    candidates = []
    for utt, (text, where) in texts.items():
        if utt not in spans:
            skips.add("no segment", f"{where}: '{utt}' is not in {data / 'segments'}")
            continue
        rec, start, duration = spans[utt]
        recording = recordings.get(rec)
        if recording is None:
            skips.add("no recording", f"{where}: recording '{rec}' is not in {data / 'wav.scp'}")
        elif recording.reason:
            skips.add(recording.reason, recording.detail)
        elif not clean_text(text):
            skips.add("empty transcript", f"{where}: no text for {utt}")
        else:
            target = _file_in(work, utt, where, skips) if segmented else None
            if target == "":
                continue
            cut = Cut(recording.audio, start, duration, target) if target else None
            speaker = speakers[utt][0] if utt in speakers else None
            audio = cut.out if cut else recording.audio
            candidates.append(Candidate(utt, audio, clean_text(text), speaker, lang=lang, cut=cut))
    return candidates


def _file_in(folder: Path, name: str, where: str, skips: Skips) -> str:
    """``folder/<name>.wav`` for an id from the data dir, or "" (a counted skip) when it is no file name."""
    try:
        return str(child_path(folder, name, ".wav", "id"))
    except SpeechError as e:
        skips.add("id cannot be a file name", f"{where}: {e}")
        return ""


def _segments(
    path: Path, texts: dict[str, Entry], skips: Skips
) -> dict[str, tuple[str, float, float | None]]:
    """``{utt: (recording, start, duration or None)}`` of the segments that have a transcript."""
    spans: dict[str, tuple[str, float, float | None]] = {}
    for utt, (value, where) in read_table(path, skips, "Kaldi segments").items():
        fields = value.split()
        try:
            start, end = float(fields[1]), float(fields[2])
        except (IndexError, ValueError):
            start, end = -1.0, -1.0
        if len(fields) != 3 or start < 0 or not (end == -1 or end > start):
            skips.add(
                "malformed line", f"{where}: expected '<utt> <recording> <start> <end>', got {value[:60]!r}"
            )
        elif utt not in texts:
            skips.add("no transcript", f"{where}: segment '{utt}' has no line in {path.parent / 'text'}")
        else:
            spans[utt] = (fields[0], start, None if end == -1 else end - start)
    return spans


def _recordings(
    table: dict[str, Entry], work: Path, base: Path, allow_pipes: bool, jobs: int
) -> dict[str, Recording]:
    """Resolve every ``wav.scp`` entry: a path, a command run into a wav file, or a reason to skip."""
    recordings: dict[str, Recording] = {}
    pipes: dict[str, tuple[str, str, str, str]] = {}
    for rec, (value, where) in table.items():
        if has_control(value) or has_control(rec):
            detail = f"{where}: {value[:60]!r} holds a control character"
            recordings[rec] = Recording("", where, "control character in wav.scp", detail)
        elif value.endswith("|") and allow_pipes:
            try:
                out = str(child_path(work / "recordings", rec, ".wav", "recording id"))
            except SpeechError as e:
                recordings[rec] = Recording("", where, "id cannot be a file name", f"{where}: {e}")
                continue
            pipes[rec] = (value[:-1].strip(), out, str(base), where)
        elif value.endswith("|"):
            detail = f"{where}: '{value[:60]}' is a command; pass --allow-pipes to run it"
            recordings[rec] = Recording("", where, "command pipe in wav.scp", detail)
        elif _ARK.search(value):
            detail = f"{where}: archive offsets ({value[:60]}) are not read"
            recordings[rec] = Recording("", where, "unsupported wav.scp entry", detail)
        else:
            path = Path(value)
            recordings[rec] = Recording(str(path if path.is_absolute() else base / path), where)
    ran = parallel_map(_run_pipe, list(pipes.values()), jobs, False, "pipes")
    recordings.update(zip(pipes, ran, strict=True))
    return {rec: recordings[rec] for rec in table}


def _run_pipe(job: tuple[str, str, str, str]) -> Recording:
    """Run one ``wav.scp`` command (through the shell, in the base folder) into a wav file."""
    command, out, cwd, where = job
    with atomic_path(Path(out)) as tmp, open(tmp, "wb") as f:
        proc = subprocess.run(command, shell=True, cwd=cwd, stdout=f, stderr=subprocess.PIPE, check=False)
    if proc.returncode != 0:
        Path(out).unlink(missing_ok=True)
        message = proc.stderr.decode(errors="replace").strip().splitlines()
        detail = (
            f"{where}: '{command[:60]}' exited with code {proc.returncode} ({message[-1] if message else ''})"
        )
        return Recording("", where, "command pipe failed", detail)
    header = read_header(out)
    if isinstance(header, str):
        return Recording("", where, "command pipe failed", f"{where}: {header}")
    return Recording(out, where)


@dataclass(frozen=True)
class KaldiExport:
    """What :func:`export_kaldi` wrote."""

    out: str
    utterances: int
    speakers: int
    renamed: int
    segments: bool

    def as_dict(self) -> dict[str, object]:
        """The fields as JSON-ready values (``--json``)."""
        return asdict(self)

    def table(self) -> str:
        """One printable line."""
        extra = f", {self.renamed} ids prefixed with their speaker" if self.renamed else ""
        files = "wav.scp, text, utt2spk, spk2utt, utt2dur" + (", segments" if self.segments else "")
        head = f"kaldi-export: {self.utterances} utterances, {self.speakers} speakers{extra}"
        return f"{head} -> {self.out} ({files})"


def export_kaldi(manifest: str | Path, out_dir: str | Path, convert: str = CONVERT) -> KaldiExport:
    """Write a manifest as a Kaldi data dir; see the module docstring.

    Raises:
        SpeechError: An unwritable output, an unreadable manifest, a bad ``convert`` template, a
            manifest line Kaldi cannot hold (see the module docstring), or ids that collide once
            speaker prefixes are added.
    """
    if "{path}" not in convert or not convert.rstrip().endswith("|") or has_control(convert):
        raise SpeechError(f"--convert must hold {{path}}, end with '|' and be one line, got {convert!r}")
    out = check_output_dir(out_dir, "Kaldi data dir")
    for filename in (*EXPORT_FILES, "segments"):
        check_output_file(out / filename, "Kaldi file", inputs=(manifest,))
    rows, renamed = _kaldi_rows(read_manifest_lines(manifest), str(manifest))
    files = _kaldi_files(rows, convert)
    (out / "segments").unlink(missing_ok=True)
    for filename, lines in files.items():
        with atomic_write(out / filename) as f:
            f.write("".join(line + "\n" for line in sorted(lines)))
    return KaldiExport(str(out), len(rows), len(files["spk2utt"]), renamed, "segments" in files)


class _Row(NamedTuple):
    speaker: str
    audio: str
    text: str
    duration: float


def _kaldi_rows(utterances: list[tuple[str, Utterance]], manifest: str) -> tuple[dict[str, _Row], int]:
    """``({Kaldi utterance id: row}, how many ids got a speaker prefix)``; ``where`` is ``file:line``."""
    rows: dict[str, _Row] = {}
    renamed = 0
    for where, u in utterances:
        text = clean_text(u.text)
        _check_kaldi_safe(where, u, text)
        utt = u.id
        speaker = u.speaker or utt
        if not (utt == speaker or (utt.startswith(speaker) and utt[len(speaker)] in "-_")):
            utt, renamed = f"{speaker}-{utt}", renamed + 1
        if utt in rows:
            raise SpeechError(f"{where}: utterance id {utt!r} repeats once prefixed with its speaker")
        rows[utt] = _Row(speaker, u.audio, text, u.duration)
    return rows, renamed


def _check_kaldi_safe(where: str, u: Utterance, text: str) -> None:
    """Refuse what would break Kaldi's line and field structure: whitespace in ids, control characters."""
    for field, value in (("id", u.id), ("speaker", u.speaker or "")):
        if any(c.isspace() for c in value):
            raise SpeechError(f"{where}: {field} {value!r} holds whitespace, which a Kaldi {field} cannot")
    for field, value in (("id", u.id), ("speaker", u.speaker or ""), ("audio", u.audio), ("text", text)):
        if has_control(value):
            raise SpeechError(
                f"{where}: {field} {value[:80]!r} holds a control character or line break, "
                "which a line-based Kaldi file cannot hold"
            )


def _kaldi_files(rows: dict[str, _Row], convert: str) -> dict[str, list[str]]:
    """The lines of each file; an audio file is one recording, named after its first utterance."""
    recording: dict[str, str] = {}
    by_speaker: dict[str, list[str]] = {}
    for utt, row in sorted(rows.items()):
        recording.setdefault(row.audio, utt)
        by_speaker.setdefault(row.speaker, []).append(utt)
    wav = {a: a if a.lower().endswith(".wav") else convert.format(path=shlex.quote(a)) for a in recording}
    files = {
        "wav.scp": [f"{rec} {wav[audio]}" for audio, rec in recording.items()],
        "text": [f"{utt} {row.text}" for utt, row in rows.items()],
        "utt2spk": [f"{utt} {row.speaker}" for utt, row in rows.items()],
        "utt2dur": [f"{utt} {row.duration:.4f}" for utt, row in rows.items()],
        "spk2utt": [f"{spk} {' '.join(utts)}" for spk, utts in by_speaker.items()],
    }
    if len(recording) < len(rows):  # some audio file holds several utterances
        files["segments"] = [
            f"{utt} {recording[row.audio]} 0.00 {row.duration:.4f}" for utt, row in rows.items()
        ]
    return files


def add_cli(targets: argparse._SubParsersAction) -> None:
    """Register ``speech prepare kaldi`` and ``speech prepare kaldi-export``."""
    p = targets.add_parser(
        "kaldi",
        help="import a Kaldi data dir -> OUT/<name>.jsonl",
        description="Import a Kaldi data dir (wav.scp, text, optional segments and utt2spk).",
    )
    add_common_args(p, "the Kaldi data dir (holding wav.scp and text)")
    p.add_argument("--name", default=None, help="manifest name (default: the data dir's name)")
    p.add_argument(
        "--base-dir",
        type=Path,
        default=None,
        metavar="DIR",
        help="folder relative wav.scp paths are resolved against (default: the current one)",
    )
    p.add_argument(
        "--allow-pipes", action="store_true", help="run 'command |' entries of wav.scp (via the shell)"
    )
    p.add_argument("--lang", default=None, help="language code written to every utterance")
    p.set_defaults(func=_run_import)
    e = targets.add_parser(
        "kaldi-export",
        help="write a manifest as a Kaldi data dir",
        description="Write wav.scp, text, utt2spk, spk2utt, utt2dur (and segments) for a manifest.",
    )
    e.add_argument("--manifest", required=True, help="the manifest to export")
    e.add_argument("--out-dir", type=Path, required=True, metavar="D", help="the Kaldi data dir to write")
    e.add_argument("--convert", default=CONVERT, help="pipe for non-wav audio (default: '%(default)s')")
    add_output_options(e)
    e.set_defaults(func=_run_export)


def _run_import(args: argparse.Namespace) -> int:
    summary = import_kaldi(
        args.corpus_dir,
        args.out_dir,
        args.name,
        args.base_dir,
        args.allow_pipes,
        args.lang,
        **run_options(args),
    )
    return print_summary(summary, args)


def _run_export(args: argparse.Namespace) -> int:
    return print_summary(export_kaldi(args.manifest, args.out_dir, args.convert), args)
