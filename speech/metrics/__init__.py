"""Metrics: WER/CER (jiwer), BLEU/chrF (sacrebleu)."""

from speech.metrics.text import (
    ErrorRates,
    TranslationScores,
    error_rates,
    paired,
    read_id_text,
    translation_scores,
)

__all__ = ["ErrorRates", "TranslationScores", "error_rates", "paired", "read_id_text", "translation_scores"]
