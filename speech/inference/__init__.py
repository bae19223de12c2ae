"""Inference from checkpoints: Transcriber (ASR)."""

from speech.inference.transcriber import Transcriber, Transcript

__all__ = ["Transcriber", "Transcript"]
