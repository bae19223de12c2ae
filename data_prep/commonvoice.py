"""Mozilla Common Voice (commonvoice.mozilla.org): ``speech prepare commonvoice``.

Layout, as ``cv-corpus-<version>-<lang>.tar.gz`` unpacks under ``cv-corpus-<version>/``::

    <lang>/{train,dev,test,validated,...}.tsv   tab-separated, a header line, no quoting
    <lang>/clips/common_voice_<lang>_<n>.mp3

Columns are found by header name (``client_id``, ``path``, ``sentence``; the others, which vary
between releases, are ignored). Output ``OUT/<split>.jsonl`` per split: ``id`` (the clip name
without ``.mp3``), ``audio`` (the clip), ``text`` (the sentence as written), ``speaker`` (the
client id), ``lang``. Durations come from the mp3 headers. By default every one of ``train``,
``dev`` and ``test`` whose tsv is present is prepared.

mp3 is read by soundfile when its libsndfile (1.1.0 or later) was built with mpg123, as the
soundfile >= 0.12 wheels are; otherwise :func:`require_mp3` says what to install.

Skipped and counted: lines whose field count differs from the header's or whose ``path`` is not
a plain file name in ``clips/``, empty sentences, missing or unreadable clips.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

import soundfile as sf

from data_prep.cli import add_common_args, csv_list, print_summary, run_options
from data_prep.common import (
    Candidate,
    PrepSummary,
    Skips,
    clean_text,
    prepare_corpus,
    present_parts,
    read_table,
    require_dir,
)
from speech.audio import io as audio_io
from speech.errors import SpeechError
from speech.io import safe_name

SPLITS = ("train", "dev", "test")
_HELP = (
    "Common Voice: D/<lang>/<split>.tsv (columns by header name: client_id, path, sentence) and "
    "D/<lang>/clips/*.mp3. Writes O/<split>.jsonl per split with speaker = client_id."
)


def require_mp3() -> None:
    """Raise a one-line ``SpeechError`` saying what to install when soundfile cannot read mp3."""
    if "MP3" not in audio_io.available_formats():
        raise SpeechError(
            f"soundfile {sf.__version__} uses libsndfile {sf.__libsndfile_version__}, which cannot read mp3: "
            "install soundfile>=0.12 (its wheels bundle libsndfile>=1.1 with mp3: pip install -U soundfile) "
            "or a system libsndfile>=1.1.0 built with mpg123 and lame"
        )


def language_folder(corpus_dir: Path, lang: str) -> Path:
    """``corpus_dir/<lang>``, or ``corpus_dir`` itself when it is the language folder."""
    if (corpus_dir / lang).is_dir():
        return corpus_dir / lang
    if corpus_dir.name == lang and corpus_dir.is_dir():
        return corpus_dir
    return require_dir(corpus_dir / lang, f"Common Voice language '{lang}'")


def prepare_commonvoice(
    corpus_dir: str | Path,
    out_dir: str | Path,
    lang: str,
    splits: Sequence[str] | None = None,
    jobs: int = 1,
    progress: bool = True,
    force: bool = False,
) -> PrepSummary:
    """Write ``OUT/<split>.jsonl`` for each split's tsv.

    Args:
        corpus_dir: The ``cv-corpus-<version>`` folder (or its ``<lang>`` folder).
        out_dir: Output folder.
        lang: Language code, e.g. ``en``, ``fr``, ``zh-CN``.
        splits: tsv names to prepare, e.g. ``train``, ``dev``, ``test``, ``validated``; ``None``:
            every one of :data:`SPLITS` present.
        jobs: Worker threads reading mp3 headers.
        progress: Show progress bars.
        force: Redo even when up to date.

    Raises:
        SpeechError: A missing folder or tsv, a tsv without a needed column, or no mp3 support.
    """
    safe_name(lang, "language")
    folder = language_folder(require_dir(Path(corpus_dir).resolve(), "the Common Voice folder"), lang)
    if splits is None:
        splits = present_parts(
            SPLITS, lambda s: (folder / f"{s}.tsv").is_file(), folder, "Common Voice splits", "{}.tsv"
        )
    splits = tuple(dict.fromkeys(splits))
    if not splits:
        raise SpeechError("no splits given")
    for split in splits:
        safe_name(split, "split")
        if not (folder / f"{split}.tsv").is_file():
            raise SpeechError(f"{folder / (split + '.tsv')}: no such file (Common Voice split {split})")

    def scan(skips: Skips) -> dict[str, list[Candidate]]:
        found = {split: read_split(folder / f"{split}.tsv", lang, skips) for split in splits}
        if any(c.audio.endswith(".mp3") for cands in found.values() for c in cands):
            require_mp3()
        return found

    options = {"corpus_dir": str(folder), "lang": lang, "splits": list(splits)}
    return prepare_corpus("commonvoice", Path(out_dir), options, scan, jobs, progress, force)


def clip_path(clips: Path, name: str) -> Path | None:
    """The clip a tsv ``path`` names (early releases leave out the ``.mp3``); None for a non-file name."""
    try:
        safe_name(name)
    except SpeechError:
        return None
    return clips / (name if Path(name).suffix else f"{name}.mp3")


def read_split(tsv: Path, lang: str, skips: Skips) -> list[Candidate]:
    """The utterances of one split's tsv, in file order."""
    clips = tsv.parent / "clips"
    candidates: list[Candidate] = []
    for where, row in read_table(tsv, ("client_id", "path", "sentence"), "a Common Voice split"):
        if row is None or not row["path"].strip():
            skips.add("malformed line", f"{where}: field count differs from the header's, or no path")
            continue
        text = clean_text(row["sentence"])
        audio = clip_path(clips, row["path"].strip())
        if audio is None:
            skips.add("malformed line", f"{where}: path {row['path']!r} is not a file name in {clips}")
            continue
        if not text:
            skips.add("empty transcript", f"{where}: no sentence for {audio.name}")
            continue
        speaker = row["client_id"].strip() or None
        candidates.append(Candidate(Path(audio.name).stem, str(audio), text, speaker=speaker, lang=lang))
    return candidates


def add_cli(targets: argparse._SubParsersAction) -> None:
    """Register ``speech prepare commonvoice``."""
    p = targets.add_parser(
        "commonvoice", help="Common Voice <lang> -> OUT/<split>.jsonl (ASR)", description=_HELP
    )
    add_common_args(p, "the cv-corpus-<version> folder (holding <lang>/), or the <lang> folder itself")
    p.add_argument("--lang", required=True, help="language code, e.g. en, fr, zh-CN")
    p.add_argument(
        "--splits",
        type=csv_list,
        default=None,
        metavar="S1,S2",
        help="tsv files to prepare (default: each of train,dev,test found; validated, other, ... also work)",
    )
    p.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    summary = prepare_commonvoice(args.corpus_dir, args.out_dir, args.lang, args.splits, **run_options(args))
    return print_summary(summary, args)
