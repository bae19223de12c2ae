"""Entry points of ``speech train``: read a config, build a task, fit, export the model."""

from __future__ import annotations

import logging
import os
import warnings
from pathlib import Path

import lightning as L

from speech.config import apply_overrides, from_dict, load_yaml, save_yaml, to_dict
from speech.data import read_manifest
from speech.errors import ConfigError
from speech.features import CMVNStats
from speech.tasks.checkpoint import export_model
from speech.tasks.common import build_trainer, last_checkpoint
from speech.text import load_tokenizer


def load_config(cls, config_path: str | os.PathLike | None, overrides: list[str]):
    """Config dataclass ``cls`` from a YAML file plus ``key.sub=value`` overrides."""
    data = load_yaml(config_path) if config_path else {}
    apply_overrides(data, overrides)
    return from_dict(cls, data, str(config_path or "config"))


def train_asr(
    config_path: str | os.PathLike | None, exp_dir: str | os.PathLike, overrides: list[str] = ()
) -> Path:
    """Train (or resume) an ASR model; returns the exported ``exp_dir/model.ckpt``."""
    from speech.tasks.asr import ASRConfig, ASRTask

    config = load_config(ASRConfig, config_path, list(overrides))
    exp_dir = Path(exp_dir)
    _check_inputs(config.data.train, config.data.dev, config.data.tokenizer, config.data.cmvn)
    tokenizer = load_tokenizer(config.data.tokenizer)
    cmvn = CMVNStats.load(config.data.cmvn) if config.data.cmvn else None
    exp_dir.mkdir(parents=True, exist_ok=True)
    save_yaml(to_dict(config), exp_dir / "config.yaml")
    L.seed_everything(config.trainer.seed, workers=True, verbose=False)
    task = ASRTask(config, tokenizer, cmvn)
    return _fit(task, config.trainer, config.optim.grad_clip, exp_dir)


def train_lm(
    config_path: str | os.PathLike | None, exp_dir: str | os.PathLike, overrides: list[str] = ()
) -> Path:
    """Train (or resume) an RNN language model; returns the exported ``exp_dir/model.ckpt``."""
    from speech.tasks.lm import LMTask, LMTrainConfig

    config = load_config(LMTrainConfig, config_path, list(overrides))
    exp_dir = Path(exp_dir)
    _check_inputs(config.data.train, config.data.dev, config.data.tokenizer)
    tokenizer = load_tokenizer(config.data.tokenizer)
    exp_dir.mkdir(parents=True, exist_ok=True)
    save_yaml(to_dict(config), exp_dir / "config.yaml")
    L.seed_everything(config.trainer.seed, workers=True, verbose=False)
    return _fit(LMTask(config, tokenizer), config.trainer, config.optim.grad_clip, exp_dir)


def train_st(
    config_path: str | os.PathLike | None,
    exp_dir: str | os.PathLike,
    overrides: list[str] = (),
    init_encoder_from: str | os.PathLike | None = None,
) -> Path:
    """Train (or resume) a speech translator; returns the exported ``exp_dir/model.ckpt``.

    Args:
        config_path: YAML config (None = defaults).
        exp_dir: Experiment folder.
        overrides: ``key.sub=value`` overrides.
        init_encoder_from: ASR checkpoint for the encoder; overrides ``init.encoder_from``.
    """
    from speech.tasks.st import STConfig, STTask, init_encoder_from_asr

    config = load_config(STConfig, config_path, list(overrides))
    if init_encoder_from is not None:
        config.init.encoder_from = str(init_encoder_from)
    exp_dir = Path(exp_dir)
    d = config.data
    _check_inputs(d.train, d.dev, d.target_tokenizer, d.source_tokenizer, d.cmvn, config.init.encoder_from)
    source = load_tokenizer(d.source_tokenizer) if d.source_tokenizer else None
    if source is not None and not any(u.text.strip() for u in read_manifest(d.train)):
        print(f"{d.train}: no transcripts, training without the source CTC loss")
        source = None
    cmvn = CMVNStats.load(d.cmvn) if d.cmvn else None
    exp_dir.mkdir(parents=True, exist_ok=True)
    save_yaml(to_dict(config), exp_dir / "config.yaml")
    L.seed_everything(config.trainer.seed, workers=True, verbose=False)
    task = STTask(config, load_tokenizer(d.target_tokenizer), source, cmvn)
    if config.init.encoder_from and last_checkpoint(exp_dir) is None:
        init = init_encoder_from_asr(task, config.init.encoder_from)
        print(f"encoder initialised from {config.init.encoder_from}: {init.summary()}")
    return _fit(task, config.trainer, config.optim.grad_clip, exp_dir)


def train_tts(
    config_path: str | os.PathLike | None, exp_dir: str | os.PathLike, overrides: list[str] = ()
) -> Path:
    """Train (or resume) a Tacotron2 synthesizer; returns the exported ``exp_dir/model.ckpt``."""
    from speech.tasks.tts import TTSConfig, TTSTask

    config = load_config(TTSConfig, config_path, list(overrides))
    exp_dir = Path(exp_dir)
    d = config.data
    _check_inputs(d.train, d.dev, d.tokenizer, d.cmvn)
    speakers = None
    if d.multi_speaker:
        speakers = sorted({u.speaker or "" for u in read_manifest(d.train)})
        if speakers == [""]:
            raise ConfigError(f"{d.train}: data.multi_speaker is set but no utterance names a speaker")
    cmvn = CMVNStats.load(d.cmvn) if d.cmvn else None
    exp_dir.mkdir(parents=True, exist_ok=True)
    save_yaml(to_dict(config), exp_dir / "config.yaml")
    L.seed_everything(config.trainer.seed, workers=True, verbose=False)
    task = TTSTask(config, load_tokenizer(d.tokenizer), cmvn, speakers)
    return _fit(task, config.trainer, config.optim.grad_clip, exp_dir)


def _fit(task: L.LightningModule, trainer_config, grad_clip: float, exp_dir: Path) -> Path:
    _quiet_lightning()
    trainer = build_trainer(trainer_config, exp_dir, grad_clip, monitor="val/loss")
    resume = last_checkpoint(exp_dir)
    if resume is not None and trainer.is_global_zero:
        print(f"resuming from {resume}")
    trainer.fit(task, ckpt_path=resume)
    best = trainer.checkpoint_callback.best_model_path or str(last_checkpoint(exp_dir) or "")
    out = exp_dir / "model.ckpt"
    if trainer.is_global_zero and best:
        export_model(best, out)
    return out


def _check_inputs(*paths: str | None) -> None:
    for path in paths:
        if path and not Path(path).is_file():
            raise ConfigError(f"{path}: no such file (named in the config)")


def _quiet_lightning() -> None:
    warnings.filterwarnings("ignore", message=".*does not have many workers.*")
    warnings.filterwarnings("ignore", message=".*LeafSpec.*")
    # a resumed run appends to csv/metrics.csv; Lightning still warns that it would delete it
    warnings.filterwarnings("ignore", message=".*exists and is not empty.*")
    logging.getLogger("lightning.pytorch.utilities.rank_zero").setLevel(logging.WARNING)
