"""Lightning tasks, one per model family; ``speech train TASK`` picks one from :data:`TASKS`."""

from __future__ import annotations

import importlib

#: What ``speech train TASK`` trains: the module, config class and Lightning task of each family
#: (imported on use, so that the command line starts fast and this package imports no Lightning).
#: ASR and ST are the two presets of the speech-to-text family.
TASKS: dict[str, tuple[str, str, str]] = {
    "asr": ("speech.tasks.s2t", "ASRConfig", "S2TTask"),
    "st": ("speech.tasks.s2t", "STConfig", "S2TTask"),
    "tts": ("speech.tasks.tts", "TTSConfig", "TTSTask"),
    "lm": ("speech.tasks.lm", "LMTrainConfig", "LMTask"),
    "vocoder": ("speech.tasks.vocoder", "VocoderConfig", "VocoderTask"),
}


def task_classes(task: str) -> tuple[type, type]:
    """The config class and the Lightning task class of ``task`` (a key of :data:`TASKS`)."""
    module, config, lightning_task = TASKS[task]
    module = importlib.import_module(module)
    return getattr(module, config), getattr(module, lightning_task)
