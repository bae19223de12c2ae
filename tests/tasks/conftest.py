"""A tiny real corpus (flite + espeak-ng), tokenizer and CMVN stats, made once per session."""

from __future__ import annotations

from pathlib import Path

import pytest

from data_prep.synthetic import MiniConfig, prepare_mini
from speech.features import LogMel, LogMelConfig, compute_cmvn_stats
from speech.text import train_tokenizer_from_manifest

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
