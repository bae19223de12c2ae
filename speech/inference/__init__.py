"""Inference from checkpoints: Transcriber (ASR), Translator (ST), Synthesizer (TTS)."""

from speech.inference.synthesizer import Synthesizer
from speech.inference.transcriber import Transcriber, Transcript
from speech.inference.translator import Translation, Translator

__all__ = ["Synthesizer", "Transcriber", "Transcript", "Translation", "Translator"]
