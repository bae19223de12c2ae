"""MuST-C (ict.fbk.eu/must-c): ``speech prepare mustc``.

Layout, as ``MUSTC_v1.0_<pair>.tar.gz`` (or v2/v3) unpacks::

    <pair>/data/<split>/wav/ted_<talk>.wav        whole TED talks, 16 kHz mono
    <pair>/data/<split>/txt/<split>.yaml          one entry per segment: duration, offset,
                                                  rest_or_speaker_id, speaker_id, wav
    <pair>/data/<split>/txt/<split>.en            the English transcript, a line per segment
    <pair>/data/<split>/txt/<split>.<tgt>         the translation, a line per segment

for the splits ``train``, ``dev``, ``tst-COMMON`` and ``tst-HE`` (by default every one found under
``data/``; a named split must exist). Segments are cut from the talks
by ``offset``/``duration`` into ``OUT/wav/<split>/<talk>_<k>.wav`` (``k`` counts the talk's
segments in yaml order, which is offset order in the released files, as in fairseq's ids), each
talk opened once and read with seeks; a segment running past the end of its talk is cut at the
end; a cut that already exists with the right length is kept, so an interrupted run resumes.

Output ``OUT/<split>.jsonl``: ``id`` ``<talk>_<k>``, ``audio`` (relative to ``OUT``), ``text``,
``translation``, ``speaker`` (``speaker_id``), ``lang`` ``en``, ``target_lang``.

A yaml whose segment count differs from its text files' line counts cannot be aligned and is
an error; a malformed entry (a ``wav`` that is not a plain file name included), an empty text, a
missing talk or a segment outside its talk is skipped and counted.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

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
from data_prep.parallel import Cut
from speech.errors import SpeechError
from speech.io import child_path, safe_name

SPLITS = ("train", "dev", "tst-COMMON", "tst-HE")
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_HELP = (
    "MuST-C: D/<pair>/data/<split>/{wav/*.wav, txt/<split>.yaml, txt/<split>.en, txt/<split>.<tgt>}. "
    "Cuts the yaml segments into O/wav/<split>/*.wav and writes O/<split>.jsonl."
)


def prepare_mustc(
    corpus_dir: str | Path,
    out_dir: str | Path,
    pair: str = "en-de",
    splits: Sequence[str] | None = None,
    jobs: int = 1,
    progress: bool = True,
    force: bool = False,
) -> PrepSummary:
    """Cut the segments and write ``OUT/<split>.jsonl`` for each split.

    Args:
        corpus_dir: The folder holding ``<pair>/`` (or the ``<pair>`` folder itself).
        out_dir: Output folder (manifests and cut audio).
        pair: Language pair, ``en-<tgt>``.
        splits: Splits to prepare; ``None``: every one of :data:`SPLITS` found.
        jobs: Worker processes cutting segments (one talk at a time each).
        progress: Show progress bars.
        force: Redo even when up to date (existing cuts of the right length are kept).

    Raises:
        SpeechError: A missing folder or index file, a malformed yaml, or text files whose
            line counts differ from the yaml's segment count.
    """
    src, _, tgt = pair.partition("-")
    if src != "en" or not tgt or "/" in tgt or tgt in (".", ".."):
        raise SpeechError(f"MuST-C pairs look like en-<tgt>, e.g. en-de, got '{pair}'")
    root = require_dir(Path(corpus_dir).resolve(), "the MuST-C folder")
    pair_dir = (
        root if root.name == pair and not (root / pair).is_dir() else require_dir(root / pair, "MuST-C pair")
    )
    if splits is None:
        data = pair_dir / "data"
        splits = present_parts(SPLITS, lambda s: (data / s).is_dir(), data, "MuST-C splits", "{}/")
    splits = tuple(dict.fromkeys(splits))
    if not splits:
        raise SpeechError("no splits given")
    for split in splits:
        require_dir(pair_dir / "data" / safe_name(split, "split"), f"MuST-C split {split}")
    out = Path(out_dir)

    def scan(skips: Skips) -> dict[str, list[Candidate]]:
        return {
            split: read_split(pair_dir / "data" / split, split, tgt, out.resolve(), skips) for split in splits
        }

    options = {"corpus_dir": str(pair_dir), "pair": pair, "splits": list(splits)}
    return prepare_corpus("mustc", out, options, scan, jobs, progress, force)


def read_split(folder: Path, split: str, tgt: str, out: Path, skips: Skips) -> list[Candidate]:
    """The segments of one split, aligned with their transcripts and translations."""
    txt = folder / "txt"
    entries = load_segments(txt / f"{split}.yaml")
    english = read_lines(txt / f"{split}.en", "MuST-C transcripts")
    target = read_lines(txt / f"{split}.{tgt}", "MuST-C translations")
    for path, lines in ((txt / f"{split}.en", english), (txt / f"{split}.{tgt}", target)):
        if len(lines) != len(entries):
            raise SpeechError(
                f"{path}: {len(lines)} lines, but {txt / (split + '.yaml')} has {len(entries)} "
                "segments; they must align line by line"
            )
    talks = {p.name for p in (folder / "wav").glob("*.wav")}
    counters: dict[str, int] = {}
    candidates: list[Candidate] = []
    for number, (entry, text, translation) in enumerate(zip(entries, english, target, strict=True), start=1):
        where = f"{txt / (split + '.yaml')}: segment {number}"
        segment = _check_entry(entry)
        if isinstance(segment, str):
            skips.add("malformed segment", f"{where}: {segment}")
            continue
        wav, offset, duration, speaker = segment
        talk = Path(wav).stem
        k = counters[talk] = counters.get(talk, -1) + 1
        if wav not in talks:
            skips.add("missing audio", f"{folder / 'wav' / wav}: no such file ({where})")
            continue
        text, translation = clean_text(text), clean_text(translation)
        if not text or not translation:
            skips.add("empty text", f"{where}: empty {'transcript' if not text else 'translation'}")
            continue
        utt_id = f"{talk}_{k}"
        audio = child_path(out / "wav" / split, utt_id, ".wav", "segment id")
        cut = Cut(str(folder / "wav" / wav), offset, duration, str(audio))
        candidates.append(Candidate(utt_id, str(audio), text, speaker, translation, "en", tgt, cut))
    return candidates


def load_segments(path: Path) -> list[Any]:
    """The yaml's list of segment entries (one-line ``SpeechError`` when missing or malformed)."""
    text = "\n".join(read_lines(path, "MuST-C segments"))
    try:
        entries = yaml.load(text, Loader=_LOADER)  # noqa: S506 - a safe loader
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        raise SpeechError(
            f"{path}{line}: invalid YAML ({getattr(e, 'problem', None) or 'syntax error'})"
        ) from None
    if not isinstance(entries, list):
        raise SpeechError(f"{path}: expected a list of segments, got {type(entries).__name__}")
    return entries


