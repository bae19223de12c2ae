"""Text metrics: WER/CER through jiwer, BLEU/chrF through sacrebleu, and id<TAB>text files."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import NamedTuple

import jiwer
import sacrebleu

from speech.errors import SpeechError
from speech.io import STDIN, read_input


class ErrorRates(NamedTuple):
    """Word and character error rates (fractions, not percent) with their counts."""

    wer: float
    cer: float
    words: int
    word_errors: int
    chars: int
    char_errors: int
    sentences: int


class TranslationScores(NamedTuple):
    """Corpus BLEU and chrF (0–100, sacrebleu's scale) and the exact-match rate (0–1)."""

    bleu: float
    chrf: float
    exact_match: float
    sentences: int
    bleu_signature: str


def error_rates(references: Sequence[str], hypotheses: Sequence[str]) -> ErrorRates:
    """Corpus WER and CER (jiwer) of hypotheses against references.

    Empty references are allowed as long as at least one reference has words.

    Raises:
        ValueError: The sequences differ in length or all references are empty.
    """
    if len(references) != len(hypotheses):
        raise ValueError(f"{len(references)} references but {len(hypotheses)} hypotheses")
    if not any(r.strip() for r in references):
        raise ValueError("every reference is empty")
    words = jiwer.process_words(list(references), list(hypotheses))
    chars = jiwer.process_characters(list(references), list(hypotheses))
    n_words = words.hits + words.substitutions + words.deletions
    n_chars = chars.hits + chars.substitutions + chars.deletions
    word_errors = words.substitutions + words.deletions + words.insertions
    char_errors = chars.substitutions + chars.deletions + chars.insertions
    return ErrorRates(
        wer=word_errors / n_words,
        cer=char_errors / n_chars,
        words=n_words,
        word_errors=word_errors,
        chars=n_chars,
        char_errors=char_errors,
        sentences=len(references),
    )


def translation_scores(references: Sequence[str], hypotheses: Sequence[str]) -> TranslationScores:
    """Corpus BLEU and chrF with sacrebleu's defaults (13a tokenizer), plus exact matches."""
    if len(references) != len(hypotheses):
        raise ValueError(f"{len(references)} references but {len(hypotheses)} hypotheses")
    if not references:
        raise ValueError("no sentences to score")
    bleu = sacrebleu.metrics.BLEU()
    bleu_score = bleu.corpus_score(list(hypotheses), [list(references)])
    chrf = sacrebleu.metrics.CHRF().corpus_score(list(hypotheses), [list(references)])
    exact = sum(r.strip() == h.strip() for r, h in zip(references, hypotheses, strict=True))
    return TranslationScores(
        bleu=bleu_score.score,
        chrf=chrf.score,
        exact_match=exact / len(references),
        sentences=len(references),
        bleu_signature=str(bleu.get_signature()),
    )


#: The sentence costs of minimum risk training: word errors (MWER), or 1 - sentence BLEU or chrF / 100.
SENTENCE_COSTS = ("errors", "bleu", "chrf")


def sentence_costs(references: Sequence[str], hypotheses: Sequence[str], kind: str) -> list[float]:
    """One cost per (reference, hypothesis) pair, lower is better: what sequence training minimises.

    Args:
        references: Reference sentences.
        hypotheses: Hypotheses, one per reference.
        kind: ``"errors"``: word errors (substitutions, deletions and insertions; jiwer), the
            cost of minimum word error rate training; ``"bleu"``: 1 - sacrebleu's smoothed
            sentence BLEU / 100 (exponential smoothing, effective order); ``"chrf"``:
            1 - sentence chrF / 100.

    Raises:
        ValueError: Unknown ``kind`` or sequences of different lengths.
    """
    if len(references) != len(hypotheses):
        raise ValueError(f"{len(references)} references but {len(hypotheses)} hypotheses")
    if kind == "errors":
        return [float(_word_errors(r, h)) for r, h in zip(references, hypotheses, strict=True)]
    if kind == "bleu":
        metric = sacrebleu.metrics.BLEU(effective_order=True)
    elif kind == "chrf":
        metric = sacrebleu.metrics.CHRF()
    else:
        raise ValueError(f"unknown sentence cost {kind!r} (known: {', '.join(SENTENCE_COSTS)})")
    pairs = zip(references, hypotheses, strict=True)
    return [max(0.0, 1.0 - metric.sentence_score(h, [r]).score / 100) for r, h in pairs]


def _word_errors(reference: str, hypothesis: str) -> int:
    if not reference.split():  # jiwer refuses an empty reference: every hypothesis word is inserted
        return len(hypothesis.split())
    out = jiwer.process_words(reference, hypothesis)
    return out.substitutions + out.deletions + out.insertions


def translation_stats(references: Sequence[str], hypotheses: Sequence[str]) -> list[float]:
    """Sufficient statistics of :func:`translation_scores`: sums over sentences, so they add up.

    Statistics of parts of a corpus (DDP ranks, batches) summed element-wise give the corpus'
    statistics; :func:`scores_from_translation_stats` turns them into the corpus scores. Layout:
    ``[sentences, exact matches, *BLEU statistics, *chrF statistics]`` (sacrebleu's own).
    """
    hyps, refs = list(hypotheses), [list(references)]
    bleu = [
        sum(col) for col in zip(*sacrebleu.metrics.BLEU()._extract_corpus_statistics(hyps, refs), strict=True)
    ]
    chrf = [
        sum(col) for col in zip(*sacrebleu.metrics.CHRF()._extract_corpus_statistics(hyps, refs), strict=True)
    ]
    exact = sum(r.strip() == h.strip() for r, h in zip(references, hypotheses, strict=True))
    return [float(len(hyps)), float(exact), *map(float, bleu), *map(float, chrf)]


def scores_from_translation_stats(stats: Sequence[float]) -> TranslationScores:
    """Corpus scores from summed :func:`translation_stats` (equal to :func:`translation_scores`')."""
    n = int(stats[0])
    if n < 1:
        raise ValueError("no sentences to score")
    bleu, chrf = sacrebleu.metrics.BLEU(), sacrebleu.metrics.CHRF()
    bleu.num_refs = 1  # read by the signature: one reference per sentence, as in translation_stats
    n_bleu = 2 + 2 * bleu.max_ngram_order
    counts = [int(round(v)) for v in stats[2:]]
    return TranslationScores(
        bleu=bleu._compute_score_from_stats(counts[:n_bleu]).score,
        chrf=chrf._compute_score_from_stats(counts[n_bleu:]).score,
        exact_match=stats[1] / n,
        sentences=n,
        bleu_signature=str(bleu.get_signature()),
    )


"""The file name that reads standard input."""


def read_id_text(path: str | os.PathLike) -> dict[str, str]:
    """Read a file of ``id<TAB>text`` lines (text may be empty); ``-`` reads standard input.

    Raises:
        SpeechError: ``file:line: problem`` for a line without a tab, an empty or duplicate id,
            or bytes that are not UTF-8; ``file: problem`` for a missing, unreadable or empty file.
    """
    data, name = read_input(path)
    try:
        content = data.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        raise SpeechError(f"{name}:{line}: not UTF-8 text (byte {e.start})") from None
    entries: dict[str, str] = {}
    for number, line in enumerate(content.split("\n"), start=1):
        line = line.removesuffix("\r")
        if not line.strip():
            continue
        if "\t" not in line:
            raise SpeechError(f"{name}:{number}: expected 'id<TAB>text', got {line[:60]!r}")
        key, text = line.split("\t", 1)
        if not key.strip():
            raise SpeechError(f"{name}:{number}: empty id")
        if key in entries:
            raise SpeechError(f"{name}:{number}: duplicate id {key!r}")
        entries[key] = text.strip()
    if not entries:
        raise SpeechError(f"{name}: no 'id<TAB>text' lines")
    return entries


def paired(
    ref_path: str | os.PathLike, hyp_path: str | os.PathLike
) -> tuple[list[str], list[str], list[str]]:
    """Read a reference and a hypothesis file and pair them by id, in reference order.

    Either path (not both) may be ``-`` for standard input.

    Returns:
        ``(ids, references, hypotheses)``.

    Raises:
        SpeechError: Both are ``-``, a file is bad (see :func:`read_id_text`), or the hypothesis
            file lacks ids of the reference or has extra ones.
    """
    if str(ref_path) == STDIN and str(hyp_path) == STDIN:
        raise SpeechError("only one of --ref and --hyp can be '-' (standard input)")
    refs, hyps = read_id_text(ref_path), read_id_text(hyp_path)
    where = "<stdin>" if str(hyp_path) == STDIN else hyp_path
    missing = [k for k in refs if k not in hyps]
    if missing:
        raise SpeechError(f"{where}: {len(missing)} reference ids have no hypothesis (first: {missing[0]!r})")
    extra = [k for k in hyps if k not in refs]
    if extra:
        raise SpeechError(f"{where}: {len(extra)} ids are not in the reference (first: {extra[0]!r})")
    ids = list(refs)
    return ids, [refs[k] for k in ids], [hyps[k] for k in ids]
