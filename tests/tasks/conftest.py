"""A tiny real corpus (flite + espeak-ng), tokenizer and CMVN stats, made once per session."""

from __future__ import annotations

from pathlib import Path

import pytest

from data_prep.synthetic import MiniConfig, prepare_mini
from speech.features import LogMel, LogMelConfig, compute_cmvn_stats
from speech.tasks.train import train_tts
from speech.text import train_tokenizer_from_manifest
from speech.text.normalizer import TextNormalizer

SMOKE = [
    "model.listener.hidden_size=16",
    "model.listener.n_layers=2",
    "model.speller.embed_dim=8",
    "model.speller.hidden_size=32",
    "model.speller.attention_dim=16",
    "model.speller.location_filters=4",
    "model.speller.location_kernel=5",
    "trainer.num_threads=1",
    "data.max_seconds=20",
    "search.beam_size=2",
]


@pytest.fixture(scope="session")
def asr_data(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("asr_data")
    corpus = root / "corpus"
    prepare_mini(
        MiniConfig(
            out=corpus,
            train=8,
            dev=3,
            test=3,
            voices=("slt", "en-us+m3"),
            jobs=2,
            tts_train=0,
            tts_dev=0,
            tts_test=0,
        ),
        progress=False,
    )
    tokenizer = root / "tokenizer.json"
    train_tokenizer_from_manifest(corpus / "train.jsonl", output=tokenizer)
    cmvn = root / "cmvn.json"
    compute_cmvn_stats(corpus / "train.jsonl", LogMel(LogMelConfig.asr())).save(cmvn)
    return {
        "train": corpus / "train.jsonl",
        "dev": corpus / "dev.jsonl",
        "test": corpus / "test.jsonl",
        "tokenizer": tokenizer,
        "cmvn": cmvn,
        "corpus": corpus,
    }


def data_overrides(data: dict[str, Path]) -> list[str]:
    return [f"data.{k}={data[k]}" for k in ("train", "dev", "tokenizer", "cmvn")]


TTS_SMOKE = [
    "model.embedding_dim=16",
    "model.encoder_dim=16",
    "model.prenet_dims=[16, 16]",
    "model.attention_rnn_dim=32",
    "model.decoder_rnn_dim=32",
    "model.attention_dim=16",
    "model.location_filters=4",
    "model.location_kernel=5",
    "model.postnet_channels=16",
    "model.reduction_factor=3",
    "inference.max_frames_per_symbol=3",
    "trainer.num_threads=1",
    "data.max_seconds=12",
    "data.synth_items=2",
]


@pytest.fixture(scope="module")
def tts_data(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("tts_data")
    corpus = root / "corpus"
    prepare_mini(
        MiniConfig(out=corpus, train=0, dev=0, test=0, jobs=2, tts_train=6, tts_dev=2, tts_test=2),
        progress=False,
    )
    tokenizer = root / "tokenizer.json"
    train_tokenizer_from_manifest(
        corpus / "tts" / "train.jsonl", normalizer=TextNormalizer("en"), output=tokenizer
    )
    cmvn = root / "cmvn.json"
    compute_cmvn_stats(corpus / "tts" / "train.jsonl", LogMel(LogMelConfig.tts())).save(cmvn)
    return {
        "train": corpus / "tts" / "train.jsonl",
        "dev": corpus / "tts" / "dev.jsonl",
        "test": corpus / "tts" / "test.jsonl",
        "tokenizer": tokenizer,
        "cmvn": cmvn,
    }


def tts_overrides(data: dict[str, Path], *extra: str) -> list[str]:
    return TTS_SMOKE + [f"data.{k}={data[k]}" for k in ("train", "dev", "tokenizer", "cmvn")] + list(extra)


@pytest.fixture(scope="module")
def tts_model(tts_data, tmp_path_factory) -> Path:
    exp = tmp_path_factory.mktemp("tts_exp")
    return train_tts(None, exp, tts_overrides(tts_data, "trainer.max_steps=2", "trainer.log_every_n_steps=1"))
