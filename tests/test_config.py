from dataclasses import dataclass, field

import pytest

from speech.config import apply_overrides, from_dict, load_config_yaml, load_yaml
from speech.errors import ConfigError
from speech.tasks.asr import ASRConfig


@dataclass
class Inner:
    size: int = 3
    rate: float = 0.5
    name: str | None = None


@dataclass
class Outer:
    inner: Inner = field(default_factory=Inner)
    flag: bool = False


def test_nested_dataclasses_and_int_to_float():
    cfg = from_dict(Outer, {"inner": {"size": 7, "rate": 1}, "flag": True})
    assert cfg.inner.size == 7 and cfg.inner.rate == 1.0 and isinstance(cfg.inner.rate, float) and cfg.flag


@dataclass
class WithPreset:
    inner: Inner = field(default_factory=lambda: Inner(size=9, name="preset"))


def test_partial_section_keeps_the_factory_preset():
    # e.g. ``features: {n_mels: 80}`` in a TTS config must keep the 22.05 kHz preset
    cfg = from_dict(WithPreset, {"inner": {"rate": 2}})
    assert cfg.inner == Inner(size=9, rate=2.0, name="preset")
    assert from_dict(WithPreset, {}).inner.name == "preset"


def test_tts_features_keep_the_tts_preset():
    from speech.features import LogMelConfig
    from speech.tasks.tts import TTSConfig

    cfg = from_dict(TTSConfig, {"features": {"n_mels": 80}})
    assert cfg.features == LogMelConfig.tts()


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        ({"inner": {"sise": 1}}, "conf.yaml: unknown key 'inner.sise'"),
        ({"inner": {"size": "big"}}, "'inner.size' must be int"),
        ({"flag": 1}, "'flag' must be bool"),
        ({"inner": 3}, "expected a mapping"),
    ],
)
def test_bad_values_name_the_key(data, problem):
    with pytest.raises(ConfigError, match=problem):
        from_dict(Outer, data, "conf.yaml")


def test_overrides_and_yaml_errors(tmp_path):
    data = apply_overrides({}, ["inner.size=9", "inner.name=abc", "flag=true"])
    assert from_dict(Outer, data) == Outer(Inner(9, 0.5, "abc"), True)
    with pytest.raises(ConfigError, match="must look like"):
        apply_overrides({}, ["nonsense"])
    bad = tmp_path / "bad.yaml"
    bad.write_text("a: [1, 2\n")
    with pytest.raises(ConfigError, match="bad.yaml:.*invalid YAML"):
        load_yaml(bad)
    with pytest.raises(ConfigError, match="no such config"):
        load_yaml(tmp_path / "missing.yaml")


def test_recipe_configs_load():
    from pathlib import Path

    from tests.recipe_configs import config_kind

    for path in Path("recipes").glob("*/asr/conf/*.yaml"):
        if config_kind(path) == "lm":
            continue
        cfg = from_dict(ASRConfig, load_config_yaml(path), str(path))
        assert cfg.model.listener.n_pyramid >= 1
