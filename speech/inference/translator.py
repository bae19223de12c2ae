"""Speech translation from a checkpoint: ``Translator.from_checkpoint(path).translate(files)``.

The translator preset of the speech-to-text runner in :mod:`speech.inference.s2t`.
"""

from speech.inference.longform import LongFormConfig, Segment, Word
from speech.inference.s2t import Translation, Translator

__all__ = ["LongFormConfig", "Segment", "Word", "Translation", "Translator"]
