"""Inference from checkpoints: the speech-to-text runner (long-form too), the Synthesizer, the vocoder."""

from speech.inference.longform import LongFormConfig, Segment, Word, iter_segments
from speech.inference.s2t import S2TResult, S2TRunner, Transcriber, Transcript, Translation, Translator
from speech.inference.synthesizer import Synthesizer
from speech.inference.vocoder import NeuralVocoder

__all__ = [
    "LongFormConfig",
    "NeuralVocoder",
    "S2TResult",
    "S2TRunner",
    "Segment",
    "Synthesizer",
    "Transcriber",
    "Transcript",
    "Translation",
    "Translator",
    "Word",
    "iter_segments",
]
