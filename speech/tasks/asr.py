"""The recognizer preset of the speech-to-text task (:mod:`speech.tasks.s2t`).

These names are kept for code written before ASR and ST became one family.
"""

from speech.tasks.s2t import ASRConfig, ASRDataConfig, S2TTask, ScheduledSampling, asr_stats

ASRTask = S2TTask

__all__ = ["ASRConfig", "ASRDataConfig", "ASRTask", "ScheduledSampling", "asr_stats"]
