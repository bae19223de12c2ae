"""Speech recognition from a checkpoint: ``Transcriber.from_checkpoint(path).transcribe(files)``.

The recognizer preset of the speech-to-text runner in :mod:`speech.inference.s2t`.
"""

from speech.inference.common import AudioInput
from speech.inference.longform import LongFormConfig, Segment, Word
from speech.inference.metadata import model_state
from speech.inference.s2t import Transcriber, Transcript, load_lm

__all__ = [
    "LongFormConfig",
    "Segment",
    "Word",
    "AudioInput",
    "Transcriber",
    "Transcript",
    "load_lm",
    "model_state",
]
