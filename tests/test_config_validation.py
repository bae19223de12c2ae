"""Every config value is checked at load time, and the message names the dotted key (issue 12)."""

import dataclasses
import math
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml

from speech.config import ALLOW_NONFINITE, FieldError, apply_overrides, from_dict, load_config_yaml, load_yaml
from speech.errors import ConfigError
from speech.models.las import LASConfig
from speech.tasks.asr import ASRConfig
from speech.tasks.common import OptimConfig, TrainerConfig
from speech.tasks.lm import LMTrainConfig
from speech.tasks.st import STConfig
from speech.tasks.tts import TTSConfig
from speech.tasks.vocoder import VocoderConfig
from tests.recipe_configs import CLASSES, config_kind

ROOT = Path(__file__).resolve().parents[1]
TASKS = CLASSES


def load(cls, *overrides: str):
    return from_dict(cls, apply_overrides({}, list(overrides)), "conf.yaml")


# One bad value per class of problem: (config class, overrides, the key the message must name).
BAD = [
    # the issue's examples
    (ASRConfig, ["optim.lr=-1"], "optim.lr"),
    (ASRConfig, ["trainer.check_val_every_n_epoch=0"], "trainer.check_val_every_n_epoch"),
    (ASRConfig, ["model.listener.dropout=1.5"], "model.listener.dropout"),
    (ASRConfig, ["model.speller.hidden_size=-3"], "model.speller.hidden_size"),
    (ASRConfig, ["trainer.precision=fp8"], "trainer.precision"),
    (ASRConfig, ["trainer.accelerator=tpu9"], "trainer.accelerator"),
    (ASRConfig, ["trainer.max_steps=0"], "trainer.max_steps"),
    (ASRConfig, ["trainer.max_epochs=0"], "trainer.max_epochs"),
    (ASRConfig, ["trainer.max_minutes=-1"], "trainer.max_minutes"),
    # the rest of the trainer and the optimiser
    (ASRConfig, ["trainer.max_epochs=-1"], "trainer.max_epochs"),  # no limit at all
    (ASRConfig, ["trainer.strategy=fsdp"], "trainer.strategy"),
    (ASRConfig, ["trainer.devices=0"], "trainer.devices"),
    (ASRConfig, ["trainer.num_threads=-3"], "trainer.num_threads"),
    (ASRConfig, ["trainer.seed=-1"], "trainer.seed"),
    (ASRConfig, ["trainer.log_every_n_steps=0"], "trainer.log_every_n_steps"),
    (ASRConfig, ["trainer.checkpoint_every_n_steps=-5"], "trainer.checkpoint_every_n_steps"),
    (ASRConfig, ["optim.warmup_steps=-1"], "optim.warmup_steps"),
    (ASRConfig, ["optim.final_lr_ratio=0"], "optim.final_lr_ratio"),
    (ASRConfig, ["optim.final_lr_ratio=1.5"], "optim.final_lr_ratio"),
    (ASRConfig, ["optim.grad_clip=-1"], "optim.grad_clip"),
    # NaN and infinity, wherever a float is read
    (ASRConfig, ["optim.lr=.nan"], "optim.lr"),
    (ASRConfig, ["specaugment.mask_value=-.inf"], "specaugment.mask_value"),
    (TTSConfig, ["inference.stop_threshold=.nan"], "inference.stop_threshold"),
    # a list with a bad element, and a union the value fits no member of
    (TTSConfig, ["model.prenet_dims=[a, b]"], "model.prenet_dims[0]"),
    (TTSConfig, ["model.prenet_dims=[256, 0]"], "model.prenet_dims[1]"),
    (TTSConfig, ["model.prenet_dims=[]"], "model.prenet_dims"),
    (ASRConfig, ["trainer.precision=[32]"], "trainer.precision"),
    (ASRConfig, ["trainer.precision=32.5"], "trainer.precision"),
    (ASRConfig, ["data.max_batch_size=lots"], "data.max_batch_size"),
    # features, masking, search, model, data
    (ASRConfig, ["features.n_fft=256"], "features.win_length"),
    (ASRConfig, ["features.f_max=9000"], "features.f_max"),
    (ASRConfig, ["features.hop_length=0"], "features.hop_length"),
    (ASRConfig, ["specaugment.max_time_ratio=2"], "specaugment.max_time_ratio"),
    (ASRConfig, ["specaugment.n_time_masks=-1"], "specaugment.n_time_masks"),
    (ASRConfig, ["search.beam_size=0"], "search.beam_size"),
    (ASRConfig, ["search.nbest=20"], "search.nbest"),
    (ASRConfig, ["model.ctc_weight=1.0"], "model.ctc_weight"),
    (ASRConfig, ["model.label_smoothing=-0.1"], "model.label_smoothing"),
    (ASRConfig, ["model.listener.n_pyramid=5"], "model.listener.n_pyramid"),
    (ASRConfig, ["model.speller.location_kernel=4"], "model.speller.location_kernel"),
    (ASRConfig, ["scheduled_sampling.max_probability=1.5"], "scheduled_sampling.max_probability"),
    (ASRConfig, ["data.max_seconds=0"], "data.max_seconds"),
    (ASRConfig, ["data.num_workers=-1"], "data.num_workers"),
    (ASRConfig, ["data.train=''"], "data.train"),
    (STConfig, ["model.ctc_weight=1"], "model.ctc_weight"),
    (STConfig, ["init.encoder_from=''"], "init.encoder_from"),
    (TTSConfig, ["model.reduction_factor=6"], "model.reduction_factor"),
    (TTSConfig, ["model.encoder_dim=-2"], "model.encoder_dim"),
    (TTSConfig, ["loss.guided_decay=0"], "loss.guided_decay"),
    (TTSConfig, ["text.lang=xx"], "text.lang"),
    (TTSConfig, ["text.punctuation=loud"], "text.punctuation"),
    (TTSConfig, ["alignment_band=0"], "alignment_band"),
    (TTSConfig, ["data.synth_items=-1"], "data.synth_items"),
    (LMTrainConfig, ["data.field=speaker"], "data.field"),
    (LMTrainConfig, ["data.batch_size=0"], "data.batch_size"),
    (LMTrainConfig, ["model.n_layers=0"], "model.n_layers"),
    (VocoderConfig, ["data.segment_frames=1"], "data.segment_frames"),
    (VocoderConfig, ["data.batch_size=0"], "data.batch_size"),
    (VocoderConfig, ["model.kernel_size=4"], "model.kernel_size"),
    (VocoderConfig, ["discriminator.periods=[0]"], "discriminator.periods"),
    (VocoderConfig, ["discriminator.resolutions=[[512, 128, 1024]]"], "discriminator.resolutions"),
    (VocoderConfig, ["loss.mel_weight=-1"], "loss.mel_weight"),
    (VocoderConfig, ["optim.betas=[0.8, 1.5]"], "optim.betas"),
    (VocoderConfig, ["init_from=''"], "init_from"),
]


