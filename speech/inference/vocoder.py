"""Neural vocoder inference: ``NeuralVocoder.from_checkpoint(path)``, a :class:`~speech.features.Vocoder`."""

from __future__ import annotations

import dataclasses
import os

import torch
from torch import nn

from speech.errors import SpeechError
from speech.features import LogMelConfig, VocoderOutput
from speech.inference.common import check_device
from speech.inference.metadata import CheckpointMeta
from speech.models.vocoder import VocosGenerator


class NeuralVocoder(nn.Module):
    """A trained GAN vocoder (``speech train vocoder``): natural-log mels (B, T, F) to waveforms.

    Deterministic: ``generator`` (the random source of Griffin-Lim's phases) is accepted and unused.

    Args:
        generator_model: The generator network.
    """

    def __init__(self, generator_model: VocosGenerator) -> None:
        super().__init__()
        self.model = generator_model.eval()

    @property
    def features(self) -> LogMelConfig:
        """The front end whose features it inverts."""
        return self.model.features

    @property
    def sample_rate(self) -> int:
        """Sample rate of the output in Hz."""
        return self.model.sample_rate

    @torch.no_grad()
    def forward(
        self,
        log_mel: torch.Tensor,
        frame_lengths: torch.Tensor | None = None,
        generator: torch.Generator | None = None,
    ) -> VocoderOutput:
        """Waveforms ``(B, (T - 1) * hop)`` and lengths ``(frame_lengths - 1) * hop``."""
        return self.model(log_mel.to(self.model.window.device), frame_lengths)

    @classmethod
    def from_checkpoint(
        cls,
        path: str | os.PathLike,
        device: str | torch.device = "cpu",
        features: LogMelConfig | None = None,
    ) -> NeuralVocoder:
        """Load a vocoder checkpoint (training or exported).

        Args:
            path: The checkpoint.
            device: ``auto``, ``cpu``, ``cuda`` or ``cuda:N``.
            features: The front end of the mels it will be given (a TTS model's); it must equal the
                vocoder's own.

        Raises:
            SpeechError: One line naming the file: missing, not a vocoder, bad metadata, weights
                that do not fit, or mel features that differ from ``features``.
        """
        device = check_device(device)
        meta = CheckpointMeta(path, "vocoder")
        info = meta.info
        if features is not None and info.features != features:
            raise SpeechError(
                f"{path}: the vocoder's mel features differ from the TTS model's "
                f"({features_difference(info.features, features)})"
            )
        meta.check_match("model.n_mels", info.model.n_mels, "features.n_mels", info.features.n_mels)
        model = meta.load_weights(
            meta.build(lambda c: VocosGenerator(c, info.features), info.model), "generator"
        )
        return cls(model).to(device)

    def extra_repr(self) -> str:
        """Summary shown by ``repr(module)``."""
        return f"sample_rate={self.sample_rate}"


def features_difference(a: LogMelConfig, b: LogMelConfig) -> str:
    """The fields where two front ends differ, as ``name a vs b`` (empty when they are equal)."""
    return ", ".join(
        f"{f.name} {getattr(a, f.name)} vs {getattr(b, f.name)}"
        for f in dataclasses.fields(a)
        if getattr(a, f.name) != getattr(b, f.name)
    )
