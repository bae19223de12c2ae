"""Which config class a shipped recipe config is: ``recipes/<corpus>/<task>/conf/<name>.yaml``."""

from pathlib import Path

from speech.tasks.asr import ASRConfig
from speech.tasks.lm import LMTrainConfig
from speech.tasks.st import STConfig
from speech.tasks.tts import TTSConfig
from speech.tasks.vocoder import VocoderConfig

CLASSES = {"asr": ASRConfig, "st": STConfig, "tts": TTSConfig, "lm": LMTrainConfig, "vocoder": VocoderConfig}


def config_kind(path: Path) -> str:
    """The task folder's name; ``lm`` for a recognizer's language model config (``lm*.yaml``) and
    ``vocoder`` for a synthesizer's vocoder config (``vocoder*.yaml``)."""
    for kind in ("lm", "vocoder"):
        if path.name.startswith(kind):
            return kind
    return path.parent.parent.name


def config_class(path: Path) -> type:
    """The dataclass a recipe config loads into."""
    return CLASSES[config_kind(path)]
