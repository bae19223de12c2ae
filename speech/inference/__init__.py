"""Inference from checkpoints: the speech-to-text runner (Transcriber, Translator) and Synthesizer."""

from speech.inference.s2t import S2TResult, S2TRunner, Transcriber, Transcript, Translation, Translator
from speech.inference.synthesizer import Synthesizer

__all__ = ["S2TResult", "S2TRunner", "Synthesizer", "Transcriber", "Transcript", "Translation", "Translator"]
