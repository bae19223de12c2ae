"""Inference from checkpoints: Transcriber (ASR), Translator (ST)."""

from speech.inference.transcriber import Transcriber, Transcript
from speech.inference.translator import Translation, Translator

__all__ = ["Transcriber", "Transcript", "Translation", "Translator"]
