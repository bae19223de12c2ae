"""The recognizer preset of the speech-to-text family (:mod:`speech.models.s2t`).

Listen, Attend and Spell (Chan et al. 2016) with a joint CTC head over the output tokens (Kim
et al. 2017). These names are kept for code written before ASR and ST became one family.
"""

from speech.models.s2t import CTCHead, S2TConfig, S2TLoss, SpeechToText

LASConfig = S2TConfig
"""The recognizer's config: :class:`S2TConfig` (its CTC head predicts the output tokens)."""

ListenAttendSpell = SpeechToText
LASLoss = S2TLoss

__all__ = ["CTCHead", "LASConfig", "LASLoss", "ListenAttendSpell"]
