"""WER of every ``decode_<set>`` folder of an experiment, by the synthesizer engine of each utterance.

Usage: ``python bench/by_engine.py EXP_DIR CORPUS_DIR`` where ``CORPUS_DIR/<set>.jsonl`` holds the
speakers (``decode_test_pocketsphinx`` reads ``test.jsonl``). Texts are normalised as
``speech score report --normalize`` does. Engines: flite (``slt rms awb kal16``), ``festival:...``,
and espeak-ng (every other voice spec).
"""

from __future__ import annotations

import sys
from pathlib import Path

from speech.data import read_manifest
from speech.metrics import error_rates, paired
from speech.metrics.intelligibility import normalize_for_wer

FLITE = ("slt", "rms", "awb", "kal16")


def engine(speaker: str) -> str:
    """The synthesizer that spoke as ``speaker`` (a voice spec)."""
    if speaker in FLITE or speaker.startswith("flite:"):
        return "flite"
    return speaker.split(":")[0] if ":" in speaker else "espeak-ng"


def by_engine(folder: Path, manifest: Path) -> dict[str, tuple[float, int]]:
    """``{engine: (WER, utterances)}`` of one decode folder."""
    speakers = {u.id: u.speaker or "" for u in read_manifest(manifest)}
    ids, refs, hyps = paired(folder / "ref.txt", folder / "hyp.txt")
    groups: dict[str, tuple[list[str], list[str]]] = {}
    for utt, ref, hyp in zip(ids, refs, hyps, strict=True):
        group = groups.setdefault(engine(speakers[utt]), ([], []))
        group[0].append(normalize_for_wer(ref))
        group[1].append(normalize_for_wer(hyp))
    return {name: (error_rates(*texts).wer, len(texts[0])) for name, texts in sorted(groups.items())}


def main(exp: Path, corpus: Path) -> None:
    """Print one line per decode folder whose manifest exists."""
    for folder in sorted(exp.glob("decode_*")):
        name = folder.name.removeprefix("decode_")
        manifest = corpus / f"{name.removesuffix('_pocketsphinx')}.jsonl"
        if (folder / "hyp.txt").is_file() and manifest.is_file():
            cells = [f"{g} {100 * wer:.1f}% ({n})" for g, (wer, n) in by_engine(folder, manifest).items()]
            print(f"{name}: {', '.join(cells)}")


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
