"""LJSpeech 1.1 (keithito.com/LJ-Speech-Dataset): ``speech prepare ljspeech``.

Layout, as ``LJSpeech-1.1.tar.bz2`` unpacks::

    metadata.csv        "<id>|<raw text>|<normalized text>" lines, no header, no quoting
    wavs/<id>.wav       22.05 kHz, 16-bit mono

Text: the normalized column (numbers and abbreviations spelled out), or the raw one where the
normalized column is empty. Speaker ``LJ``, language ``en``.

Split (deterministic, independent of file order and of skipped audio): every well-formed
metadata line is ranked by ``sha1("<seed>:<id>")``; the first ``test`` ids form the test set,
the next ``dev`` the dev set, the rest the training set; each split keeps corpus order. The
defaults (500 test, 100 dev, seed 0) give the common 12,500 / 100 / 500 sizes on the 13,100
clips; the ids are drawn by this hash, not copied from any published file list.

Skipped and counted: lines without ``|``-separated text or whose id is not a plain file name,
empty texts, repeated ids, missing or unreadable wavs.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from data_prep.cli import add_common_args, print_summary, run_options
from data_prep.common import (
    Candidate,
    PrepSummary,
    Skips,
    clean_text,
    hold_out,
    prepare_corpus,
    read_lines,
    require_dir,
)
from speech.errors import SpeechError
from speech.io import safe_name

SPEAKER = "LJ"
_HELP = (
    "LJSpeech 1.1: D/metadata.csv (id|raw|normalized) and D/wavs/*.wav. Writes O/{train,dev,test}.jsonl "
    "with the normalized text; the split ranks ids by sha1(seed:id): the first --test ids are test, the next "
    "--dev dev (12,500/100/500 on the full corpus)."
)


def prepare_ljspeech(
    corpus_dir: str | Path,
    out_dir: str | Path,
    dev: int = 100,
    test: int = 500,
    seed: int = 0,
    jobs: int = 1,
    progress: bool = True,
    force: bool = False,
) -> PrepSummary:
    """Write ``OUT/{train,dev,test}.jsonl``; see the module docstring for the split.

    Args:
        corpus_dir: The ``LJSpeech-1.1`` folder.
        out_dir: Output folder.
        dev: Development utterances.
        test: Test utterances.
        seed: Seed of the split's ranking.
        jobs: Worker threads reading wav headers.
        progress: Show progress bars.
        force: Redo even when up to date.

    Raises:
        SpeechError: A missing folder or ``metadata.csv``, bad sizes, or too few lines to split.
    """
    root = require_dir(Path(corpus_dir).resolve(), "the LJSpeech folder")
    if dev < 1 or test < 1:
        raise SpeechError(f"--dev and --test must be at least 1, got {dev} and {test}")
    metadata = root / "metadata.csv"
    if not metadata.is_file():
        raise SpeechError(f"{metadata}: no such file (the LJSpeech index)")

    def scan(skips: Skips) -> dict[str, list[Candidate]]:
        candidates = read_metadata(metadata, skips)
        return split_ljspeech(candidates, dev, test, seed, metadata)

    options = {"corpus_dir": str(root), "dev": dev, "test": test, "seed": seed}
    return prepare_corpus("ljspeech", Path(out_dir), options, scan, jobs, progress, force)


def read_metadata(metadata: Path, skips: Skips) -> list[Candidate]:
    """The utterances of ``metadata.csv`` in file order (audio ``wavs/<id>.wav`` beside it)."""
    wavs = metadata.parent / "wavs"
    candidates: list[Candidate] = []
    seen: set[str] = set()
    for number, line in enumerate(read_lines(metadata, "the LJSpeech index"), start=1):
        if not line.strip():
            continue
        where = f"{metadata}:{number}"
        fields = line.split("|")
        utt_id = fields[0].strip()
        if len(fields) not in (2, 3) or not _plain_name(utt_id):
            skips.add("malformed line", f"{where}: expected 'id|raw text|normalized text', got {line[:60]!r}")
            continue
        text = clean_text(fields[2] if len(fields) == 3 else "") or clean_text(fields[1])
        if not text:
            skips.add("empty transcript", f"{where}: no text for {utt_id}")
            continue
        if utt_id in seen:
            skips.add("duplicate id", f"{where}: id '{utt_id}' already used")
            continue
        seen.add(utt_id)
        candidates.append(Candidate(utt_id, str(wavs / f"{utt_id}.wav"), text, speaker=SPEAKER, lang="en"))
    return candidates


def _plain_name(utt_id: str) -> bool:
    """Whether an id can name ``wavs/<id>.wav`` (no separator, ``..``, control character)."""
    try:
        safe_name(utt_id)
    except SpeechError:
        return False
    return True


def split_ljspeech(
    candidates: list[Candidate], dev: int, test: int, seed: int, metadata: Path
) -> dict[str, list[Candidate]]:
    """``{"train", "dev", "test"}`` by the hash ranking of the module docstring, each in corpus order."""
    if len(candidates) <= dev + test:
        raise SpeechError(
            f"{metadata}: {len(candidates)} usable lines, too few for {dev} dev and {test} test "
            "utterances plus training data (lower --dev/--test)"
        )
    return hold_out(candidates, dev, test, seed)


def add_cli(targets: argparse._SubParsersAction) -> None:
    """Register ``speech prepare ljspeech``."""
    p = targets.add_parser(
        "ljspeech", help="LJSpeech 1.1 -> OUT/{train,dev,test}.jsonl (TTS)", description=_HELP
    )
    add_common_args(p, "the LJSpeech-1.1 folder (holding metadata.csv and wavs/)")
    p.add_argument("--dev", type=int, default=100, metavar="N", help="dev utterances (default: %(default)s)")
    p.add_argument(
        "--test", type=int, default=500, metavar="N", help="test utterances (default: %(default)s)"
    )
    p.add_argument("--seed", type=int, default=0, help="seed of the split (default: %(default)s)")
    p.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    summary = prepare_ljspeech(
        args.corpus_dir, args.out_dir, args.dev, args.test, args.seed, **run_options(args)
    )
    return print_summary(summary, args)