@pytest.mark.parametrize(("cls", "overrides", "key"), BAD, ids=[" ".join(o) for _, o, _ in BAD])
def test_a_bad_value_is_a_one_line_error_naming_its_key(cls, overrides, key):
    with pytest.raises(ConfigError) as info:
        load(cls, *overrides)
    message = str(info.value)
    assert message.startswith(f"conf.yaml: '{key}' "), message
    assert "\n" not in message


def test_the_issue_message_reads_as_promised():
    with pytest.raises(ConfigError, match=r"^conf\.yaml: 'optim\.lr' must be > 0, got -1$"):
        load(ASRConfig, "optim.lr=-1")
    with pytest.raises(ConfigError, match=r"'model\.prenet_dims\[0\]' must be int, got 'a'$"):
        load(TTSConfig, "model.prenet_dims=[a, b]")


@pytest.mark.parametrize(
    ("value", "stored"),
    [(32, "32-true"), ("32", "32-true"), (16, "16-mixed"), (64, "64-true"), ("bf16", "bf16-mixed")]
    + [(p, p) for p in ("32-true", "16-mixed", "bf16-mixed", "bf16-true", "16-true", "64-true")],
)
def test_every_lightning_precision_loads_as_its_long_name(value, stored):
    assert from_dict(TrainerConfig, {"precision": value}).precision == stored
    assert TrainerConfig(precision=value).precision == stored


