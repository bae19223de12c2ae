import json

import pytest

from speech.errors import ConfigError
from speech.features import LogMelConfig


def test_asr_preset():
    c = LogMelConfig.asr()
    assert (c.sample_rate, c.n_fft, c.win_length, c.hop_length) == (16000, 512, 400, 160)
    assert (c.n_mels, c.power) == (80, 2.0)
    assert c.max_frequency == 8000.0 and c.f_max is None
    assert c.n_freqs == 257
    assert c.num_frames(16000) == 101


def test_tts_preset():
    c = LogMelConfig.tts()
    assert (c.sample_rate, c.n_fft, c.win_length, c.hop_length, c.n_mels) == (22050, 1024, 1024, 256, 80)
    assert (c.f_min, c.f_max, c.power) == (0.0, 8000.0, 1.0)


def test_preset_overrides():
    assert LogMelConfig.asr(n_mels=40).n_mels == 40
    with pytest.raises(ConfigError):
        LogMelConfig.tts(power=3.0)


@pytest.mark.parametrize("preset", [LogMelConfig.asr, LogMelConfig.tts])
def test_dict_round_trip_through_json(preset):
    c = preset()
    assert LogMelConfig.from_dict(json.loads(json.dumps(c.to_dict()))) == c


def test_ints_from_yaml_become_floats():
    c = LogMelConfig.from_dict({"f_max": 8000, "f_min": 20, "power": 1})
    assert isinstance(c.f_max, float) and isinstance(c.f_min, float) and c.power == 1.0


@pytest.mark.parametrize(
    "overrides",
    [
        {"win_length": 600},
        {"n_fft": 0},
        {"hop_length": 1.5},
        {"n_mels": True},
        {"n_mels": 300},
        {"power": 3.0},
        {"f_max": 9000.0},
        {"f_min": 8000.0},
        {"f_min": -1.0},
        {"log_floor": 0.0},
        {"mel_norm": "l2"},
        {"mel_scale": "bark"},
        {"f_max": "8000"},
    ],
)
def test_invalid_values_raise_config_error(overrides):
    with pytest.raises(ConfigError, match="LogMelConfig"):
        LogMelConfig.asr(**overrides)


def test_from_dict_rejects_unknown_keys_and_non_mappings():
    with pytest.raises(ConfigError, match="unknown field"):
        LogMelConfig.from_dict({"n_mel": 80})
    with pytest.raises(ConfigError):
        LogMelConfig.from_dict([1, 2])
