"""Audio too short for the model is an AudioError naming the item, never a torch error (issue 12).

The minimum comes from the model: ``n`` samples give ``1 + n // hop`` log-mel frames and each
of the listener's ``n_pyramid`` layers halves them, so ``(2 ** n_pyramid - 1) * hop`` samples
are needed.
"""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf
import torch

from speech.errors import AudioError
from speech.inference import Transcriber, Translator
from tests.inference import tiny

HOP = 160  # the tiny models' 10 ms hop at 16 kHz


def _wave(n: int) -> torch.Tensor:
    return 0.1 * torch.randn(n, generator=torch.Generator().manual_seed(n))


@pytest.mark.parametrize(("n_pyramid", "conv_channels"), [(0, 0), (1, 0), (2, 0), (3, 0), (2, 2)])
def test_minimum_comes_from_the_model_and_is_exact(tmp_path, n_pyramid, conv_channels):
    path = tiny.asr_checkpoint(tmp_path / "asr.ckpt", n_pyramid=n_pyramid, conv_channels=conv_channels)
    transcriber = Transcriber.from_checkpoint(path)
    needed = max(1, (2**n_pyramid - 1) * HOP)
    assert transcriber.min_samples == needed
    assert len(transcriber.transcribe([_wave(needed)], beam_size=1)) == 1  # the shortest that decodes
    if needed > 1:
        with pytest.raises(AudioError, match=r"input 0 \(a waveform\): too short for this model"):
            transcriber.transcribe([_wave(needed - 1)], beam_size=1)


@pytest.mark.parametrize("samples", [0, 160, 320])  # 0, 10 and 20 ms: the examples
def test_too_short_waveform_names_the_item_and_the_minimum(checkpoints, samples):
    transcriber = Transcriber.from_checkpoint(checkpoints["asr"])
    with pytest.raises(AudioError) as error:
        transcriber.transcribe([_wave(8000), _wave(samples)], beam_size=1, batch_size=1)
    message = str(error.value)
    assert message == (
        f"input 1 (a waveform): too short for this model ({samples // 16} ms; needs at least 30 ms)"
    )


def test_too_short_file_names_the_file(checkpoints, tmp_path):
    short = tmp_path / "x.wav"
    sf.write(short, np.full(160, 0.01, dtype=np.float32), 16000)
    for runner in (
        Transcriber.from_checkpoint(checkpoints["asr"]),
        Translator.from_checkpoint(checkpoints["st"]),
    ):
        decode = runner.transcribe if isinstance(runner, Transcriber) else runner.translate
        with pytest.raises(
            AudioError, match=rf"^{short}: too short for this model \(10 ms; needs at least 30 ms\)$"
        ):
            decode([str(short)])


@pytest.mark.parametrize(
    ("item", "message"),
    [
        (torch.zeros(2, 8000), "expected a 1-D waveform"),
        (torch.full((8000,), float("nan")), "NaN or infinite"),
    ],
)
def test_unusable_waveforms_are_audio_errors(checkpoints, item, message):
    translator = Translator.from_checkpoint(checkpoints["st"])
    with pytest.raises(AudioError, match=message):
        translator.translate([item])
