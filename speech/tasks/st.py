"""The translator preset of the speech-to-text task (:mod:`speech.tasks.s2t`).

These names are kept for code written before ASR and ST became one family.
"""

from speech.tasks.s2t import EncoderInit, InitConfig, S2TTask, STConfig, STDataConfig, init_encoder

STTask = S2TTask
init_encoder_from_asr = init_encoder

__all__ = ["EncoderInit", "InitConfig", "STConfig", "STDataConfig", "STTask", "init_encoder_from_asr"]