def test_precision_32_from_yaml_and_overrides(tmp_path):
    conf = tmp_path / "conf.yaml"
    conf.write_text("trainer:\n  precision: 32\n")
    assert from_dict(ASRConfig, load_yaml(conf), str(conf)).trainer.precision == "32-true"
    assert load(ASRConfig, "trainer.precision=32").trainer.precision == "32-true"
    assert load(ASRConfig).trainer.precision is None  # picked from the accelerator later


def test_epochs_without_limit_need_a_step_limit():
    cfg = load(ASRConfig, "trainer.max_epochs=-1", "trainer.max_steps=100")
    assert (cfg.trainer.max_epochs, cfg.trainer.max_steps) == (-1, 100)


def test_a_dataclass_built_directly_names_its_class_and_field():
    with pytest.raises(FieldError, match=r"^'OptimConfig\.lr' must be > 0, got -1$") as info:
        OptimConfig(lr=-1)
    assert isinstance(info.value, ConfigError) and isinstance(info.value, ValueError)
    with pytest.raises(ConfigError, match=r"'OptimConfig\.lr' must be a finite number, got nan"):
        OptimConfig(lr=math.nan)
    # a checkpoint's nested mapping: the key inside the section is named
    with pytest.raises(ConfigError, match=r"^'S2TConfig\.listener\.dropout' must be in \[0, 1\), got 2$"):
        LASConfig(listener={"dropout": 2})
    with pytest.raises(ConfigError, match="'OptimConfig.warmup_steps' must be int"):
        OptimConfig(warmup_steps=2.5)


def test_dataclasses_replace_is_checked_too():
    with pytest.raises(ConfigError, match="'TrainerConfig.devices' must be >= 1, got 0"):
        dataclasses.replace(TrainerConfig(), devices=0)


@dataclass
class Typed:
    sizes: list[int] = field(default_factory=list)
    pair: tuple[float, float] = (0.0, 1.0)
    many: tuple[int, ...] = ()
    either: int | str = 0
    maybe: float | None = None
    unbounded: float = field(default=0.0, metadata={ALLOW_NONFINITE: True})


def test_list_and_tuple_elements_are_typed():
    cfg = from_dict(Typed, {"sizes": [1, 2], "pair": [1, 2], "many": [3, 4, 5]})
    assert cfg.sizes == [1, 2] and cfg.many == (3, 4, 5)
    assert cfg.pair == (1.0, 2.0) and all(isinstance(x, float) for x in cfg.pair)
    for data, problem in [
        ({"sizes": [1, True]}, r"'sizes\[1\]' must be int, got True"),
        ({"sizes": [1, "2"]}, r"'sizes\[1\]' must be int, got '2'"),
        ({"pair": [1.0]}, r"'pair' must have 2 items, got 1"),
        ({"pair": [1.0, "x"]}, r"'pair\[1\]' must be float, got 'x'"),
        ({"pair": [1.0, float("nan")]}, r"'pair\[1\]' must be a finite number"),
        ({"many": [1, 2.5]}, r"'many\[1\]' must be int, got 2.5"),
        ({"sizes": "12"}, r"'sizes' must be a list"),
    ]:
        with pytest.raises(ConfigError, match=problem):
            from_dict(Typed, data, "t.yaml")