def _check_entry(entry: Any) -> tuple[str, float, float, str | None] | str:
    """``(wav, offset, duration, speaker)`` of a yaml entry, or what is wrong with it."""
    if not isinstance(entry, dict):
        return f"expected a mapping, got {type(entry).__name__}"
    wav = entry.get("wav")
    if not isinstance(wav, str) or not wav.endswith(".wav") or not _plain_name(wav[: -len(".wav")]):
        return f"'wav' must name a .wav file in wav/, got {wav!r:.80}"
    values = []
    for key in ("offset", "duration"):
        value = entry.get(key)
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            return f"'{key}' must be a number, got {value!r}"
        values.append(float(value))
    if values[0] < 0 or values[1] <= 0:
        return f"need offset >= 0 and duration > 0, got {values[0]} and {values[1]}"
    speaker = entry.get("speaker_id")
    return wav, values[0], values[1], str(speaker) if speaker is not None else None


def _plain_name(stem: str) -> bool:
    try:
        safe_name(stem)
    except SpeechError:
        return False
    return not stem.startswith(".")


def add_cli(targets: argparse._SubParsersAction) -> None:
    """Register ``speech prepare mustc``."""
    p = targets.add_parser(
        "mustc", help="MuST-C <pair> -> OUT/<split>.jsonl with cut segments (ST)", description=_HELP
    )
    add_common_args(p, "the MuST-C folder holding <pair>/ (or the <pair> folder itself)")
    p.add_argument("--pair", default="en-de", help="language pair (default: %(default)s)")
    p.add_argument(
        "--splits",
        type=csv_list,
        default=None,
        metavar="S1,S2",
        help=f"splits to prepare (default: every one of {','.join(SPLITS)} found)",
    )
    p.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    summary = prepare_mustc(args.corpus_dir, args.out_dir, args.pair, args.splits, **run_options(args))
    return print_summary(summary, args)
