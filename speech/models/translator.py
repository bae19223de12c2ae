"""The translator preset of the speech-to-text family (:mod:`speech.models.s2t`).

Direct speech translation (Bérard et al. 2016) with an auxiliary CTC loss over the source
transcript (Weiss et al. 2017) and an ASR-pretrained encoder (Bansal et al. 2019). These names
are kept for code written before ASR and ST became one family.
"""

from dataclasses import dataclass

from speech.models.s2t import S2TConfig, S2TLoss, SpeechToText


@dataclass
class TranslatorConfig(S2TConfig):
    """:class:`S2TConfig` whose CTC head predicts the source transcript (0 source tokens = no head)."""

    ctc_tokens: str = "source"


SpeechTranslator = SpeechToText
TranslatorLoss = S2TLoss

__all__ = ["SpeechTranslator", "TranslatorConfig", "TranslatorLoss"]
