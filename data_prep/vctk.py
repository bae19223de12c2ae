"""VCTK 0.92 (datashare.ed.ac.uk/handle/10283/3443): ``speech prepare vctk``.

Layout, as ``VCTK-Corpus-0.92.zip`` unpacks::

    wav48_silence_trimmed/<spk>/<spk>_<nnn>_mic1.flac    48 kHz, leading/trailing silence trimmed
    wav48_silence_trimmed/<spk>/<spk>_<nnn>_mic2.flac    the second microphone
    txt/<spk>/<spk>_<nnn>.txt                            one sentence

Output ``OUT/{train,dev,test}.jsonl`` for one microphone (``--mic``): ``id`` ``<spk>_<nnn>``,
``speaker`` ``<spk>``, ``lang`` ``en``, the sentence as written.

Split (held-out utterances per speaker, deterministic): each speaker's usable utterances are
ranked by ``sha1("<seed>:<id>")``; the first ``test_per_speaker`` go to test, the next
``dev_per_speaker`` to dev, the rest to train, always leaving at least one training utterance
per speaker (so every speaker of dev/test is seen in training: a multi-speaker TTS needs it).

Skipped and counted: audio without a transcript (all of ``p315``, whose text was lost), texts
without audio for the chosen microphone (``p280`` and a few others lack ``mic2``), empty or
unreadable texts, unreadable audio.
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
    require_dir,
)
from speech.errors import SpeechError

MICS = ("mic1", "mic2")
_HELP = (
    "VCTK 0.92: D/wav48_silence_trimmed/<spk>/<spk>_<nnn>_<mic>.flac and D/txt/<spk>/<spk>_<nnn>.txt. "
    "Writes O/{train,dev,test}.jsonl for one microphone, holding out utterances of every speaker."
)


def prepare_vctk(
    corpus_dir: str | Path,
    out_dir: str | Path,
    mic: str = "mic1",
    dev_per_speaker: int = 5,
    test_per_speaker: int = 5,
    seed: int = 0,
    jobs: int = 1,
    progress: bool = True,
    force: bool = False,
) -> PrepSummary:
    """Write ``OUT/{train,dev,test}.jsonl``; see the module docstring for the split.

    Args:
        corpus_dir: The ``VCTK-Corpus-0.92`` folder.
        out_dir: Output folder.
        mic: ``mic1`` or ``mic2``.
        dev_per_speaker: Dev utterances held out per speaker.
        test_per_speaker: Test utterances held out per speaker.
        seed: Seed of the per-speaker ranking.
        jobs: Worker threads reading flac headers.
        progress: Show progress bars.
        force: Redo even when up to date.

    Raises:
        SpeechError: A missing folder, an unknown microphone or bad split sizes.
    """
    root = require_dir(Path(corpus_dir).resolve(), "the VCTK folder")
    if mic not in MICS:
        raise SpeechError(f"unknown microphone '{mic}' (known: {', '.join(MICS)})")
    if dev_per_speaker < 1 or test_per_speaker < 1:
        raise SpeechError(
            f"dev and test per speaker must be at least 1, got {dev_per_speaker}, {test_per_speaker}"
        )
    require_dir(root / "wav48_silence_trimmed", "VCTK 0.92 audio")
    require_dir(root / "txt", "VCTK transcripts")

    def scan(skips: Skips) -> dict[str, list[Candidate]]:
        return scan_vctk(root, mic, dev_per_speaker, test_per_speaker, seed, skips)

    options = {
        "corpus_dir": str(root),
        "mic": mic,
        "dev_per_speaker": dev_per_speaker,
        "test_per_speaker": test_per_speaker,
        "seed": seed,
    }
    return prepare_corpus("vctk", Path(out_dir), options, scan, jobs, progress, force)


def scan_vctk(
    root: Path, mic: str, dev: int, test: int, seed: int, skips: Skips
) -> dict[str, list[Candidate]]:
    """Every speaker's usable utterances, split per speaker (see the module docstring)."""
    wav_root, txt_root = root / "wav48_silence_trimmed", root / "txt"
    speakers = {p.name for p in wav_root.iterdir() if p.is_dir()} | {
        p.name for p in txt_root.iterdir() if p.is_dir()
    }
    splits: dict[str, list[Candidate]] = {"train": [], "dev": [], "test": []}
    for speaker in sorted(speakers):
        found = scan_speaker(wav_root / speaker, txt_root / speaker, mic, skips)
        for split, items in split_speaker(found, dev, test, seed).items():
            splits[split] += items
    return splits


