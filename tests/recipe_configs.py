"""Which config class a shipped recipe config is: ``recipes/<corpus>/<task>/conf/<name>.yaml``."""

from pathlib import Path

from speech.tasks.asr import ASRConfig
from speech.tasks.lm import LMTrainConfig
from speech.tasks.st import STConfig
from speech.tasks.tts import TTSConfig

CLASSES = {"asr": ASRConfig, "st": STConfig, "tts": TTSConfig, "lm": LMTrainConfig}


def config_kind(path: Path) -> str:
    """The task folder's name, or ``lm`` for a recognizer's language model config (``lm*.yaml``)."""
    return "lm" if path.name.startswith("lm") else path.parent.parent.name


def config_class(path: Path) -> type:
    """The dataclass a recipe config loads into."""
    return CLASSES[config_kind(path)]
