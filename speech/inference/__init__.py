"""Inference from checkpoints: the speech-to-text runner, the Synthesizer and the neural vocoder."""

from speech.inference.s2t import S2TResult, S2TRunner, Transcriber, Transcript, Translation, Translator
from speech.inference.synthesizer import Synthesizer
from speech.inference.vocoder import NeuralVocoder

__all__ = [
    "NeuralVocoder",
    "S2TResult",
    "S2TRunner",
    "Synthesizer",
    "Transcriber",
    "Transcript",
    "Translation",
    "Translator",
]
