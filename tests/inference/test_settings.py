"""Settings given from Python are checked like CLI options: NaN, out of range and unknown devices
are one-line SpeechErrors (issue 12: ``--device auto``, ``--stop-threshold nan``, ``--lm-weight nan``).
"""

from __future__ import annotations

import math

import pytest
import torch

from speech.errors import SpeechError
from speech.inference import Transcriber, Translator
from speech.inference.common import check_device
from speech.inference.synthesizer import Synthesizer
from speech.inference.transcriber import load_lm

NO_CUDA = pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")


def test_auto_device_picks_cuda_when_there_is_one():
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert check_device("auto").type == expected
    assert check_device(" CPU ") == torch.device("cpu")


@pytest.mark.parametrize("device", ["tpu9", "cuda:x", "", "meta"])
def test_unknown_devices_are_one_line_errors(device):
    with pytest.raises(SpeechError, match="device"):
        check_device(device)


@NO_CUDA
@pytest.mark.parametrize("device", ["cuda", "cuda:1"])
def test_cuda_without_cuda_is_one_line_error(device):
    with pytest.raises(SpeechError, match="no CUDA device"):
        check_device(device)


def test_loaders_take_auto_and_refuse_bad_devices(checkpoints):
    assert Transcriber.from_checkpoint(checkpoints["asr"], device="auto").device == check_device("auto")
    with pytest.raises(SpeechError, match="unknown device"):
        Translator.from_checkpoint(checkpoints["st"], device="tpu9")
    with pytest.raises(SpeechError, match="unknown device"):
        Synthesizer.from_checkpoint(checkpoints["tts"], device="tpu9")


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"ctc_weight": math.nan}, "ctc_weight"),
        ({"ctc_weight": 1.0}, "ctc_weight"),
        ({"ctc_weight": -0.1}, "ctc_weight"),
        ({"lm_weight": math.nan}, "lm_weight"),
        ({"lm_weight": math.inf}, "lm_weight"),
        ({"lm_weight": -1.0}, "lm_weight"),
        ({"beam_size": 0}, "beam_size"),
        ({"beam_size": 2.5}, "beam_size"),
        ({"batch_size": 0}, "batch_size"),
    ],
)
def test_transcribe_settings_are_checked(checkpoints, kwargs, name):
    transcriber = Transcriber.from_checkpoint(checkpoints["asr"])
    with pytest.raises(SpeechError, match=name):
        transcriber.transcribe([torch.zeros(8000)], **kwargs)


def test_shallow_fusion_with_a_language_model(checkpoints):
    transcriber = Transcriber.from_checkpoint(checkpoints["asr"])
    lm = load_lm(checkpoints["lm"], transcriber.tokenizer, device="auto")
    result = transcriber.transcribe([torch.zeros(8000)], beam_size=2, lm=lm, lm_weight=0.5, ctc_weight=0.3)
    assert isinstance(result[0].text, str)
    scores = result[0].scores  # what each scorer contributed, as ESPnet reports it
    assert set(scores) == {"decoder", "ctc", "lm"} and all(v <= 0 for v in scores.values())
    alone = transcriber.transcribe([torch.zeros(8000)], beam_size=2, ctc_weight=0.0)[0].scores
    assert set(alone) == {"decoder"}


@pytest.mark.parametrize(
    ("changes", "name"),
    [
        ({"stop_threshold": math.nan}, "stop_threshold"),
        ({"stop_threshold": 1.5}, "stop_threshold"),
        ({"max_frames_per_symbol": math.inf}, "max_frames_per_symbol"),
        ({"max_frames_per_symbol": 0.0}, "max_frames_per_symbol"),
        ({"seed": -1}, "seed"),
        ({"seed": 1.5}, "seed"),
        ({"min_max_frames": 0}, "min_max_frames"),
        ({"bogus": 1}, "bogus"),
    ],
)
def test_with_inference_refuses_bad_values(checkpoints, changes, name):
    synth = Synthesizer.from_checkpoint(checkpoints["tts"], griffin_lim_iters=1)
    with pytest.raises(SpeechError, match=name):
        synth.with_inference(**changes)
    assert synth.with_inference(stop_threshold=0.6, seed=3).inference.stop_threshold == 0.6


def test_synthesizer_settings_are_checked(checkpoints):
    with pytest.raises(SpeechError, match="griffin_lim_iters"):
        Synthesizer.from_checkpoint(checkpoints["tts"], griffin_lim_iters=-1)
    synth = Synthesizer.from_checkpoint(checkpoints["tts"], griffin_lim_iters=1)
    with pytest.raises(SpeechError, match="pause"):
        synth.synthesize("hello", pause=math.nan)