def test_union_members_are_checked():
    assert from_dict(Typed, {"either": 3}).either == 3
    assert from_dict(Typed, {"either": "x"}).either == "x"
    assert from_dict(Typed, {"maybe": 2}).maybe == 2.0
    for value in (1.5, [1], None, True):
        with pytest.raises(ConfigError, match="'either' must be int or str, got"):
            from_dict(Typed, {"either": value})
    with pytest.raises(ConfigError, match="'maybe' must be float or null, got 'x'"):
        from_dict(Typed, {"maybe": "x"})


def test_non_finite_floats_only_where_a_field_opts_in():
    assert from_dict(Typed, {"unbounded": float("inf")}).unbounded == float("inf")
    for value in (float("inf"), float("-inf"), float("nan")):
        with pytest.raises(ConfigError, match="'maybe' must be a finite number"):
            from_dict(Typed, {"maybe": value})


def _config_dataclasses(cls, seen=None):
    """Every dataclass a top-level config reaches through its fields."""
    seen = set() if seen is None else seen
    if cls not in seen:
        seen.add(cls)
        for f in dataclasses.fields(cls):
            value = getattr(cls(), f.name)
            if dataclasses.is_dataclass(value):
                _config_dataclasses(type(value), seen)
    return seen


def test_every_config_dataclass_checks_its_values():
    reached = set().union(*(_config_dataclasses(cls) for cls in TASKS.values()))
    assert len(reached) >= 20
    for cls in reached:
        values = [getattr(cls(), f.name) for f in dataclasses.fields(cls)]
        if not all(dataclasses.is_dataclass(v) for v in values):  # holds values, not only sections
            assert hasattr(cls, "__post_init__"), f"{cls.__name__} has no __post_init__ checks"


@pytest.mark.parametrize("cls", list(TASKS.values()), ids=list(TASKS))
def test_defaults_load(cls):
    assert from_dict(cls, {}) == cls()


def test_every_shipped_recipe_config_loads():
    paths = sorted(ROOT.glob("recipes/*/*/conf/*.yaml"))
    assert len(paths) >= 10
    for path in paths:
        task = config_kind(path)
        assert task in TASKS, f"{path}: no config class for task '{task}'"
        cfg = from_dict(TASKS[task], load_config_yaml(path), str(path))
        assert cfg.trainer.precision in (None, "32-true", "bf16-mixed", "16-mixed")


def test_train_cli_rejects_a_bad_value_before_writing_anything(tmp_path, monkeypatch, capsys):
    from speech.cli.main import main

    monkeypatch.chdir(tmp_path)
    exp = tmp_path / "D"
    code = main(["train", "asr", "--exp-dir", str(exp), "--set", "optim.lr=-1"])
    err = capsys.readouterr().err
    assert code == 2
    assert len(err.splitlines()) == 1 and "'optim.lr' must be > 0" in err, err
    assert not exp.exists() or not any(exp.iterdir())
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # nothing left in the working folder either


@pytest.mark.parametrize(
    ("text", "value"), [("1e-4", 1e-4), ("5E-3", 5e-3), ("+2e+1", 20.0), ("1.5e-3", 1.5e-3)]
)
def test_exponent_floats_without_a_dot_load(text, value):
    """YAML 1.1 reads ``1e-4`` as a string; a float field still takes it, from overrides and files."""
    assert from_dict(OptimConfig, apply_overrides({}, [f"lr={text}"])).lr == pytest.approx(value)
    assert from_dict(OptimConfig, yaml.safe_load(f"lr: {text}")).lr == pytest.approx(value)


def test_non_numeric_strings_are_still_refused():
    with pytest.raises(ConfigError, match="'lr' must be float"):
        from_dict(OptimConfig, {"lr": "1e"})
    with pytest.raises(ConfigError, match="'lr' must be > 0"):
        from_dict(OptimConfig, {"lr": "-1e-3"})
