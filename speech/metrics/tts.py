"""Objective scores of synthesized speech, side by side with the reference recordings.

Intelligibility is the WER of independent recognizers on the audio (pocketsphinx with a
language model built from the training text, or with its general English one, and, when one is
given, our own ASR model);
quality is the DTW-aligned mel-cepstral distortion against the reference recording of the
same text, and naturalness DNSMOS's predicted P.808 MOS and P.835 OVRL (Microsoft's
non-intrusive models, :mod:`speech.metrics.quality`) of each set, the recordings included;
the synthesis statistics (real-time factor, stop rate, alignment health) come from
``speech synthesize --manifest``'s ``synth.stats.json``.

**Copy-synthesis** rows isolate the vocoder: each reference recording is read at the mel front
end's sample rate (resampled when it differs, as ``speech train vocoder`` reads it), turned into
log-mels and back into audio, with no TTS model involved (:func:`copy_synthesizers`): by
Griffin-Lim (:data:`GRIFFIN_LIM_ITERS` iterations, phases seeded with :data:`COPY_SEED`) and, when
one is given, by a neural vocoder, both on the vocoder's own features (``LogMelConfig.tts()``
without one). Besides the scores above, these rows get the fidelity scores STOI and wide-band
PESQ against the recording (PESQ where the ``pesq`` package imports); audio synthesized from text
is not time-aligned with the recording, so its rows have none.

Rows, in table order: ``synthesized`` (the TTS model's audio from the texts),
``copy_griffin_lim``, ``copy_vocoder``, ``reference`` (the recordings).
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import NamedTuple

import torch

from speech.audio import load, resample
from speech.data import read_manifest
from speech.errors import SpeechError
from speech.features import LogMel, LogMelConfig, MelInverter
from speech.metrics import stats as stats_file
from speech.metrics.intelligibility import intelligibility_wer, judge, normalize_for_wer
from speech.metrics.mcd import mel_cepstral_distortion
from speech.metrics.quality import dnsmos, pesq_available, pesq_wb, stoi

GRIFFIN_LIM_ITERS = 32
"""Griffin-Lim iterations of the copy-synthesis row (``speech synthesize``'s default)."""
COPY_SEED = 0
"""Seed of Griffin-Lim's initial phases, the same for every recording."""

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
    stoi: float | None = None
    pesq: float | None = None
    stoi_items: int | None = None
    """Utterances STOI is defined for (enough speech left after pystoi drops silent frames)."""


class CopySynthesis(NamedTuple):
    """A vocoder that turns the recordings' own log-mels back into audio (one copy-synthesis row)."""

    key: str
    """The row's key (``copy_griffin_lim`` or ``copy_vocoder``)."""
    label: str
    """The row's name in the table."""
    vocoder: Callable[..., object]
    """``vocoder(log_mel (1, T, F), frame_lengths (1,), generator=...) -> VocoderOutput``."""
    features: LogMelConfig
    """The mel front end of its input."""


def copy_synthesizers(griffin_lim: bool, vocoder: str | os.PathLike | None = None) -> list[CopySynthesis]:
    """The copy-synthesis rows asked for: Griffin-Lim (with ``griffin_lim`` or a vocoder), the vocoder.

    The mel features are the vocoder's own, or ``LogMelConfig.tts()`` without one.

    Raises:
        SpeechError: One line naming ``vocoder``: missing, not a vocoder checkpoint, bad metadata or
            weights that do not fit.
    """
    if not griffin_lim and vocoder is None:
        return []
    features, neural = LogMelConfig.tts(), None
    if vocoder is not None:
        from speech.inference.vocoder import NeuralVocoder

        neural = NeuralVocoder.from_checkpoint(vocoder, device="cpu")
        features = neural.features
    rows = [
        CopySynthesis(
            "copy_griffin_lim",
            f"copy-synthesis (Griffin-Lim {GRIFFIN_LIM_ITERS})",
            MelInverter(features, n_iter=GRIFFIN_LIM_ITERS),
            features,
        )
    ]
    if neural is not None:
        label = f"copy-synthesis (vocoder `{os.fspath(vocoder)}`)".replace("|", "\\|")
        rows.append(CopySynthesis("copy_vocoder", label, neural, features))
    return rows


def score_tts(
    synth_manifest: str | os.PathLike | Sequence[str | os.PathLike],
    reference_manifest: str | os.PathLike,
    train_manifest: str | os.PathLike | None,
    asr_model: str | os.PathLike | None = None,
    judge_lm: str = "task",
    copies: Sequence[CopySynthesis] = (),
) -> dict[str, AudioScores]:
    """Score synthesized audio, copy-synthesis of the recordings, and the recordings themselves.

    Args:
        synth_manifest: ``synth.jsonl`` of ``speech synthesize --manifest`` (ids of the reference),
            or several (e.g. one per vocoder) of the same ids: rows ``synthesized``,
            ``synthesized_2``, ... (see :func:`synth_keys`).
        reference_manifest: The manifest whose texts were synthesized (its recordings are the reference).
        train_manifest: Its texts build pocketsphinx's task language model (unused, and may be
            None, with ``judge_lm="general"``).
        asr_model: Our ASR checkpoint, scored as a second recognizer when given.
        judge_lm: pocketsphinx's language model: ``"task"`` or ``"general"`` (see
            :data:`~speech.metrics.intelligibility.JUDGE_LMS`).
        copies: Copy-synthesis rows (:func:`copy_synthesizers`) of the same recordings.

    Returns:
        ``{"synthesized": AudioScores, ..., <copy.key>: AudioScores ..., "reference": AudioScores}``;
        only the copy-synthesis rows have ``stoi`` and ``pesq`` (None without the ``pesq`` package).

    Raises:
        SpeechError: A bad or missing manifest, unreadable audio, a synthesized id missing from
            the reference manifest, references with no words to score, or a recording PESQ cannot
            score (naming it), or synthesized sets of different ids.
    """
    manifests = [synth_manifest] if isinstance(synth_manifest, str | os.PathLike) else list(synth_manifest)
    sets = [read_manifest(m) for m in manifests]
    synthesized = sets[0]
    for other, path in zip(sets[1:], manifests[1:], strict=True):
        if sorted(u.id for u in other) != sorted(u.id for u in synthesized):
            raise SpeechError(f"{path}: its ids differ from those of {manifests[0]}")
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

    def score(waves: list[torch.Tensor], rates: list[int], recordings=None, fidelity=False) -> AudioScores:
        pairs = list(zip(waves, rates, strict=True))
        ps = intelligibility_wer(recognizer, pairs, texts)
        asr = _asr_wer(transcriber, pairs, texts)
        mcd = stoi_ = pesq = stoi_items = None
        if recordings is not None:  # time-aligned with ``waves`` when ``fidelity``
            triples = list(zip(recordings, waves, rates, strict=True))
            mcd = _mean(mel_cepstral_distortion(ref, w, r) for ref, w, r in triples)
            if fidelity:
                values = [v for v in (stoi(ref, w, r) for ref, w, r in triples) if math.isfinite(v)]
                stoi_, stoi_items = (_mean(values) if values else None), len(values)
                if pesq_available():
                    pesq = _mean(_pesq(ref, w, r, u.id) for (ref, w, r), u in zip(triples, refs, strict=True))
        mos = [dnsmos(w, r) for w, r in pairs]
        p808, ovrl = (_mean(getattr(m, k) for m in mos) for k in ("p808", "ovrl"))
        return AudioScores(len(waves), ps, asr, mcd, p808, ovrl, stoi_, pesq, stoi_items)

    scores = {}
    for key, utterances in zip(synth_keys(len(sets)), sets, strict=True):
        by_id = {u.id: u for u in utterances}
        ordered = [by_id[u.id] for u in synthesized]  # the order of the texts
        rates = [u.sample_rate for u in ordered]
        waves = [load(u.audio) for u in ordered]
        recordings = [load(u.audio, r) for u, r in zip(refs, rates, strict=True)]
        scores[key] = score(waves, rates, recordings)
    for copy in copies:
        rate = copy.features.sample_rate
        recordings = [load(u.audio, rate) for u in refs]
        front_end = LogMel(copy.features)
        waves = [_copy_synthesis(front_end, copy.vocoder, w) for w in recordings]
        scores[copy.key] = score(waves, [rate] * len(waves), recordings, fidelity=True)
    scores["reference"] = score([load(u.audio) for u in refs], [u.sample_rate for u in refs])
    return scores


def synth_keys(n: int) -> list[str]:
    """The score keys of ``n`` synthesized sets: ``synthesized``, ``synthesized_2``, ..."""
    return ["synthesized"] + [f"synthesized_{i}" for i in range(2, n + 1)]


def synth_label(stats: dict) -> str:
    """A synthesized set's name when several are compared: ``synthesized (<its vocoder>)``."""
    vocoder = stats.get("vocoder")
    if vocoder not in (None, "griffin-lim"):
        return f"synthesized (vocoder `{vocoder}`)".replace("|", "\\|")
    iters = stats.get("griffin_lim_iters")
    return f"synthesized (Griffin-Lim {iters})" if iters is not None else "synthesized"


def _copy_synthesis(
    front_end: LogMel, vocoder: Callable[..., object], recording: torch.Tensor
) -> torch.Tensor:
    """The recording (T,) at the front end's rate, through its log-mels and the vocoder, as (T',)."""
    with torch.no_grad():
        features, frame_lengths = front_end(recording[None])
        out = vocoder(features, frame_lengths, generator=torch.Generator().manual_seed(COPY_SEED))
    return out.waveforms[0, : int(out.lengths[0])].detach().float().cpu()


def _pesq(reference: torch.Tensor, degraded: torch.Tensor, rate: int, name: str) -> float:
    try:
        return pesq_wb(reference, degraded, rate)
    except SpeechError as e:
        raise SpeechError(f"copy-synthesis of {name!r}: {e}") from None


def _mean(values: Iterable[float]) -> float:
    values = list(values)
    return sum(values) / len(values)


def _transcriber(asr_model: str | os.PathLike | None):
    if asr_model is None:
        return None
    from speech.inference import Transcriber

    return Transcriber.from_checkpoint(asr_model)


def _asr_wer(transcriber, waves_with_rates: list[tuple[torch.Tensor, int]], texts: list[str]) -> float | None:
    """Our ASR model's corpus WER on the waveforms (None without a model)."""
    if transcriber is None:
        return None
    import jiwer

    rate = transcriber.sample_rate
    hyps = [t.text for t in transcriber.transcribe([resample(w, r, rate) for w, r in waves_with_rates])]
    return float(jiwer.wer([normalize_for_wer(t) for t in texts], [normalize_for_wer(h) or "" for h in hyps]))


def tts_results_markdown(
    scores: dict[str, AudioScores],
    stats: dict | Sequence[dict],
    exp_dir: str | os.PathLike,
    asr_model: str | None,
    judge_lm: str = "task",
    labels: dict[str, str] | None = None,
) -> str:
    """RESULTS.md text: one row per set of audio, then the synthesis statistics.

    ``labels`` names rows in the table (``{CopySynthesis.key: CopySynthesis.label}``); a row
    without one is named by its key. The STOI and PESQ columns appear when a row has STOI (a
    copy-synthesis row); the other rows show ``–`` there. ``stats`` holds the synthesis
    statistics of each synthesized set (one dict for one set); with several sets, each is named
    by its vocoder (:func:`synth_label`).
    """
    all_stats = [stats] if isinstance(stats, dict) else list(stats)
    labels = dict(labels or {})
    if len(all_stats) > 1:
        for key, s in zip(synth_keys(len(all_stats)), all_stats, strict=True):
            labels.setdefault(key, synth_label(s))

    def pct(x: float | None) -> str:
        return "–" if x is None else f"{100 * x:.2f}"

    def num(key: str, digits: int) -> str:
        return "–" if stats.get(key) is None else f"{stats[key]:.{digits}f}"

    def count(key: str) -> str:
        return "–" if stats.get(key) is None else str(stats[key])

    def two(x: float | None) -> str:
        return "–" if x is None else f"{x:.2f}"

    fidelity = any(s.stoi is not None for s in scores.values())
    header = (
        "| audio | utterances | pocketsphinx WER % | our ASR WER % | MCD dB (DTW) | DNSMOS P.808 "
        "| DNSMOS OVRL |"
    )
    rule = "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"
    if fidelity:
        header += " STOI | PESQ (WB) |"
        rule += " ---: | ---: |"
    lines = ["# Results", "", f"Experiment: `{exp_dir}`", "", header, rule]
    for name, s in scores.items():
        cells = [pct(s.pocketsphinx_wer), pct(s.asr_wer), two(s.mcd), two(s.dnsmos_p808), two(s.dnsmos_ovrl)]
        if fidelity:
            cells += ["–" if s.stoi is None else f"{s.stoi:.3f}", two(s.pesq)]
        lines.append(f"| {labels.get(name, name)} | {s.utterances} | " + " | ".join(cells) + " |")
    several = len(all_stats) > 1
    lines += [
        "",
        ("| audio " if several else "")
        + "| stopped by itself % | diagonality | focus rate | monotonicity | RTF (text to waveform) | "
        "Griffin-Lim iterations | threads |",
        ("| --- " if several else "") + "| ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for key, stats in zip(synth_keys(len(all_stats)), all_stats, strict=True):
        cells = [
            pct(stats.get("stop_rate")),
            *(num(k, 3) for k in ("diagonality", "focus_rate", "monotonicity")),
            num("rtf", 4),
            count("griffin_lim_iters"),
            count("threads"),
        ]
        lines.append(("| " + labels[key] + " " if several else "") + "| " + " | ".join(cells) + " |")
    lines += [
        "",
        _JUDGE_NOTES[judge_lm]
        + "; "
        + (f"our ASR model: `{asr_model}`." if asr_model else "no ASR model was given."),
        _rows_note(scores, all_stats, labels),
        "Diagonality: share of decoder steps whose attention peak lies within 20% of the input length "
        "of the diagonal. DNSMOS: mean over the set of the peak-normalised audio's predicted MOS "
        "(P.808) and overall quality (P.835 OVRL), 1 to 5.",
    ]
    if fidelity:
        lines.append(
            "STOI (0 to 1) and wide-band PESQ (ITU-T P.862.2 at 16 kHz, 1.04 to 4.64): means over the "
            "set of each copy-synthesis against its recording; audio synthesized from text is not "
            "time-aligned with the recording, so it has none."
            + ("" if pesq_available() else " PESQ was not measured: the `pesq` package is not installed.")
            + _stoi_items_note(scores, labels)
        )
    lines.append("")
    return "\n".join(lines)


def _stoi_items_note(scores: dict[str, AudioScores], labels: dict[str, str]) -> str:
    """Which rows' STOI leaves utterances out (too little speech for pystoi), if any."""
    short = [
        f"{labels.get(k, k)}: {s.stoi_items} of {s.utterances}"
        for k, s in scores.items()
        if s.stoi_items is not None and s.stoi_items < s.utterances
    ]
    if not short:
        return ""
    return (
        " STOI leaves out the utterances with less than 384 ms of speech after pystoi drops the "
        "silent frames (it is not defined for them): " + "; ".join(short) + "."
    )


def _rows_note(scores: dict[str, AudioScores], all_stats: list[dict], labels: dict[str, str]) -> str:
    """What each row's audio is: the TTS model's vocoder, the copy-synthesis front end."""
    if len(all_stats) > 1:
        note = "Rows: synthesized = the TTS model with the vocoder named, from the texts"
    else:
        stats = all_stats[0]
        vocoder = stats.get("vocoder")
        if vocoder not in (None, "griffin-lim"):
            made = f"TTS model + the vocoder `{vocoder}`"
        elif stats.get("griffin_lim_iters") is not None:
            made = f"TTS model + Griffin-Lim, {stats['griffin_lim_iters']} iterations"
        else:
            made = "TTS model"
        note = f"Rows: synthesized = the {made}, from the texts"
    if any(k.startswith("copy_") for k in scores):
        note += (
            "; copy-synthesis = the recordings' own log-mels turned back into audio by the vocoder "
            "named, no TTS model involved (it isolates the vocoder)"
        )
    return note + "; reference = the recordings."


def read_stats(path: str | os.PathLike) -> dict:
    """``synth.stats.json`` as a dict ({} when absent), checked (see :mod:`speech.metrics.stats`).

    A ``vocoder`` string (the checkpoint ``speech synthesize --vocoder`` used, or ``griffin-lim``)
    is kept too.

    Raises:
        SpeechError: ``path: problem`` for a corrupt file or a value of the wrong type.
    """
    stats = stats_file.read_stats(path, stats_file.SYNTH_STATS)
    if Path(path).exists():  # read_stats has checked that it holds a JSON object
        vocoder = json.loads(Path(path).read_text(encoding="utf-8")).get("vocoder")
        if isinstance(vocoder, str) and vocoder:
            stats["vocoder"] = vocoder
    return stats
