"""The peer ASR system: pocketsphinx's general US-English model on a manifest.

RESULTS.md reports our recognizer beside an established one that was never trained on the
corpus: CMU PocketSphinx with its shipped acoustic model, general trigram LM (``en-us.lm.bin``)
and CMU dictionary (:meth:`~speech.metrics.intelligibility.PocketsphinxRecognizer.general`).
References and hypotheses are normalised with
:func:`~speech.metrics.intelligibility.normalize_for_wer` (lower case, numbers as words, no
punctuation, hyphens as spaces) before jiwer scores them, since the peer writes plain words.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from typing import NamedTuple

from speech.audio import load
from speech.data import Utterance, read_manifest
from speech.errors import SpeechError
from speech.io import check_unique, has_control
from speech.metrics.intelligibility import SAMPLE_RATE, judge, normalize_for_wer
from speech.metrics.text import ErrorRates, error_rates


class PeerResult(NamedTuple):
    """The peer's transcripts of a manifest and their scores.

    Attributes:
        ids: Utterance ids, in manifest order.
        references: The manifest's texts, normalised.
        hypotheses: pocketsphinx's transcripts, normalised.
        rates: Corpus WER and CER.
        stats: ``utterances``, ``audio_seconds``, ``decode_seconds``, ``rtf`` and ``threads`` (the
            keys of ``hyp.stats.json``; pocketsphinx decodes on one thread).
    """

    ids: list[str]
    references: list[str]
    hypotheses: list[str]
    rates: ErrorRates
    stats: dict[str, float | int]


def peer_utterances(manifest: str | os.PathLike, limit: int | None = None) -> list[Utterance]:
    """The first ``limit`` utterances of a manifest (all for None), checked for :func:`score_peer`.

    Raises:
        SpeechError: A bad manifest, an id repeated or holding a tab, line break or control
            character (ids key the ``id<TAB>text`` files), or no reference text with words.
    """
    utterances = read_manifest(manifest)[:limit]
    check_unique([u.id for u in utterances], "id", str(manifest))
    for u in utterances:
        if has_control(u.id):
            raise SpeechError(
                f"{manifest}: id {u.id!r} holds a tab, line break or control character "
                "(ids key the id<TAB>text output lines)"
            )
    if not any(normalize_for_wer(u.text or "") for u in utterances):
        raise SpeechError(f"{manifest}: no reference text to score (every 'text' is empty)")
    return utterances


def score_peer(
    utterances: Sequence[Utterance],
    progress: Callable[[int], object] | None = None,
    lm_texts: Sequence[str] = (),
) -> PeerResult:
    """Transcribe utterances with pocketsphinx and score them against their texts.

    The language model is pocketsphinx's general one, or with ``lm_texts`` a task trigram LM
    built from those texts (e.g. a small-vocabulary corpus's training transcripts, as a
    domain-tuned peer would be).

    Every recording is read (and resampled to pocketsphinx's 16 kHz) before decoding starts, so
    an unreadable one fails before the slow part.

    Args:
        utterances: What to transcribe (:func:`peer_utterances`); their ``text`` is the reference.
        progress: Called with 1 after each utterance (a progress bar's ``update``).
        lm_texts: Texts of a task language model; empty uses the general model.

    Returns:
        The transcripts, WER/CER and decoding statistics.

    Raises:
        SpeechError: Unreadable audio (naming the file), no reference with words, or
            pocketsphinx missing.
    """
    references = [normalize_for_wer(u.text or "") for u in utterances]
    if not any(references):
        raise SpeechError("no reference text to score (every 'text' is empty)")
    waveforms = [load(u.audio, SAMPLE_RATE) for u in utterances]
    recognizer = judge("task" if lm_texts else "general", lm_texts)
    hypotheses = []
    start = time.perf_counter()
    for waveform in waveforms:
        hypotheses.append(normalize_for_wer(recognizer.recognize(waveform, SAMPLE_RATE)))
        if progress is not None:
            progress(1)
    seconds = time.perf_counter() - start
    audio_seconds = sum(w.numel() for w in waveforms) / SAMPLE_RATE
    stats = {
        "utterances": len(utterances),
        "audio_seconds": audio_seconds,
        "decode_seconds": seconds,
        "rtf": seconds / max(audio_seconds, 1e-9),
        "threads": 1,
    }
    ids = [u.id for u in utterances]
    return PeerResult(ids, references, hypotheses, error_rates(references, hypotheses), stats)
