"""LibriSpeech (openslr.org/12): ``speech prepare librispeech``.

Layout, as the tarballs unpack under ``LibriSpeech/``::

    <subset>/<speaker>/<chapter>/<speaker>-<chapter>-<nnnn>.flac
    <subset>/<speaker>/<chapter>/<speaker>-<chapter>.trans.txt   "<speaker>-<chapter>-<nnnn> TEXT" lines

for the subsets :data:`SUBSETS` (by default every one found under the corpus folder, as lhotse's
``auto``: a download of dev-clean and test-clean alone prepares those two). Output:
``OUT/<subset>.jsonl`` per subset, and ``OUT/train.jsonl`` holding every selected ``train-*``
subset together. Fields: ``id`` (the utterance id), ``audio``
(absolute path of the flac), ``duration``/``sample_rate`` from the flac header, ``text`` (as
distributed: upper case, no punctuation), ``speaker``, ``lang`` ``en``. Utterances appear in
speaker, chapter, transcript order.

Skipped and counted: transcript lines that do not read ``<speaker>-<chapter>-<n> TEXT`` or whose
id belongs to another chapter, empty transcripts, lines whose flac is missing or unreadable, flac
files no transcript line names, and chapters without a transcript file.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Sequence
from pathlib import Path

from data_prep.cli import add_common_args, csv_list, print_summary, run_options
from data_prep.common import (
    Candidate,
    PrepSummary,
    Skips,
    clean_text,
    prepare_corpus,
    present_parts,
    read_lines,
    require_dir,
)
from speech.errors import SpeechError

SUBSETS = (
    "train-clean-100",
    "train-clean-360",
    "train-other-500",
    "dev-clean",
    "dev-other",
    "test-clean",
    "test-other",
)
_HELP = (
    "LibriSpeech as unpacked from openslr.org/12: D/<subset>/<speaker>/<chapter>/*.flac and *.trans.txt. "
    "Writes O/<subset>.jsonl per subset and O/train.jsonl with every selected train-* subset."
)
_LINE = re.compile(r"^(\S+)(?:\s+(.*))?$")


def prepare_librispeech(
    corpus_dir: str | Path,
    out_dir: str | Path,
    subsets: Sequence[str] | None = None,
    jobs: int = 1,
    progress: bool = True,
    force: bool = False,
) -> PrepSummary:
    """Write ``OUT/<subset>.jsonl`` for each subset and ``OUT/train.jsonl`` for the train subsets.

    Args:
        corpus_dir: The ``LibriSpeech`` folder holding the subset folders.
        out_dir: Output folder.
        subsets: Subsets to prepare; each must exist under ``corpus_dir``. ``None``: every one of
            :data:`SUBSETS` found there.
        jobs: Worker processes reading flac headers.
        progress: Show progress bars.
        force: Redo even when up to date.

    Raises:
        SpeechError: An unknown or missing subset (or none found), or a subset with no usable
            utterance.
    """
    root = require_dir(Path(corpus_dir).resolve(), "the LibriSpeech folder")
    if subsets is None:
        subsets = present_parts(SUBSETS, lambda s: (root / s).is_dir(), root, "LibriSpeech subsets", "{}/")
    subsets = tuple(dict.fromkeys(subsets))
    if not subsets:
        raise SpeechError("no subsets given")
    for subset in subsets:
        if subset not in SUBSETS:
            raise SpeechError(f"unknown LibriSpeech subset '{subset}' (known: {', '.join(SUBSETS)})")
        require_dir(root / subset, f"LibriSpeech subset {subset}")

    def scan(skips: Skips) -> dict[str, list[Candidate]]:
        found = {subset: scan_subset(root / subset, skips) for subset in subsets}
        train = [c for subset in subsets if subset.startswith("train-") for c in found[subset]]
        return found | ({"train": train} if train else {})

    options = {"corpus_dir": str(root), "subsets": list(subsets)}
    return prepare_corpus("librispeech", Path(out_dir), options, scan, jobs, progress, force)


def scan_subset(folder: Path, skips: Skips) -> list[Candidate]:
    """Every utterance of one subset folder, in speaker, chapter, transcript order."""
    candidates: list[Candidate] = []
    for speaker in sorted(p for p in folder.iterdir() if p.is_dir()):
        for chapter in sorted(p for p in speaker.iterdir() if p.is_dir()):
            candidates += scan_chapter(chapter, skips)
    return candidates


def scan_chapter(chapter: Path, skips: Skips) -> list[Candidate]:
    """The utterances of one ``<speaker>/<chapter>`` folder, checked against its flac files."""
    speaker = chapter.parent.name
    prefix = f"{speaker}-{chapter.name}-"
    trans = chapter / f"{speaker}-{chapter.name}.trans.txt"
    flacs = {p.name for p in chapter.glob("*.flac")}
    if not trans.is_file():
        for name in sorted(flacs):
            skips.add("no transcript file", f"{chapter / name}: {trans.name} is missing")
        return []
    candidates: list[Candidate] = []
    for number, line in enumerate(read_lines(trans, "LibriSpeech transcript"), start=1):
        if not line.strip():
            continue
        where = f"{trans}:{number}"
        match = _LINE.match(line.strip())
        if match is None or not _is_id(match.group(1), prefix):
            skips.add("malformed transcript line", f"{where}: expected '{prefix}<n> TEXT', got {line[:60]!r}")
            continue
        utt_id, text = match.group(1), clean_text(match.group(2) or "")
        audio = chapter / f"{utt_id}.flac"
        if audio.name not in flacs:
            skips.add("missing audio", f"{audio}: no such file (listed in {where})")
            continue
        flacs.discard(audio.name)
        if not text:
            skips.add("empty transcript", f"{where}: no text for {utt_id}")
            continue
        candidates.append(Candidate(utt_id, str(audio), text, speaker=speaker, lang="en"))
    for name in sorted(flacs):
        skips.add("no transcript", f"{chapter / name}: not listed in {trans.name}")
    return candidates


def _is_id(utt_id: str, prefix: str) -> bool:
    return utt_id.startswith(prefix) and utt_id[len(prefix) :].isdigit()


def add_cli(targets: argparse._SubParsersAction) -> None:
    """Register ``speech prepare librispeech``."""
    p = targets.add_parser(
        "librispeech", help="LibriSpeech subsets -> OUT/<subset>.jsonl, OUT/train.jsonl", description=_HELP
    )
    add_common_args(p, "the LibriSpeech folder (holding train-clean-100/, dev-clean/, ...)")
    p.add_argument(
        "--subsets",
        type=csv_list,
        default=None,
        metavar="S1,S2",
        help=f"subsets to prepare (default: every one of {','.join(SUBSETS)} found under --corpus-dir)",
    )
    p.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    return print_summary(
        prepare_librispeech(args.corpus_dir, args.out_dir, args.subsets, **run_options(args)), args
    )
