r"""CoVoST 2 (github.com/facebookresearch/covost): ``speech prepare covost2``.

CoVoST 2 ships translations only: ``covost_v2.<src>_<tgt>.tsv`` (from
``covost_v2.<src>_<tgt>.tsv.tar.gz``; tab-separated, a header line, no quoting, ``\`` escapes)
with the columns ``path``, ``translation`` and ``split`` (``train``, ``train_covost``, ``dev``,
``test``), and in the released files ``sentence`` and ``client_id`` too. The audio is the Common
Voice (version 4) release of the source language, ``<cv root>/<src>/clips/*.mp3``. Where the
table lacks ``sentence`` or ``client_id``, they are joined from ``<cv root>/<src>/validated.tsv``
by ``path``, as the official ``get_covost_splits.py`` does.

Output ``OUT/{train,dev,test}.jsonl``: ``train`` holds both ``train`` and ``train_covost`` rows.
By default every split with rows in the table is written (all three in the released tables).
Fields: ``id`` (clip name), ``audio`` (the clip), ``text`` (source sentence), ``translation``,
``speaker`` (client id), ``lang`` (``src``), ``target_lang`` (``tgt``).

Skipped and counted: malformed lines, unknown split labels, empty sentences or translations,
rows missing from ``validated.tsv`` (when joined), missing or unreadable clips.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from data_prep.cli import add_common_args, csv_list, print_summary, run_options
from data_prep.common import (
    Candidate,
    PrepSummary,
    Row,
    Skips,
    clean_text,
    prepare_corpus,
    read_table,
    require_dir,
)
from data_prep.commonvoice import clip_path, language_folder, require_mp3
from speech.errors import SpeechError

SPLITS = ("train", "dev", "test")
LABELS = {"train": "train", "train_covost": "train", "dev": "dev", "test": "test"}
_HELP = (
    "CoVoST 2: the covost_v2.<src>_<tgt>.tsv table joined with the Common Voice clips D/<src>/clips/*.mp3. "
    "Writes O/{train,dev,test}.jsonl with text, translation, lang and target_lang."
)


def prepare_covost2(
    corpus_dir: str | Path,
    out_dir: str | Path,
    src: str,
    tgt: str,
    covost_dir: str | Path | None = None,
    splits: Sequence[str] | None = None,
    jobs: int = 1,
    progress: bool = True,
    force: bool = False,
) -> PrepSummary:
    """Write ``OUT/<split>.jsonl`` for each split.

    Args:
        corpus_dir: The Common Voice folder holding ``<src>/clips`` (or the ``<src>`` folder).
        out_dir: Output folder.
        src: Source language code (Common Voice's), e.g. ``fr`` or ``en``.
        tgt: Target language code, e.g. ``en`` or ``de``.
        covost_dir: Folder holding ``covost_v2.<src>_<tgt>.tsv`` (default: ``corpus_dir``).
        splits: Splits to write, from ``train``, ``dev``, ``test``; ``None``: each one with rows in
            the table.
        jobs: Worker threads reading mp3 headers.
        progress: Show progress bars.
        force: Redo even when up to date.

    Raises:
        SpeechError: A missing folder or table, a table without a needed column, an unknown
            split, or no mp3 support.
    """
    root = require_dir(Path(corpus_dir).resolve(), "the Common Voice folder")
    folder = language_folder(root, src)
    table = Path(covost_dir).resolve() if covost_dir is not None else root
    tsv = table / f"covost_v2.{src}_{tgt}.tsv"
    if not tsv.is_file():
        raise SpeechError(
            f"{tsv}: no such file (the CoVoST 2 {src}-{tgt} table; unpack "
            f"covost_v2.{src}_{tgt}.tsv.tar.gz there or pass --covost-dir)"
        )
    explicit = splits is not None
    splits = tuple(dict.fromkeys(splits if explicit else SPLITS))
    unknown = [s for s in splits if s not in SPLITS]
    if unknown or not splits:
        raise SpeechError(
            f"unknown CoVoST 2 split '{unknown[0] if unknown else ''}' (known: {', '.join(SPLITS)})"
        )

    def scan(skips: Skips) -> dict[str, list[Candidate]]:
        found = read_covost(tsv, folder, src, tgt, skips)
        if any(c.audio.endswith(".mp3") for cands in found.values() for c in cands):
            require_mp3()
        chosen = splits if explicit else tuple(s for s in splits if found[s]) or splits
        return {split: found[split] for split in chosen}

    options = {
        "corpus_dir": str(folder),
        "table": str(tsv),
        "src": src,
        "tgt": tgt,
        "splits": list(splits) if explicit else "auto",
    }
    return prepare_corpus("covost2", Path(out_dir), options, scan, jobs, progress, force)


def read_covost(tsv: Path, folder: Path, src: str, tgt: str, skips: Skips) -> dict[str, list[Candidate]]:
    """Every usable row of the CoVoST table by split (``train_covost`` counted as ``train``)."""
    rows = read_table(tsv, ("path", "translation", "split"), "the CoVoST 2 table", escapechar="\\")
    joined = _validated(folder, rows)
    found: dict[str, list[Candidate]] = {split: [] for split in SPLITS}
    for where, row in rows:
        if row is None or not row["path"].strip():
            skips.add("malformed line", f"{where}: field count differs from the header's, or no path")
            continue
        name = row["path"].strip()
        split = LABELS.get(row["split"].strip())
        if split is None:
            skips.add("unknown split", f"{where}: split '{row['split']}' is not one of {', '.join(LABELS)}")
            continue
        source = row if joined is None else joined.get(name)
        if source is None:
            skips.add("not in validated.tsv", f"{where}: {name} is not in {folder / 'validated.tsv'}")
            continue
        text, translation = clean_text(source["sentence"]), clean_text(row["translation"])
        if not text or not translation:
            skips.add("empty text", f"{where}: empty {'sentence' if not text else 'translation'} for {name}")
            continue
        audio = clip_path(folder / "clips", name)
        if audio is None:
            skips.add("malformed line", f"{where}: path {name!r} is not a file name in {folder / 'clips'}")
            continue
        found[split].append(
            Candidate(
                Path(audio.name).stem,
                str(audio),
                text,
                source["client_id"].strip() or None,
                translation,
                src,
                tgt,
            )
        )
    return found


def _validated(folder: Path, rows: list[Row]) -> dict[str, dict[str, str]] | None:
    """Common Voice's ``validated.tsv`` by path when the CoVoST table lacks sentence or client id."""
    first = next((row for _, row in rows if row is not None), None)
    if first is None or ("sentence" in first and "client_id" in first):
        return None
    table = read_table(
        folder / "validated.tsv", ("path", "sentence", "client_id"), "Common Voice validated clips"
    )
    return {row["path"].strip(): row for _, row in table if row is not None}


def add_cli(targets: argparse._SubParsersAction) -> None:
    """Register ``speech prepare covost2``."""
    p = targets.add_parser(
        "covost2", help="CoVoST 2 <src>-<tgt> -> OUT/{train,dev,test}.jsonl (ST)", description=_HELP
    )
    add_common_args(p, "the Common Voice folder holding <src>/clips (and, by default, the CoVoST table)")
    p.add_argument("--src", required=True, help="source language (Common Voice code), e.g. fr")
    p.add_argument("--tgt", required=True, help="target language, e.g. en")
    p.add_argument(
        "--covost-dir",
        type=Path,
        default=None,
        metavar="DIR",
        help="folder holding covost_v2.<src>_<tgt>.tsv (default: --corpus-dir)",
    )
    p.add_argument(
        "--splits",
        type=csv_list,
        default=None,
        metavar="S1,S2",
        help="splits to write (default: each of train,dev,test with rows in the table)",
    )
    p.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    summary = prepare_covost2(
        args.corpus_dir, args.out_dir, args.src, args.tgt, args.covost_dir, args.splits, **run_options(args)
    )
    return print_summary(summary, args)
