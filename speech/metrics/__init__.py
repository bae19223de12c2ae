"""Metrics: WER/CER (jiwer), BLEU/chrF (sacrebleu), MCD (librosa), alignment health, intelligibility."""

from speech.metrics.alignment import AlignmentHealth, alignment_health
from speech.metrics.intelligibility import PocketsphinxRecognizer, intelligibility_wer, normalize_for_wer
from speech.metrics.mcd import mean_mcd, mel_cepstral_distortion
from speech.metrics.text import (
    ErrorRates,
    TranslationScores,
    error_rates,
    paired,
    read_id_text,
    scores_from_translation_stats,
    sentence_costs,
    translation_scores,
    translation_stats,
)

__all__ = [
    "AlignmentHealth",
    "ErrorRates",
    "PocketsphinxRecognizer",
    "TranslationScores",
    "alignment_health",
    "error_rates",
    "intelligibility_wer",
    "mean_mcd",
    "mel_cepstral_distortion",
    "normalize_for_wer",
    "paired",
    "read_id_text",
    "scores_from_translation_stats",
    "sentence_costs",
    "translation_scores",
    "translation_stats",
]