def scan_speaker(wav_dir: Path, txt_dir: Path, mic: str, skips: Skips) -> list[Candidate]:
    """One speaker's utterances that have both a transcript and audio of ``mic``, in id order."""
    speaker = wav_dir.name
    suffix = f"_{mic}.flac"
    audio = {p.name[: -len(suffix)]: p for p in wav_dir.glob(f"*{suffix}")} if wav_dir.is_dir() else {}
    texts = {p.stem: p for p in txt_dir.glob("*.txt")} if txt_dir.is_dir() else {}
    if audio and not texts:
        for utt_id in sorted(audio):
            skips.add("no transcript", f"{audio[utt_id]}: {txt_dir} has no transcripts for speaker {speaker}")
        return []
    candidates: list[Candidate] = []
    for utt_id in sorted(audio.keys() | texts.keys()):
        if utt_id not in texts:
            skips.add("no transcript", f"{audio[utt_id]}: no {txt_dir / (utt_id + '.txt')}")
        elif utt_id not in audio:
            skips.add(
                f"missing {mic} audio", f"{wav_dir / (utt_id + suffix)}: no such file (for {texts[utt_id]})"
            )
        else:
            text = _read_text(texts[utt_id], skips)
            if text:
                candidates.append(Candidate(utt_id, str(audio[utt_id]), text, speaker=speaker, lang="en"))
    return candidates


def _read_text(path: Path, skips: Skips) -> str | None:
    try:
        text = clean_text(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as e:
        skips.add("unreadable transcript", f"{path}: cannot read ({e.__class__.__name__})")
        return None
    if not text:
        skips.add("empty transcript", f"{path}: empty")
    return text


def split_speaker(candidates: list[Candidate], dev: int, test: int, seed: int) -> dict[str, list[Candidate]]:
    """Hold out ``test`` then ``dev`` utterances (by hash rank), keeping at least one for training."""
    held = max(0, min(dev + test, len(candidates) - 1))
    return hold_out(candidates, held - min(test, held), min(test, held), seed)


def add_cli(targets: argparse._SubParsersAction) -> None:
    """Register ``speech prepare vctk``."""
    p = targets.add_parser(
        "vctk", help="VCTK 0.92 -> OUT/{train,dev,test}.jsonl (multi-speaker TTS)", description=_HELP
    )
    add_common_args(p, "the VCTK-Corpus-0.92 folder (holding wav48_silence_trimmed/ and txt/)")
    p.add_argument("--mic", choices=MICS, default="mic1", help="microphone (default: %(default)s)")
    p.add_argument(
        "--dev-per-speaker",
        type=int,
        default=5,
        metavar="N",
        help="dev utterances held out per speaker (default: %(default)s)",
    )
    p.add_argument(
        "--test-per-speaker",
        type=int,
        default=5,
        metavar="N",
        help="test utterances held out per speaker (default: %(default)s)",
    )
    p.add_argument("--seed", type=int, default=0, help="seed of the split (default: %(default)s)")
    p.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    summary = prepare_vctk(
        args.corpus_dir,
        args.out_dir,
        args.mic,
        args.dev_per_speaker,
        args.test_per_speaker,
        args.seed,
        **run_options(args),
    )
    return print_summary(summary, args)
