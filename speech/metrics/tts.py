"""Objective scores of synthesized speech, side by side with the reference recordings.

Intelligibility is the WER of independent recognizers on the audio (pocketsphinx with a
language model built from the training text, or with its general English one, and, when one is
given, our own ASR model);
quality is the DTW-aligned mel-cepstral distortion against the reference recording of the
same text, and naturalness DNSMOS's predicted P.808 MOS and P.835 OVRL (Microsoft's
non-intrusive models, :mod:`speech.metrics.quality`) of each set, the recordings included;
the synthesis statistics (real-time factor, stop rate, alignment health) come from
``speech synthesize --manifest``'s ``synth.stats.json``.
"""

from __future__ import annotations

import os
from typing import NamedTuple

from speech.audio import load
from speech.data import read_manifest
from speech.errors import SpeechError
from speech.metrics import stats as stats_file
from speech.metrics.intelligibility import intelligibility_wer, judge, normalize_for_wer
from speech.metrics.mcd import mel_cepstral_distortion
from speech.metrics.quality import dnsmos

_JUDGE_NOTES = {
    "task": "Pocketsphinx uses its English acoustic model with a trigram LM built from the training texts",
    "general": "Pocketsphinx uses its English acoustic model with its general US-English trigram LM "
    "(en-us.lm.bin) and the whole CMU dictionary",
}


class AudioScores(NamedTuple):
    """Scores of one set of recordings (synthesized or reference); None where not measured."""

    utterances: int
    pocketsphinx_wer: float
    asr_wer: float | None
    mcd: float | None
    dnsmos_p808: float | None = None
    dnsmos_ovrl: float | None = None


def score_tts(
    synth_manifest: str | os.PathLike,
    reference_manifest: str | os.PathLike,
    train_manifest: str | os.PathLike | None,
    asr_model: str | os.PathLike | None = None,
    judge_lm: str = "task",
) -> dict[str, AudioScores]:
    """Score synthesized audio and the reference recordings of the same texts.

    Args:
        synth_manifest: ``synth.jsonl`` of ``speech synthesize --manifest`` (ids of the reference).
        reference_manifest: The manifest whose texts were synthesized (its recordings are the reference).
        train_manifest: Its texts build pocketsphinx's task language model (unused, and may be
            None, with ``judge_lm="general"``).
        asr_model: Our ASR checkpoint, scored as a second recognizer when given.
        judge_lm: pocketsphinx's language model: ``"task"`` or ``"general"`` (see
            :data:`~speech.metrics.intelligibility.JUDGE_LMS`).

    Returns:
        ``{"synthesized": AudioScores, "reference": AudioScores}``.

    Raises:
        SpeechError: A bad or missing manifest, unreadable audio, a synthesized id missing from
            the reference manifest, or references with no words to score.
    """
    synthesized = read_manifest(synth_manifest)
    reference = {u.id: u for u in read_manifest(reference_manifest)}
    train_texts = [u.text for u in read_manifest(train_manifest)] if judge_lm == "task" else []
    missing = [u.id for u in synthesized if u.id not in reference]
    if missing:
        raise SpeechError(f"{synth_manifest}: id {missing[0]!r} is not in {reference_manifest}")
    refs = [reference[u.id] for u in synthesized]
    texts = [u.text for u in refs]
    if not any(normalize_for_wer(t) for t in texts):
        raise SpeechError(f"{reference_manifest}: the synthesized texts have no words to score")
    recognizer = judge(judge_lm, train_texts)
    transcriber = _transcriber(asr_model)
    scores = {}
    for name, utterances in (("synthesized", synthesized), ("reference", refs)):
        waves = [load(u.audio) for u in utterances]
        rates = [u.sample_rate for u in utterances]
        ps = intelligibility_wer(recognizer, list(zip(waves, rates, strict=True)), texts)
        asr = _asr_wer(transcriber, [u.audio for u in utterances], texts) if transcriber else None
        mcd = None
        if name == "synthesized":
            pairs = zip(waves, [load(u.audio, rates[0]) for u in refs], strict=True)
            mcd = sum(mel_cepstral_distortion(r, s, rates[0]) for s, r in pairs) / len(waves)
        mos = [dnsmos(w, r) for w, r in zip(waves, rates, strict=True)]
        p808, ovrl = (sum(getattr(m, k) for m in mos) / len(mos) for k in ("p808", "ovrl"))
        scores[name] = AudioScores(len(utterances), ps, asr, mcd, p808, ovrl)
    return scores


def _transcriber(asr_model: str | os.PathLike | None):
    if asr_model is None:
        return None
    from speech.inference import Transcriber

    return Transcriber.from_checkpoint(asr_model)


def _asr_wer(transcriber, paths: list[str], texts: list[str]) -> float:
    import jiwer

    hyps = [t.text for t in transcriber.transcribe(paths)]
    return float(jiwer.wer([normalize_for_wer(t) for t in texts], [normalize_for_wer(h) or "" for h in hyps]))


def tts_results_markdown(
    scores: dict[str, AudioScores],
    stats: dict,
    exp_dir: str | os.PathLike,
    asr_model: str | None,
    judge_lm: str = "task",
) -> str:
    """RESULTS.md text: one row per set of recordings, then the synthesis statistics."""

    def pct(x: float | None) -> str:
        return "–" if x is None else f"{100 * x:.2f}"

    def num(key: str, digits: int) -> str:
        return "–" if stats.get(key) is None else f"{stats[key]:.{digits}f}"

    def count(key: str) -> str:
        return "–" if stats.get(key) is None else str(stats[key])

    lines = [
        "# Results",
        "",
        f"Experiment: `{exp_dir}`",
        "",
        "| audio | utterances | pocketsphinx WER % | our ASR WER % | MCD dB (DTW) | DNSMOS P.808 "
        "| DNSMOS OVRL |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]

    def two(x: float | None) -> str:
        return "–" if x is None else f"{x:.2f}"

    for name, s in scores.items():
        cells = [pct(s.pocketsphinx_wer), pct(s.asr_wer), two(s.mcd), two(s.dnsmos_p808), two(s.dnsmos_ovrl)]
        lines.append(f"| {name} | {s.utterances} | " + " | ".join(cells) + " |")
    lines += [
        "",
        "| stopped by itself % | diagonality | focus rate | monotonicity | RTF (text to waveform) | "
        "Griffin-Lim iterations | threads |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        "| "
        + " | ".join(
            [
                pct(stats.get("stop_rate")),
                *(num(k, 3) for k in ("diagonality", "focus_rate", "monotonicity")),
                num("rtf", 4),
                count("griffin_lim_iters"),
                count("threads"),
            ]
        )
        + " |",
        "",
        _JUDGE_NOTES[judge_lm]
        + "; "
        + (f"our ASR model: `{asr_model}`." if asr_model else "no ASR model was given."),
        "Diagonality: share of decoder steps whose attention peak lies within 20% of the input length "
        "of the diagonal. DNSMOS: mean over the set of the peak-normalised audio's predicted MOS "
        "(P.808) and overall quality (P.835 OVRL), 1 to 5.",
        "",
    ]
    return "\n".join(lines)


def read_stats(path: str | os.PathLike) -> dict:
    """``synth.stats.json`` as a dict ({} when absent), checked (see :mod:`speech.metrics.stats`).

    Raises:
        SpeechError: ``path: problem`` for a corrupt file or a value of the wrong type.
    """
    return stats_file.read_stats(path, stats_file.SYNTH_STATS)
